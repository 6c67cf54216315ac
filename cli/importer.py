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

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from claimledger.api.schemas.statements import StatementCreate
from claimledger.cli import lines as fmt
from claimledger.cli.changes import change_of
from claimledger.cli.held import expected_fields, recorded
from claimledger.cli.held import is_new as held_is_new
from claimledger.cli.reading import ImportFailed, Numbered, batches, read_lines
from claimledger.domain.archive import (
    RecordRefused,
    latest_recorded_at,
    record_changes,
    refuse_before,
)
from claimledger.domain.claim import Claim
from claimledger.domain.errors import DomainError
from claimledger.domain.incident import Incident
from claimledger.domain.receipts import StatementRequest
from claimledger.domain.source import Source
from claimledger.domain.statement import StatementDraft
from claimledger.projections import garbage
from claimledger.runtime.writer import Writer
from claimledger.store import events
from claimledger.store.db import Pool
from claimledger.store.recorder import keeping

T = TypeVar("T")

_INDEX = re.compile(r"^statements\[(\d+)\]")


@dataclass
class Imported:
    """What an import did: records new and skipped (already recorded), and the last line of the
    last batch saved."""

    new: int = 0
    skipped: int = 0
    seconds: float = 0.0
    by_type: dict[str, int] = field(default_factory=dict)
    saved_through: int = 0


@dataclass
class _Run:
    writer: Writer
    pool: Pool
    recorded_by: UUID
    keep: bool
    matched: set[tuple[UUID, int]] = field(default_factory=set)
    occurrences: fmt.Occurrences = field(default_factory=fmt.Occurrences)
    latest: datetime | None = None


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
    was saved before a line stopped the import."""
    started = time.monotonic()
    result = done if done is not None else Imported()
    run = _Run(writer, pool, recorded_by, keep_recorded_at)
    clock_skew = writer.ledger.clock_skew
    for batch in batches(
        read_lines(path, keep_recorded_at=keep_recorded_at, clock_skew=clock_skew)
    ):
        if keep_recorded_at:
            run.latest = await writer.run(latest_recorded_at, writer.ledger)
        first = batch[0][1]
        if isinstance(first, fmt.ENTITY_LINES):
            new = await _save_entities(run, batch)
        elif isinstance(first, fmt.StatementLine):
            new = await _save_statements(run, batch)
        else:
            new = await _save_changes(run, batch)
        for (_, line), fresh in zip(batch, new, strict=True):
            if fresh:
                result.by_type[fmt.kind_of(line)] = result.by_type.get(fmt.kind_of(line), 0) + 1
        result.new += sum(new)
        result.skipped += len(new) - sum(new)
        result.saved_through = batch[-1][0]
        garbage.between_batches()
        if progress is not None:
            progress(result.new + result.skipped)
    result.seconds = time.monotonic() - started
    return result


# -- sources, incidents and claims ---------------------------------------------------------------


async def _save_entities(run: _Run, batch: list[Numbered]) -> list[bool]:
    built: list[tuple[int, Any, Source | Incident | Claim, dict[str, Any]]] = []
    for number, line in batch:
        try:
            aggregate = _aggregate(line, run)
        except (fmt.LineRefused, DomainError) as error:
            raise ImportFailed(number, _detail(error)) from None
        (event,) = aggregate.pending_events
        built.append((number, line, aggregate, expected_fields(vars(event), line, run.keep)))
    held = await recorded(run.pool, run.writer.ledger, [a.id for _, _, a, _ in built])
    new: list[bool] = []
    saving: list[Source | Incident | Claim] = []
    for number, line, aggregate, expected in built:
        is_new = held_is_new(number, fmt.kind_of(line), aggregate.id, expected, held)
        new.append(is_new)
        if is_new:
            held[aggregate.id] = aggregate.pending_events[0]
            saving.append(aggregate)
    if not saving:
        return new
    await _require_incidents(run, built, new)
    _not_before(
        run, [(n, line) for (n, line, _, _), fresh in zip(built, new, strict=True) if fresh]
    )
    try:
        await _saved(run, run.writer.ledger.create, saving)
    except DomainError as error:
        raise ImportFailed(
            batch[0][0], f"{error} (a batch of lines {batch[0][0]}-{batch[-1][0]})"
        ) from None
    return new


def _aggregate(line: Any, run: _Run) -> Source | Incident | Claim:
    by = line.recorded_by or run.recorded_by
    at = line.recorded_at
    if isinstance(line, fmt.SourceLine):
        return Source.register(
            name=line.name,
            kind=line.kind,
            affiliation=line.affiliation,
            channels=tuple(line.channels),
            url=line.url,
            recorded_by=by,
            source_id=fmt.record_id(line, run.occurrences),
            recorded_at=at,
        )
    if isinstance(line, fmt.IncidentLine):
        return Incident.open(
            line.draft(),
            recorded_by=by,
            incident_id=fmt.record_id(line, run.occurrences),
            recorded_at=at,
        )
    return Claim.add(
        incident_id=line.incident_id,
        text=line.text,
        recorded_by=by,
        claim_id=fmt.record_id(line, run.occurrences),
        recorded_at=at,
    )


async def _require_incidents(
    run: _Run, built: list[tuple[int, Any, Any, Any]], new: list[bool]
) -> None:
    in_batch = {a.id for _, line, a, _ in built if isinstance(line, fmt.IncidentLine)}
    wanted = [
        (number, line.incident_id)
        for (number, line, _, _), fresh in zip(built, new, strict=True)
        if fresh and isinstance(line, fmt.ClaimLine) and line.incident_id not in in_batch
    ]
    found = await events.existing(run.pool, {i for _, i in wanted}, topic=events.INCIDENT_OPENED)
    for number, incident_id in wanted:
        if incident_id not in found:
            raise ImportFailed(number, f"incident {incident_id} does not exist")


# -- statements ----------------------------------------------------------------------------------


async def _save_statements(run: _Run, batch: list[Numbered]) -> list[bool]:
    requests: list[tuple[int, StatementRequest, dict[str, Any]]] = []
    for number, line in batch:
        assert isinstance(line, fmt.StatementLine)
        try:
            request = _request(line, run.occurrences)
        except fmt.LineRefused as error:
            raise ImportFailed(number, str(error)) from None
        content = {"claim_id": line.claim_id, **fmt.fields_of(request.draft, _DRAFT_FIELDS)}
        requests.append((number, request, expected_fields(content, line, run.keep)))
    held = await recorded(
        run.pool, run.writer.ledger, [r.statement_id for _, r, _ in requests if r.statement_id]
    )
    new: list[bool] = []
    saving: list[tuple[int, StatementRequest]] = []
    for (number, request, expected), (_, line) in zip(requests, batch, strict=True):
        assert request.statement_id is not None
        assert isinstance(line, fmt.StatementLine)
        is_new = held_is_new(
            number, "statement", request.statement_id, expected, held, key=line.idempotency_key
        )
        new.append(is_new)
        if is_new:
            held[request.statement_id] = expected
            saving.append((number, request))
    if not saving:
        return new
    first_new = new.index(True)
    _not_before(run, [batch[first_new]])
    try:
        chosen = [request for _, request in saving]
        await run.writer.warm(
            {r.claim_id for r in chosen},
            {r.draft.source_id for r in chosen}
            | {r.draft.via_source_id for r in chosen if r.draft.via_source_id},
        )
        await _saved(
            run,
            run.writer.ledger.record_statements,
            chosen,
            recorded_by=run.recorded_by,
        )
    except DomainError as error:
        found = _INDEX.match(error.field or "")
        number = saving[int(found.group(1))][0] if found else batch[0][0]
        raise ImportFailed(number, error.detail) from None
    return new


_DRAFT_FIELDS = tuple(StatementDraft.__dataclass_fields__)


def _request(line: fmt.StatementLine, occurrences: fmt.Occurrences) -> StatementRequest:
    fingerprint = line.request_digest
    if fingerprint is None and line.idempotency_key is not None:
        body = StatementCreate(**fmt.fields_of(line, StatementCreate.__struct_fields__))
        fingerprint = body.fingerprint(line.claim_id)
    return StatementRequest(
        claim_id=line.claim_id,
        # (A line is a request body with more fields: its draft takes the body's alone.)
        draft=line.draft(),
        fingerprint=fingerprint,
        statement_id=fmt.record_id(line, occurrences),
        recorded_at=line.recorded_at,
        recorded_by=line.recorded_by,
    )


# -- ratings, revisions, verdicts and withdrawals -------------------------------------------------


async def _save_changes(run: _Run, batch: list[Numbered]) -> list[bool]:
    changes = []
    for number, line in batch:
        try:
            changes.append(change_of(line, recorded_by=run.recorded_by, keep=run.keep))
        except fmt.LineRefused as error:
            raise ImportFailed(number, str(error)) from None
    try:
        return await _saved(
            run,
            record_changes,
            run.writer.ledger,
            changes,
            matched=run.matched,
            not_before=run.latest,
        )
    except RecordRefused as error:
        raise ImportFailed(batch[error.index][0], error.detail) from None
    except DomainError as error:
        raise ImportFailed(
            batch[0][0], f"{error} (a batch of lines {batch[0][0]}-{batch[-1][0]})"
        ) from None


async def _saved(run: _Run, command: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """A saving command run off the event loop; with kept moments, checked again under the
    event table's lock against writers that go on beside the import."""
    if run.keep:
        return await run.writer.run(keeping, command, *args, **kwargs)
    return await run.writer.run(command, *args, **kwargs)


def _not_before(run: _Run, new: list[tuple[int, fmt.Line]]) -> None:
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


def _detail(error: Exception) -> str:
    return error.detail if isinstance(error, DomainError) else str(error)
