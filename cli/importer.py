"""``claimledger import FILE.ndjson``: load many records through the application, in batches.

The format is in ``cli.lines``. Consecutive lines that create sources, incidents and claims are
saved together, and so are consecutive lines of any other one type, up to 1,000 per transaction.
A line the ledger holds already with the same content is skipped, so a file can be imported again;
one whose id the ledger holds with other content stops the import there, with its line number,
after the batches before it.

With ``keep_recorded_at`` every line carries the moment the ledger learned it (``recorded_at``),
and the records are written at those moments: they must not go back in time through the file,
lie in the future or before the latest moment the ledger holds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import anyio

from claimledger.cli import import_kinds
from claimledger.cli import lines as fmt
from claimledger.cli.import_run import ImportRun
from claimledger.cli.reading import Numbered, batches, read_lines
from claimledger.domain.archive import latest_recorded_at
from claimledger.projections import garbage
from claimledger.runtime.writer import Writer
from claimledger.store.db import Pool


@dataclass
class Imported:
    """What an import did: records new and skipped (already recorded), and the last line of the
    last batch saved."""

    new: int = 0
    skipped: int = 0
    seconds: float = 0.0
    by_type: dict[str, int] = field(default_factory=dict)
    saved_through: int = 0


@dataclass(frozen=True, slots=True)
class _Built:
    """A batch of lines of one kind, and what they became (``import_kinds.build``)."""

    batch: list[Numbered]
    items: list[Any]


async def import_file(
    writer: Writer,
    pool: Pool,
    path: Path,
    *,
    recorded_by: UUID,
    keep_recorded_at: bool = False,
    progress: Callable[[int], None] | None = None,
    done: Imported | None = None,
) -> Imported:
    """Import the file; ``done`` (when given) is kept up to date, so that a caller knows what
    was saved before a line stopped the import.

    A batch is read and built in a thread while the batch before it is saved, whose save waits
    on PostgreSQL for much of its time. What a batch holds already is asked only once the
    batches before it are saved, and a line that cannot be read stops the import after them."""
    started = time.monotonic()
    result = done if done is not None else Imported()
    run = ImportRun(writer, pool, recorded_by, keep_recorded_at)
    clock_skew = writer.ledger.clock_skew
    source = batches(read_lines(path, keep_recorded_at=keep_recorded_at, clock_skew=clock_skew))
    built = await anyio.to_thread.run_sync(_build_next, run, source)
    while built is not None:
        new, following = await asyncio.gather(
            _save(run, built),
            anyio.to_thread.run_sync(_build_next, run, source),
            return_exceptions=True,
        )
        if isinstance(new, BaseException):
            raise new
        _count(result, built.batch, new)
        garbage.between_batches()
        if progress is not None:
            progress(result.new + result.skipped)
        if isinstance(following, BaseException):
            raise following
        built = following
    result.seconds = time.monotonic() - started
    return result


def _build_next(run: ImportRun, source: Iterator[list[Numbered]]) -> _Built | None:
    batch = next(source, None)
    return None if batch is None else _Built(batch, import_kinds.build(run, batch))


async def _save(run: ImportRun, built: _Built) -> list[bool]:
    if run.keep:
        run.latest = await run.writer.run(latest_recorded_at, run.writer.ledger)
    return await import_kinds.save(run, built.batch, built.items)


def _count(result: Imported, batch: list[Numbered], new: list[bool]) -> None:
    for (_, line), fresh in zip(batch, new, strict=True):
        if fresh:
            result.by_type[fmt.kind_of(line)] = result.by_type.get(fmt.kind_of(line), 0) + 1
    result.new += sum(new)
    result.skipped += len(new) - sum(new)
    result.saved_through = batch[-1][0]
