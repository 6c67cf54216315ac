"""Applying one batch of events to the views, inside the projector's transaction.

The batch is read in two passes: first the ids it touches, loaded from the views in a few queries;
then every event in position order, collecting rows per table and the outbox entries of what
changed. The rows are written with COPY and a handful of set-based statements.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from claimledger.domain.claim import ClaimAdded, ClaimVerdictGiven
from claimledger.domain.headline import headline
from claimledger.domain.incident import IncidentOpened, IncidentRevised
from claimledger.domain.source import SourceRated, SourceRegistered
from claimledger.domain.statement import StatementRecorded, StatementWithdrawn
from claimledger.domain.status import UNVERIFIED, DerivedStatus
from claimledger.domain.values import Evidence, Place, Status
from claimledger.projections.history import ClaimState, Interval, StatementFact
from claimledger.projections.queries import load_facts
from claimledger.store.db import Connection

_PLACE_FIELDS = ("name", "admin1", "admin2", "country", "lat", "lon", "precision")


@dataclass(frozen=True, slots=True)
class Positioned:
    position: int
    event: Any


@dataclass
class _Rows:
    sources: list[tuple[Any, ...]] = field(default_factory=list)
    ratings: list[tuple[Any, ...]] = field(default_factory=list)
    reliability: dict[UUID, str] = field(default_factory=dict)
    incidents: list[tuple[Any, ...]] = field(default_factory=list)
    revisions: list[tuple[Any, ...]] = field(default_factory=list)
    revised: dict[UUID, tuple[Any, ...]] = field(default_factory=dict)
    claims: list[tuple[Any, ...]] = field(default_factory=list)
    verdicts: list[tuple[Any, ...]] = field(default_factory=list)
    verdict_now: dict[UUID, tuple[Any, ...]] = field(default_factory=dict)
    statements: list[tuple[Any, ...]] = field(default_factory=list)
    withdrawals: list[tuple[Any, ...]] = field(default_factory=list)
    outbox: list[tuple[Any, ...]] = field(default_factory=list)


def place_json(place: Place | None) -> dict[str, Any] | None:
    if place is None:
        return None
    return {name: getattr(place, name) for name in _PLACE_FIELDS}


def statement_payload(event: StatementRecorded, source_name: str) -> dict[str, Any]:
    """A statement as the timeline, the stream and webhooks show it."""
    return {
        "id": event.originator_id,
        "claim_id": event.claim_id,
        "incident_id": event.incident_id,
        "source_id": event.source_id,
        "source_name": source_name,
        "stance": event.stance,
        "published_at": event.published_at,
        "quote": event.quote,
        "language": event.language,
        "url": event.url,
        "channel": event.channel,
        "via_source_id": event.via_source_id,
        "evidence": [_evidence_json(e) for e in event.evidence],
        "credibility": event.credibility,
        "recorded_at": event.timestamp,
        "withdrawn_at": None,
    }


def _evidence_json(evidence: Evidence) -> dict[str, Any]:
    return {
        "kind": evidence.kind,
        "url": evidence.url,
        "description": evidence.description,
        "sha256": evidence.sha256,
        "lat": evidence.lat,
        "lon": evidence.lon,
    }


def reasons(status: DerivedStatus) -> dict[str, Any]:
    return {"text": status.reason, "statement_ids": list(status.statement_ids)}


def _json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


class BatchApplier:
    """Applies one batch; ``apply`` is called once, inside the caller's transaction."""

    def __init__(self, connection: Connection, events: Sequence[Positioned]) -> None:
        self._db = connection
        self._events = events
        self._rows = _Rows()
        self._claims: dict[UUID, ClaimState] = {}
        self._claim_incident: dict[UUID, UUID] = {}
        self._statement_claim: dict[UUID, UUID] = {}
        self._source_names: dict[UUID, str] = {}
        self._verdicts: dict[UUID, str | None] = {}
        # Claims whose statements changed in this batch (or that are new): their history is
        # derived again and rewritten.
        self._restatused: set[UUID] = set()
        self._outbox_position = 0
        self._outbox_seq = 0

    async def apply(self) -> int:
        """Write the batch; return how many outbox entries it produced."""
        await self._load()
        for item in self._events:
            self._apply(item.position, item.event)
        await self._write()
        return len(self._rows.outbox)

    # -- first pass: load what the batch touches ----------------------------------------------

    async def _load(self) -> None:
        claim_ids: set[UUID] = set()
        source_ids: set[UUID] = set()
        withdrawn: set[UUID] = set()
        for item in self._events:
            event = item.event
            if isinstance(event, SourceRegistered):
                self._source_names[event.originator_id] = event.name
            elif isinstance(event, ClaimAdded):
                self._claim_incident[event.originator_id] = event.incident_id
            elif isinstance(event, StatementRecorded):
                claim_ids.add(event.claim_id)
                source_ids.add(event.source_id)
                self._statement_claim[event.originator_id] = event.claim_id
            elif isinstance(event, StatementWithdrawn):
                withdrawn.add(event.originator_id)
            elif isinstance(event, ClaimVerdictGiven):
                claim_ids.add(event.originator_id)
        unknown_statements = withdrawn - self._statement_claim.keys()
        if unknown_statements:
            for row in await self._db.fetch(
                "SELECT id, claim_id FROM views.statements WHERE id = ANY($1::uuid[])",
                list(unknown_statements),
            ):
                self._statement_claim[row["id"]] = row["claim_id"]
                claim_ids.add(row["claim_id"])
        await self._load_claims(claim_ids - self._claim_incident.keys())
        missing_names = source_ids - self._source_names.keys()
        if missing_names:
            for row in await self._db.fetch(
                "SELECT id, name FROM views.sources WHERE id = ANY($1::uuid[])",
                list(missing_names),
            ):
                self._source_names[row["id"]] = row["name"]

    async def _load_claims(self, claim_ids: set[UUID]) -> None:
        if not claim_ids:
            return
        ids = list(claim_ids)
        facts = await load_facts(self._db, ids)
        open_intervals = {
            row["claim_id"]: Interval(
                seq=row["seq"],
                status=DerivedStatus(
                    Status(row["status"]), tuple(row["deciding_statement_ids"]), row["reason"]
                ),
                statement_id=row["statement_id"],
                recorded_from=row["recorded_from"],
                recorded_to=None,
            )
            for row in await self._db.fetch(
                "SELECT DISTINCT ON (claim_id) claim_id, seq, status, reason,"
                " deciding_statement_ids, statement_id, recorded_from FROM views.claim_history"
                " WHERE claim_id = ANY($1::uuid[]) ORDER BY claim_id, seq DESC",
                ids,
            )
        }
        for row in await self._db.fetch(
            "SELECT id, incident_id, recorded_at, verdict, status, reason, deciding_statement_ids"
            " FROM views.claims WHERE id = ANY($1::uuid[])",
            ids,
        ):
            claim_id = row["id"]
            self._claim_incident[claim_id] = row["incident_id"]
            self._verdicts[claim_id] = row["verdict"]
            self._claims[claim_id] = ClaimState(
                claim_id,
                row["incident_id"],
                row["recorded_at"],
                facts.get(claim_id, ()),
                status=Status(row["status"]),
                last=open_intervals.get(claim_id),
            )

    # -- second pass: every event in position order -------------------------------------------

    def _apply(self, position: int, event: Any) -> None:
        rows = self._rows
        at: datetime = event.timestamp
        if isinstance(event, StatementRecorded):
            self._statement(position, event)
        elif isinstance(event, StatementWithdrawn):
            self._withdrawal(position, event)
        elif isinstance(event, SourceRegistered):
            rows.sources.append(
                (
                    event.originator_id,
                    event.name,
                    event.kind.value,
                    event.affiliation,
                    list(event.channels),
                    event.url,
                    "F",
                    at,
                    position,
                )
            )
        elif isinstance(event, SourceRated):
            rows.ratings.append(
                (
                    event.originator_id,
                    position,
                    event.reliability.value,
                    event.rationale,
                    at,
                    event.recorded_by,
                )
            )
            rows.reliability[event.originator_id] = event.reliability.value
        elif isinstance(event, IncidentOpened):
            self._incident(position, event, opened=True)
        elif isinstance(event, IncidentRevised):
            self._incident(position, event, opened=False)
        elif isinstance(event, ClaimAdded):
            self._claim_added(position, event)
        elif isinstance(event, ClaimVerdictGiven):
            self._verdict(position, event)

    def _incident(
        self, position: int, event: IncidentOpened | IncidentRevised, *, opened: bool
    ) -> None:
        place = event.place
        description = (
            event.title,
            event.summary,
            place_json(place),
            place.country if place else None,
            place.lat if place else None,
            place.lon if place else None,
            event.occurred_from,
            event.occurred_to,
            event.occurred_precision.value if event.occurred_precision else None,
            list(event.tags),
        )
        self._rows.revisions.append((event.originator_id, position, event.timestamp, *description))
        if opened:
            self._rows.incidents.append(
                (event.originator_id, *description, event.timestamp, position)
            )
            self._announce(
                position,
                "incident.opened",
                event.originator_id,
                event.timestamp,
                {
                    "incident_id": event.originator_id,
                    "title": event.title,
                    "summary": event.summary,
                    "place": place_json(place),
                    "occurred_from": event.occurred_from,
                    "occurred_to": event.occurred_to,
                    "occurred_precision": event.occurred_precision,
                    "tags": list(event.tags),
                    "recorded_at": event.timestamp,
                },
            )
        else:
            self._rows.revised[event.originator_id] = (*description, event.timestamp)

    def _claim_added(self, position: int, event: ClaimAdded) -> None:
        claim_id = event.originator_id
        self._rows.claims.append(
            (
                claim_id,
                event.incident_id,
                event.text,
                event.timestamp,
                position,
                UNVERIFIED.status.value,
                UNVERIFIED.reason,
                [],
                event.timestamp,
            )
        )
        self._claims[claim_id] = ClaimState(claim_id, event.incident_id, event.timestamp)
        self._restatused.add(claim_id)
        self._verdicts[claim_id] = None

    def _verdict(self, position: int, event: ClaimVerdictGiven) -> None:
        claim_id = event.originator_id
        incident_id = self._claim_incident[claim_id]
        previous = self._verdicts.get(claim_id)
        self._verdicts[claim_id] = event.verdict.value
        self._rows.verdicts.append(
            (
                claim_id,
                position,
                event.verdict.value,
                event.rationale,
                event.timestamp,
                event.recorded_by,
            )
        )
        self._rows.verdict_now[claim_id] = (event.verdict.value, event.rationale, event.timestamp)
        self._announce(
            position,
            "claim.verdict_changed",
            incident_id,
            event.timestamp,
            {
                "incident_id": incident_id,
                "claim_id": claim_id,
                "from": previous,
                "to": event.verdict,
                "rationale": event.rationale,
                "recorded_at": event.timestamp,
            },
        )

    def _statement(self, position: int, event: StatementRecorded) -> None:
        source_name = self._source_names.get(event.source_id, "")
        payload = statement_payload(event, source_name)
        self._rows.statements.append(
            (
                event.originator_id,
                event.claim_id,
                event.incident_id,
                event.source_id,
                event.stance.value,
                event.published_at,
                event.quote,
                event.language,
                event.url,
                event.channel,
                event.via_source_id,
                payload["evidence"],
                event.credibility,
                event.timestamp,
                event.recorded_by,
                position,
            )
        )
        self._announce(position, "statement.recorded", event.incident_id, event.timestamp, payload)
        state = self._claims[event.claim_id]
        self._restatused.add(state.claim_id)
        before = state.status
        changed = state.record(
            StatementFact(
                id=event.originator_id,
                source_id=event.source_id,
                source_name=source_name,
                stance=event.stance,
                published_at=event.published_at,
                recorded_at=event.timestamp,
                position=position,
                evidence_kinds=tuple(e.kind for e in event.evidence),
            )
        )
        if changed is not None:
            self._status_changed(
                position, state, before, changed, event.originator_id, event.timestamp
            )

    def _withdrawal(self, position: int, event: StatementWithdrawn) -> None:
        statement_id = event.originator_id
        claim_id = self._statement_claim[statement_id]
        state = self._claims[claim_id]
        self._restatused.add(claim_id)
        self._rows.withdrawals.append((statement_id, event.timestamp, event.reason, position))
        self._announce(
            position,
            "statement.withdrawn",
            state.incident_id,
            event.timestamp,
            {
                "id": statement_id,
                "claim_id": claim_id,
                "incident_id": state.incident_id,
                "reason": event.reason,
                "withdrawn_at": event.timestamp,
            },
        )
        before = state.status
        changed = state.withdraw(statement_id, event.timestamp, position)
        if changed is not None:
            self._status_changed(position, state, before, changed, statement_id, event.timestamp)

    def _status_changed(
        self,
        position: int,
        state: ClaimState,
        before: DerivedStatus,
        after: DerivedStatus,
        statement_id: UUID,
        at: datetime,
    ) -> None:
        self._announce(
            position,
            "claim.status_changed",
            state.incident_id,
            at,
            {
                "incident_id": state.incident_id,
                "claim_id": state.claim_id,
                "from": before.status,
                "to": after.status,
                "reasons": reasons(after),
                "statement_id": statement_id,
                "recorded_at": at,
            },
        )

    def _announce(
        self,
        position: int,
        kind: str,
        incident_id: UUID | None,
        at: datetime,
        payload: dict[str, Any],
    ) -> None:
        if position == self._outbox_position:
            self._outbox_seq += 1
        else:
            self._outbox_position, self._outbox_seq = position, 0
        payload["position"] = position
        self._rows.outbox.append((position, self._outbox_seq, kind, incident_id, at, payload))

    # -- writing ------------------------------------------------------------------------------

    async def _write(self) -> None:
        rows, db = self._rows, self._db
        if rows.sources:
            await db.copy_records_to_table(
                "sources",
                schema_name="views",
                records=rows.sources,
                columns=[
                    "id",
                    "name",
                    "kind",
                    "affiliation",
                    "channels",
                    "url",
                    "reliability",
                    "recorded_at",
                    "position",
                ],
            )
        if rows.ratings:
            await db.copy_records_to_table(
                "source_ratings",
                schema_name="views",
                records=rows.ratings,
                columns=[
                    "source_id",
                    "position",
                    "reliability",
                    "rationale",
                    "recorded_at",
                    "recorded_by",
                ],
            )
            await db.executemany(
                "UPDATE views.sources SET reliability = $2 WHERE id = $1",
                list(rows.reliability.items()),
            )
        await self._write_incidents()
        await self._write_claims()
        if rows.outbox:
            await db.copy_records_to_table(
                "outbox",
                schema_name="views",
                records=rows.outbox,
                columns=["position", "seq", "type", "incident_id", "recorded_at", "payload"],
            )

    async def _write_incidents(self) -> None:
        rows, db = self._rows, self._db
        description = [
            "title",
            "summary",
            "place",
            "country",
            "lat",
            "lon",
            "occurred_from",
            "occurred_to",
            "occurred_precision",
            "tags",
        ]
        if rows.incidents:
            await db.copy_records_to_table(
                "incidents",
                schema_name="views",
                records=rows.incidents,
                columns=["id", *description, "recorded_at", "position"],
            )
        if rows.revisions:
            await db.copy_records_to_table(
                "incident_revisions",
                schema_name="views",
                records=rows.revisions,
                columns=["incident_id", "position", "recorded_at", *description],
            )
        if rows.revised:
            await db.executemany(
                "UPDATE views.incidents SET title = $2, summary = $3, place = $4, country = $5,"
                " lat = $6, lon = $7, occurred_from = $8, occurred_to = $9,"
                " occurred_precision = $10, tags = $11, revised_at = $12 WHERE id = $1",
                [(incident_id, *values) for incident_id, values in rows.revised.items()],
            )

    async def _write_claims(self) -> None:
        rows, db = self._rows, self._db
        if rows.claims:
            await db.copy_records_to_table(
                "claims",
                schema_name="views",
                records=rows.claims,
                columns=[
                    "id",
                    "incident_id",
                    "text",
                    "recorded_at",
                    "position",
                    "status",
                    "reason",
                    "deciding_statement_ids",
                    "status_since",
                ],
            )
        if rows.verdicts:
            await db.copy_records_to_table(
                "claim_verdicts",
                schema_name="views",
                records=rows.verdicts,
                columns=[
                    "claim_id",
                    "position",
                    "verdict",
                    "rationale",
                    "recorded_at",
                    "recorded_by",
                ],
            )
            await db.executemany(
                "UPDATE views.claims SET verdict = $2, verdict_rationale = $3, verdict_at = $4"
                " WHERE id = $1",
                [(claim_id, *values) for claim_id, values in rows.verdict_now.items()],
            )
        if rows.statements:
            await db.copy_records_to_table(
                "statements",
                schema_name="views",
                records=rows.statements,
                columns=[
                    "id",
                    "claim_id",
                    "incident_id",
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
                    "recorded_at",
                    "recorded_by",
                    "position",
                ],
            )
        if rows.withdrawals:
            await db.executemany(
                "UPDATE views.statements SET withdrawn_at = $2, withdrawal_reason = $3,"
                " withdrawal_position = $4 WHERE id = $1",
                rows.withdrawals,
            )
        await self._write_history()

    async def _write_history(self) -> None:
        db = self._db
        claims = [self._claims[claim_id] for claim_id in self._restatused]
        if not claims:
            return
        rewritten: list[UUID] = []
        intervals: list[tuple[Any, ...]] = []
        closed: list[tuple[Any, ...]] = []
        current: list[tuple[Any, ...]] = []
        for state in claims:
            change = state.history_change()
            if change.rewrite:
                rewritten.append(state.claim_id)
            elif change.closed is not None:
                closed.append((state.claim_id, change.closed.seq, change.closed.recorded_to))
            intervals.extend(_interval_row(state, interval) for interval in change.intervals)
            status = state.status
            started = change.current.recorded_from if change.current is not None else None
            current.append(
                (
                    state.claim_id,
                    status.status.value,
                    status.reason,
                    ",".join(map(str, status.statement_ids)),
                    started,
                )
            )
        if rewritten:
            await db.execute(
                "DELETE FROM views.claim_history WHERE claim_id = ANY($1::uuid[])", rewritten
            )
        if closed:
            await db.execute(
                "UPDATE views.claim_history h SET recorded_to = c.recorded_to"
                " FROM unnest($1::uuid[], $2::int[], $3::timestamptz[])"
                " AS c(claim_id, seq, recorded_to)"
                " WHERE h.claim_id = c.claim_id AND h.seq = c.seq",
                *map(list, zip(*closed, strict=True)),
            )
        if intervals:
            await db.copy_records_to_table(
                "claim_history",
                schema_name="views",
                records=intervals,
                columns=[
                    "claim_id",
                    "seq",
                    "incident_id",
                    "status",
                    "reason",
                    "deciding_statement_ids",
                    "statement_id",
                    "recorded_from",
                    "recorded_to",
                ],
            )
        ids, statuses, reasons_, deciding, since = (
            list(column) for column in zip(*current, strict=True)
        )
        await db.execute(
            "UPDATE views.claims c SET status = u.status, reason = u.reason,"
            " deciding_statement_ids = string_to_array(u.deciding, ',')::uuid[],"
            " status_since = coalesce(u.since, c.status_since)"
            " FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[])"
            " AS u(id, status, reason, deciding, since) WHERE c.id = u.id",
            ids,
            statuses,
            reasons_,
            deciding,
            since,
        )
        await self._write_headlines(claims)

    async def _write_headlines(self, claims: list[ClaimState]) -> None:
        """Move each incident's status counts by the claims whose status changed."""
        deltas: dict[UUID, Counter[str]] = defaultdict(Counter)
        for state in claims:
            if state.initial == state.decided:
                continue
            if state.initial is not None:
                deltas[state.incident_id][state.initial.value] -= 1
            deltas[state.incident_id][state.decided.value] += 1
        if not deltas:
            return
        current = await self._db.fetch(
            "SELECT id, status_counts FROM views.incidents WHERE id = ANY($1::uuid[])",
            list(deltas),
        )
        ids, counts, totals, headlines = [], [], [], []
        for row in current:
            merged = Counter(row["status_counts"])
            merged.update(deltas[row["id"]])
            kept = {status: n for status, n in merged.items() if n > 0}
            ids.append(row["id"])
            counts.append(_json(kept))
            totals.append(sum(kept.values()))
            headlines.append(headline(kept).value)
        await self._db.execute(
            "UPDATE views.incidents i SET status_counts = u.counts::jsonb, claim_count = u.total,"
            " headline_status = u.headline"
            " FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[])"
            " AS u(id, counts, total, headline) WHERE i.id = u.id",
            ids,
            counts,
            totals,
            headlines,
        )


def _interval_row(state: ClaimState, interval: Interval) -> tuple[Any, ...]:
    return (
        state.claim_id,
        interval.seq,
        state.incident_id,
        interval.status.status.value,
        interval.status.reason,
        list(interval.status.statement_ids),
        interval.statement_id,
        interval.recorded_from,
        interval.recorded_to,
    )
