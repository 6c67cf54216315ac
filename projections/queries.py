"""Read queries over the views: what the API answers, as known now or at a past moment.

``known_at`` limits an answer to what the ledger had recorded by then (withdrawals and revisions
recorded later are not applied); ``published_before`` to what sources had said before then. A
claim's status under either is derived again with the domain's rule from its statements.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from claimledger.domain.headline import headline
from claimledger.domain.status import DerivedStatus
from claimledger.domain.values import Stance, Status
from claimledger.projections.history import StatementFact, status_seen
from claimledger.store.db import Db, session

Row = Any  # an asyncpg Record: read by column name


@dataclass(frozen=True, slots=True)
class Moment:
    """The two time filters of a read; both None means the current state."""

    known_at: datetime | None = None
    published_before: datetime | None = None

    @property
    def is_now(self) -> bool:
        return self.known_at is None and self.published_before is None


_FACTS = (
    "SELECT s.id, s.claim_id, s.source_id, src.name AS source_name, s.stance, s.published_at,"
    " s.recorded_at, s.position, s.withdrawn_at, s.withdrawal_position,"
    " ARRAY(SELECT e ->> 'kind' FROM jsonb_array_elements(s.evidence) e) AS kinds"
    " FROM views.statements s JOIN views.sources src ON src.id = s.source_id"
)


def _fact(row: Row) -> StatementFact:
    return StatementFact(
        id=row["id"],
        source_id=row["source_id"],
        source_name=row["source_name"],
        stance=Stance(row["stance"]),
        published_at=row["published_at"],
        recorded_at=row["recorded_at"],
        position=row["position"],
        withdrawn_at=row["withdrawn_at"],
        withdrawal_position=row["withdrawal_position"],
        evidence_kinds=tuple(row["kinds"]),
    )


async def load_facts(db: Db, claim_ids: Iterable[UUID]) -> dict[UUID, list[StatementFact]]:
    """Every statement on these claims, as the status rule needs them."""
    facts: dict[UUID, list[StatementFact]] = defaultdict(list)
    for row in await db.fetch(_FACTS + " WHERE s.claim_id = ANY($1::uuid[])", list(claim_ids)):
        facts[row["claim_id"]].append(_fact(row))
    return facts


async def load_incident_facts(db: Db, incident_id: UUID) -> dict[UUID, list[StatementFact]]:
    facts: dict[UUID, list[StatementFact]] = defaultdict(list)
    for row in await db.fetch(_FACTS + " WHERE s.incident_id = $1", incident_id):
        facts[row["claim_id"]].append(_fact(row))
    return facts


# -- sources --------------------------------------------------------------------------------------

_SOURCE_COLUMNS = (
    "s.id, s.name, s.kind, s.affiliation, s.channels, s.url, s.recorded_at, s.position,"
    " CASE WHEN $1::timestamptz IS NULL THEN s.reliability ELSE coalesce(("
    "   SELECT r.reliability FROM views.source_ratings r WHERE r.source_id = s.id"
    "   AND r.recorded_at <= $1 ORDER BY r.position DESC LIMIT 1), 'F') END AS reliability"
)


async def sources(
    db: Db,
    *,
    known_at: datetime | None,
    kind: str | None,
    after: tuple[str, UUID] | None,
    limit: int,
) -> list[Row]:
    """Sources by name, then id, after the cursor ``(name, id)``."""
    return list(
        await db.fetch(
            f"SELECT {_SOURCE_COLUMNS} FROM views.sources s"
            " WHERE ($1::timestamptz IS NULL OR s.recorded_at <= $1)"
            " AND ($2::text IS NULL OR s.kind = $2)"
            " AND ($3::text IS NULL OR (s.name, s.id) > ($3, $4::uuid))"
            " ORDER BY s.name, s.id LIMIT $5",
            known_at,
            kind,
            after[0] if after else None,
            after[1] if after else None,
            limit,
        )
    )


async def source(db: Db, source_id: UUID, *, known_at: datetime | None) -> Row | None:
    return await db.fetchrow(
        f"SELECT {_SOURCE_COLUMNS} FROM views.sources s"
        " WHERE s.id = $2 AND ($1::timestamptz IS NULL OR s.recorded_at <= $1)",
        known_at,
        source_id,
    )


# -- incidents ------------------------------------------------------------------------------------

_INCIDENT_NOW = (
    "SELECT i.id, i.title, i.summary, i.place, i.occurred_from, i.occurred_to,"
    " i.occurred_precision, i.tags, i.recorded_at, i.revised_at, i.position, i.claim_count,"
    " i.headline_status, i.status_counts FROM views.incidents i"
)

# The description current at $1, from the revision recorded last by then.
_INCIDENT_AT = (
    "SELECT i.id, r.title, r.summary, r.place, r.occurred_from, r.occurred_to,"
    " r.occurred_precision, r.tags, i.recorded_at,"
    " CASE WHEN r.position = i.position THEN NULL ELSE r.recorded_at END AS revised_at,"
    " i.position FROM views.incidents i"
    " JOIN LATERAL (SELECT * FROM views.incident_revisions r WHERE r.incident_id = i.id"
    "   AND r.recorded_at <= $1 ORDER BY r.position DESC LIMIT 1) r ON true"
)

# Claims of these incidents with the status each had at $2.
_STATUS_AT = (
    "SELECT h.incident_id, h.status, count(*)::int AS n FROM views.claim_history h"
    " WHERE h.incident_id = ANY($1::uuid[]) AND h.recorded_from <= $2"
    " AND (h.recorded_to IS NULL OR h.recorded_to > $2)"
    " GROUP BY h.incident_id, h.status"
)


@dataclass(frozen=True, slots=True)
class IncidentFilter:
    statuses: Sequence[str] = ()
    tags: Sequence[str] = ()
    country: str | None = None
    bbox: tuple[float, float, float, float] | None = None


def _incident_conditions(
    filters: IncidentFilter, params: list[Any], *, status_at: str | None, table: str
) -> list[str]:
    where: list[str] = []
    if filters.tags:
        params.append(list(filters.tags))
        where.append(f"{table}.tags @> ${len(params)}::text[]")
    if filters.country:
        params.append(filters.country)
        where.append(f"{table}.country = ${len(params)}")
    if filters.bbox:
        min_lon, min_lat, max_lon, max_lat = filters.bbox
        params.extend([min_lon, max_lon, min_lat, max_lat])
        n = len(params)
        where.append(
            f"{table}.lon BETWEEN ${n - 3} AND ${n - 2} AND {table}.lat BETWEEN ${n - 1} AND ${n}"
        )
    if filters.statuses:
        params.append(list(filters.statuses))
        if status_at is None:
            where.append(
                "EXISTS (SELECT 1 FROM views.claims c WHERE c.incident_id = i.id"
                f" AND c.status = ANY(${len(params)}::text[]))"
            )
        else:
            where.append(
                "EXISTS (SELECT 1 FROM views.claim_history h WHERE h.incident_id = i.id"
                f" AND h.status = ANY(${len(params)}::text[]) AND h.recorded_from <= {status_at}"
                f" AND (h.recorded_to IS NULL OR h.recorded_to > {status_at}))"
            )
    return where


async def incidents(
    db: Db,
    filters: IncidentFilter,
    *,
    known_at: datetime | None,
    before_position: int | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Incidents newest first (by position), each with its claim statuses at ``known_at``."""
    params: list[Any] = []
    if known_at is None:
        sql = _INCIDENT_NOW
        where = _incident_conditions(filters, params, status_at=None, table="i")
    else:
        params.append(known_at)
        sql = _INCIDENT_AT
        where = [
            "i.recorded_at <= $1",
            *_incident_conditions(filters, params, status_at="$1", table="r"),
        ]
    if before_position is not None:
        params.append(before_position)
        where.append(f"i.position < ${len(params)}")
    params.append(limit)
    sql += (" WHERE " + " AND ".join(where) if where else "") + (
        f" ORDER BY i.position DESC LIMIT ${len(params)}"
    )
    async with session(db) as one:
        rows = [dict(row) for row in await one.fetch(sql, *params)]
        if known_at is not None and rows:
            await _statuses_at(one, rows, known_at)
    return rows


async def _statuses_at(db: Db, rows: list[dict[str, Any]], known_at: datetime) -> None:
    counts: dict[UUID, dict[str, int]] = defaultdict(dict)
    for row in await db.fetch(_STATUS_AT, [r["id"] for r in rows], known_at):
        counts[row["incident_id"]][row["status"]] = row["n"]
    for row in rows:
        per_status = counts.get(row["id"], {})
        row["status_counts"] = per_status
        row["claim_count"] = sum(per_status.values())
        row["headline_status"] = headline(per_status).value


async def incident(
    db: Db, incident_id: UUID, *, known_at: datetime | None
) -> dict[str, Any] | None:
    if known_at is None:
        row = await db.fetchrow(_INCIDENT_NOW + " WHERE i.id = $1", incident_id)
        return None if row is None else dict(row)
    row = await db.fetchrow(
        _INCIDENT_AT + " WHERE i.id = $2 AND i.recorded_at <= $1", known_at, incident_id
    )
    if row is None:
        return None
    found = [dict(row)]
    await _statuses_at(db, found, known_at)
    return found[0]


# -- claims ---------------------------------------------------------------------------------------

_CLAIM = (
    "SELECT c.id, c.incident_id, c.text, c.recorded_at, c.position, c.status, c.reason,"
    " c.deciding_statement_ids, c.status_since,"
    " CASE WHEN $1::timestamptz IS NULL THEN c.verdict ELSE v.verdict END AS verdict,"
    " CASE WHEN $1::timestamptz IS NULL THEN c.verdict_rationale ELSE v.rationale END"
    "   AS verdict_rationale,"
    " CASE WHEN $1::timestamptz IS NULL THEN c.verdict_at ELSE v.recorded_at END AS verdict_at"
    " FROM views.claims c LEFT JOIN LATERAL (SELECT * FROM views.claim_verdicts v"
    "   WHERE v.claim_id = c.id AND v.recorded_at <= $1 ORDER BY v.position DESC LIMIT 1) v"
    " ON $1::timestamptz IS NOT NULL"
)


@dataclass(frozen=True, slots=True)
class ClaimAt:
    """A claim row and its status as seen from a moment."""

    row: dict[str, Any]
    status: DerivedStatus
    status_since: datetime | None


async def claim(db: Db, claim_id: UUID, moment: Moment) -> ClaimAt | None:
    async with session(db) as one:
        row = await one.fetchrow(
            _CLAIM + " WHERE c.id = $2 AND ($1::timestamptz IS NULL OR c.recorded_at <= $1)",
            moment.known_at,
            claim_id,
        )
        if row is None:
            return None
        if moment.is_now:
            return _current(dict(row))
        facts = await load_facts(one, [claim_id])
        return await _seen(one, dict(row), facts.get(claim_id, []), moment)


async def incident_claims(db: Db, incident_id: UUID, moment: Moment) -> list[ClaimAt]:
    rows = [
        dict(row)
        for row in await db.fetch(
            _CLAIM
            + " WHERE c.incident_id = $2 AND ($1::timestamptz IS NULL OR c.recorded_at <= $1)"
            " ORDER BY c.position",
            moment.known_at,
            incident_id,
        )
    ]
    if moment.is_now:
        return [_current(row) for row in rows]
    facts = await load_incident_facts(db, incident_id)
    return [await _seen(db, row, facts.get(row["id"], []), moment) for row in rows]


def _current(row: dict[str, Any]) -> ClaimAt:
    status = DerivedStatus(
        Status(row["status"]), tuple(row["deciding_statement_ids"]), row["reason"]
    )
    return ClaimAt(row=row, status=status, status_since=row["status_since"])


async def _seen(db: Db, row: dict[str, Any], facts: list[StatementFact], moment: Moment) -> ClaimAt:
    status = status_seen(facts, known_at=moment.known_at, published_before=moment.published_before)
    since = None
    if moment.published_before is None and moment.known_at is not None:
        since = await db.fetchval(
            "SELECT recorded_from FROM views.claim_history WHERE claim_id = $1"
            " AND recorded_from <= $2 ORDER BY seq DESC LIMIT 1",
            row["id"],
            moment.known_at,
        )
    return ClaimAt(row=row, status=status, status_since=since)


async def claim_exists(db: Db, claim_id: UUID, known_at: datetime | None) -> bool:
    found = await db.fetchval(
        "SELECT true FROM views.claims WHERE id = $1"
        " AND ($2::timestamptz IS NULL OR recorded_at <= $2)",
        claim_id,
        known_at,
    )
    return bool(found)


async def history(
    db: Db, claim_id: UUID, *, known_at: datetime | None, after_seq: int | None, limit: int
) -> list[Row]:
    """Status intervals in recorded order; as known at ``known_at``, the last one is open."""
    return list(
        await db.fetch(
            "SELECT seq, status, reason, deciding_statement_ids, statement_id, recorded_from,"
            " CASE WHEN $2::timestamptz IS NOT NULL AND (recorded_to IS NULL OR recorded_to > $2)"
            "   THEN NULL ELSE recorded_to END AS recorded_to"
            " FROM views.claim_history WHERE claim_id = $1"
            " AND ($2::timestamptz IS NULL OR recorded_from <= $2)"
            " AND seq > $3 ORDER BY seq LIMIT $4",
            claim_id,
            known_at,
            -1 if after_seq is None else after_seq,
            limit,
        )
    )


# -- timelines ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimelineFilter:
    incident_id: UUID | None = None
    claim_id: UUID | None = None
    source_id: UUID | None = None
    stances: Sequence[str] = ()
    published_after: datetime | None = None
    include_withdrawn: bool = True


async def timeline(
    db: Db,
    filters: TimelineFilter,
    moment: Moment,
    *,
    after: tuple[datetime, int] | None,
    limit: int,
) -> list[Row]:
    """Statements in order of publication (then position), as known at ``moment``."""
    params: list[Any] = [moment.known_at]
    where = ["($1::timestamptz IS NULL OR s.recorded_at <= $1)"]

    def condition(sql: str, value: Any) -> None:
        params.append(value)
        where.append(sql.replace("?", f"${len(params)}"))

    if filters.incident_id is not None:
        condition("s.incident_id = ?", filters.incident_id)
    if filters.claim_id is not None:
        condition("s.claim_id = ?", filters.claim_id)
    if filters.source_id is not None:
        condition("s.source_id = ?", filters.source_id)
    if filters.stances:
        condition("s.stance = ANY(?::text[])", list(filters.stances))
    if moment.published_before is not None:
        condition("s.published_at < ?", moment.published_before)
    if filters.published_after is not None:
        condition("s.published_at >= ?", filters.published_after)
    if not filters.include_withdrawn:
        where.append(
            "(s.withdrawn_at IS NULL OR ($1::timestamptz IS NOT NULL AND s.withdrawn_at > $1))"
        )
    if after is not None:
        params.extend(after)
        where.append(f"(s.published_at, s.position) > (${len(params) - 1}, ${len(params)})")
    params.append(limit)
    sql = (
        "SELECT s.id, s.claim_id, s.incident_id, s.source_id, src.name AS source_name, s.stance,"
        " s.published_at, s.quote, s.language, s.url, s.channel, s.via_source_id, s.evidence,"
        " s.credibility, s.recorded_at, s.position,"
        " CASE WHEN $1::timestamptz IS NULL OR s.withdrawn_at <= $1 THEN s.withdrawn_at END"
        "   AS withdrawn_at"
        " FROM views.statements s JOIN views.sources src ON src.id = s.source_id"
        f" WHERE {' AND '.join(where)} ORDER BY s.published_at, s.position LIMIT ${len(params)}"
    )
    return list(await db.fetch(sql, *params))


async def incident_exists(db: Db, incident_id: UUID, known_at: datetime | None) -> bool:
    found = await db.fetchval(
        "SELECT true FROM views.incidents WHERE id = $1"
        " AND ($2::timestamptz IS NULL OR recorded_at <= $2)",
        incident_id,
        known_at,
    )
    return bool(found)
