"""``claimledger export FILE.ndjson``: the whole ledger, in position order, in the import format.

Every line carries its record's ids, ``recorded_at`` and ``recorded_by``, so importing the file
with ``--keep-recorded-at`` into an empty ledger gives the same answers to every read, as known
at any moment. The file is written beside its final name and renamed when complete; ``-``
writes to standard output.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import msgspec

from claimledger.cli.failures import EXIT_USAGE, CommandFailed
from claimledger.cli.held import Stored
from claimledger.domain.claim import ClaimAdded, ClaimVerdictGiven
from claimledger.domain.incident import IncidentOpened, IncidentRevised
from claimledger.domain.ledger import Ledger
from claimledger.domain.source import SourceRated, SourceRegistered
from claimledger.domain.statement import StatementRecorded, StatementWithdrawn
from claimledger.store import events
from claimledger.store.db import Pool

_PAGE = 5000
_encode = msgspec.json.Encoder().encode
_DESCRIPTION = (
    "title",
    "summary",
    "place",
    "occurred_from",
    "occurred_to",
    "occurred_precision",
    "tags",
)
_STATEMENT = (
    "claim_id",
    "source_id",
    "stance",
    "published_at",
    "quote",
    "language",
    "url",
    "channel",
    "via_source_id",
    "evidence",
    "credibility",
)


class ExportFailed(ValueError):
    """An event the import format has no line for."""


@dataclass(frozen=True, slots=True)
class Exported:
    records: int
    seconds: float


def line_of(event: Any) -> dict[str, Any]:
    """The import line of one event."""
    kind = type(event)
    own = event.originator_id
    if kind is SourceRegistered:
        fields = {"type": "source", "id": own, **_pick(event, ("name", "kind", "affiliation"))}
        fields |= {"channels": list(event.channels), "url": event.url}
    elif kind is SourceRated:
        fields = {"type": "source_rating", "source_id": own}
        fields |= _pick(event, ("reliability", "rationale"))
    elif kind is IncidentOpened:
        fields = {"type": "incident", "id": own, **_pick(event, _DESCRIPTION)}
    elif kind is IncidentRevised:
        fields = {"type": "incident_revision", "incident_id": own, **_pick(event, _DESCRIPTION)}
    elif kind is ClaimAdded:
        fields = {"type": "claim", "id": own, **_pick(event, ("incident_id", "text"))}
    elif kind is ClaimVerdictGiven:
        fields = {"type": "verdict", "claim_id": own, **_pick(event, ("verdict", "rationale"))}
    elif kind is StatementRecorded:
        fields = {"type": "statement", "id": own, **_pick(event, _STATEMENT)}
        fields["request_digest"] = event.fingerprint
    elif kind is StatementWithdrawn:
        fields = {"type": "withdrawal", "statement_id": own, "reason": event.reason}
    else:
        msg = f"the import format has no line for {kind.__name__} events"
        raise ExportFailed(msg)
    fields |= {"recorded_at": event.timestamp, "recorded_by": event.recorded_by}
    line: dict[str, Any] = _without_nulls(msgspec.to_builtins(fields))
    return line


def _pick(event: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(event, name) for name in names}


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_without_nulls(v) for v in value]
    return value


async def export_file(
    pool: Pool, ledger: Ledger, path: Path, *, progress: Callable[[int], None] | None = None
) -> Exported:
    """Write every event up to the newest one at the start, in position order."""
    started = time.monotonic()
    head = await events.head_position(pool)
    records = 0
    with _output(path) as write:
        after = 0
        while after < head:
            rows = await pool.fetch(events.EVENTS_BETWEEN, after, head, _PAGE)
            if not rows:
                break
            for row in rows:
                stored = Stored(
                    row["originator_id"], row["originator_version"], row["topic"], row["state"]
                )
                event = ledger.mapper.to_domain_event(stored)  # type: ignore[arg-type]
                write(_encode(line_of(event)) + b"\n")
            records += len(rows)
            after = rows[-1]["notification_id"]
            if progress is not None:
                progress(records)
    return Exported(records=records, seconds=time.monotonic() - started)


@contextmanager
def _output(path: Path) -> Iterator[Callable[[bytes], object]]:
    """A function writing to ``path`` (``-``: standard output); a file that cannot be written is
    a failure naming it, and a file is only in place once complete."""
    if str(path) == "-":
        yield sys.stdout.buffer.write
        sys.stdout.buffer.flush()
        return
    partial = path.with_name(f".{path.name}.partial")
    try:
        with _failing_as_usage(path):
            out: IO[bytes] = partial.open("wb")
        with out:

            def write(data: bytes) -> object:
                with _failing_as_usage(path):
                    return out.write(data)

            yield write
            with _failing_as_usage(path):
                out.flush()
                os.fsync(out.fileno())
        with _failing_as_usage(path):
            partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


@contextmanager
def _failing_as_usage(path: Path) -> Iterator[None]:
    try:
        yield
    except OSError as error:
        detail = error.strerror or str(error)
        raise CommandFailed(f"cannot write {path}: {detail}", EXIT_USAGE) from None
