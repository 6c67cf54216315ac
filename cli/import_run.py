"""An import under way: what its batches share, and how each of them is saved."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from claimledger.cli import lines as fmt
from claimledger.cli.reading import ImportFailed
from claimledger.domain.archive import refuse_before
from claimledger.domain.errors import DomainError
from claimledger.runtime.writer import Writer
from claimledger.store.db import Pool
from claimledger.store.recorder import keeping

T = TypeVar("T")


@dataclass
class ImportRun:
    """What the batches of one import share: the writer, who records, whether the lines' moments
    are kept, the changes matched already, repeated lines seen, and the ledger's latest moment."""

    writer: Writer
    pool: Pool
    recorded_by: UUID
    keep: bool
    matched: set[tuple[UUID, int]] = field(default_factory=set)
    occurrences: fmt.Occurrences = field(default_factory=fmt.Occurrences)
    latest: datetime | None = None


async def saved(run: ImportRun, command: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """A saving command run off the event loop; with kept moments, checked again under the
    event table's lock against writers that go on beside the import."""
    if run.keep:
        return await run.writer.run(keeping, command, *args, **kwargs)
    return await run.writer.run(command, *args, **kwargs)


def not_before(run: ImportRun, new: list[tuple[int, fmt.Line]]) -> None:
    """The first new record of a batch may not be learned before the ledger's latest moment
    (the file is in order, so neither may the others)."""
    if run.latest is None or not new:
        return
    number, line = new[0]
    if line.recorded_at is not None:
        try:
            refuse_before(line.recorded_at, run.latest)
        except DomainError as error:
            raise ImportFailed(number, error.detail) from None


def detail(error: Exception) -> str:
    return error.detail if isinstance(error, DomainError) else str(error)
