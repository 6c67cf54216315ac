"""The kinds of batch an import saves: sources, incidents and claims together; statements; the
changes to records that exist (ratings, revisions, verdicts, withdrawals). A batch is first built
from its lines alone (``build``), then checked against the ledger and saved (``save``).

Records are stamped as their events are made: statements and changes as they are saved, and so
sources, incidents and claims too (their building makes their events), for a batch built while
the one before it is saved never to be stamped before it.
"""

from __future__ import annotations

import re
from typing import Any

from claimledger.api.schemas.statements import StatementCreate
from claimledger.cli import lines as fmt
from claimledger.cli.changes import change_of
from claimledger.cli.held import expected_fields, recorded
from claimledger.cli.held import is_new as held_is_new
from claimledger.cli.import_run import ImportRun, detail, not_before, saved
from claimledger.cli.reading import ImportFailed, Numbered
from claimledger.domain.archive import Change, RecordRefused, record_changes
from claimledger.domain.claim import Claim
from claimledger.domain.errors import DomainError
from claimledger.domain.incident import Incident
from claimledger.domain.receipts import StatementRequest
from claimledger.domain.source import Source
from claimledger.domain.statement import StatementDraft
from claimledger.store import events

_INDEX = re.compile(r"^statements\[(\d+)\]")


def build(run: ImportRun, batch: list[Numbered]) -> list[Any]:
    """What the batch's lines become, asking no database (a bad line raises ``ImportFailed``)."""
    first = batch[0][1]
    if isinstance(first, fmt.ENTITY_LINES):
        return []
    if isinstance(first, fmt.StatementLine):
        return _requests(run, batch)
    return _changes(run, batch)


async def save(run: ImportRun, batch: list[Numbered], built: list[Any]) -> list[bool]:
    """Save what ``build`` made of the batch; for each line, whether it was new."""
    first = batch[0][1]
    if isinstance(first, fmt.ENTITY_LINES):
        return await _save_entities(run, batch)
    if isinstance(first, fmt.StatementLine):
        return await _save_statements(run, batch, built)
    return await _save_changes(run, batch, built)


# -- sources, incidents and claims ---------------------------------------------------------------

_Entity = tuple[int, Any, Source | Incident | Claim, dict[str, Any]]


def _entities(run: ImportRun, batch: list[Numbered]) -> list[_Entity]:
    built: list[_Entity] = []
    for number, line in batch:
        try:
            aggregate = _aggregate(line, run)
        except (fmt.LineRefused, DomainError) as error:
            raise ImportFailed(number, detail(error)) from None
        (event,) = aggregate.pending_events
        built.append((number, line, aggregate, expected_fields(vars(event), line, run.keep)))
    return built


async def _save_entities(run: ImportRun, batch: list[Numbered]) -> list[bool]:
    built = _entities(run, batch)
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
    not_before(run, [(n, line) for (n, line, _, _), fresh in zip(built, new, strict=True) if fresh])
    try:
        await saved(run, run.writer.ledger.create, saving)
    except DomainError as error:
        raise ImportFailed(
            batch[0][0], f"{error} (a batch of lines {batch[0][0]}-{batch[-1][0]})"
        ) from None
    return new


def _aggregate(line: Any, run: ImportRun) -> Source | Incident | Claim:
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
    run: ImportRun, built: list[tuple[int, Any, Any, Any]], new: list[bool]
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

_Request = tuple[int, StatementRequest, dict[str, Any]]


def _requests(run: ImportRun, batch: list[Numbered]) -> list[_Request]:
    requests: list[_Request] = []
    for number, line in batch:
        assert isinstance(line, fmt.StatementLine)
        try:
            request = _request(line, run.occurrences)
        except fmt.LineRefused as error:
            raise ImportFailed(number, str(error)) from None
        content = {"claim_id": line.claim_id, **fmt.fields_of(request.draft, _DRAFT_FIELDS)}
        requests.append((number, request, expected_fields(content, line, run.keep)))
    return requests


async def _save_statements(
    run: ImportRun, batch: list[Numbered], requests: list[_Request]
) -> list[bool]:
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
    not_before(run, [batch[first_new]])
    try:
        chosen = [request for _, request in saving]
        await run.writer.warm(
            {r.claim_id for r in chosen},
            {r.draft.source_id for r in chosen}
            | {r.draft.via_source_id for r in chosen if r.draft.via_source_id},
        )
        await saved(
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


def _changes(run: ImportRun, batch: list[Numbered]) -> list[Change]:
    changes = []
    for number, line in batch:
        try:
            changes.append(change_of(line, recorded_by=run.recorded_by, keep=run.keep))
        except fmt.LineRefused as error:
            raise ImportFailed(number, str(error)) from None
    return changes


async def _save_changes(run: ImportRun, batch: list[Numbered], changes: list[Change]) -> list[bool]:
    try:
        return await saved(
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
