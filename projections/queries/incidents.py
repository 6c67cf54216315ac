"""Incidents with their claim counts and headline status, as known now or at a past moment."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from claimledger.domain.headline import headline
from claimledger.projections.queries import listing_plan
from claimledger.projections.queries.moment import recorded_by
from claimledger.store.db import Db, session

_NOW = (
    "SELECT i.id, i.title, i.summary, i.place, i.occurred_from, i.occurred_to,"
    " i.occurred_precision, i.tags, i.recorded_at, i.revised_at, i.position, i.claim_count,"
    " i.headline_status, i.status_counts FROM views.incidents i"
)

# The description current at $1, from the revision recorded last by then.
_AT = (
    "SELECT i.id, r.title, r.summary, r.place, r.occurred_from, r.occurred_to,"
    " r.occurred_precision, r.tags, i.recorded_at,"
    " CASE WHEN r.position = i.position THEN NULL ELSE r.recorded_at END AS revised_at,"
    " i.position FROM views.incidents i"
    " JOIN LATERAL (SELECT * FROM views.incident_revisions r WHERE r.incident_id = i.id"
    "   AND r.recorded_at <= $1 ORDER BY r.position DESC LIMIT 1) r ON true"
)

# For each of these incidents (by its place in $1), how many of its claims had each status at $2.
_STATUS_AT = (
    "SELECT w.k::int, (SELECT json_object_agg(s.status, s.n) FROM"
    "   (SELECT h.status, count(*)::int AS n FROM views.claim_history h"
    "    WHERE h.incident_id = w.id AND h.recorded_from <= $2"
    "    AND (h.recorded_to IS NULL OR h.recorded_to > $2) GROUP BY h.status) s)"
    " FROM unnest($1::uuid[]) WITH ORDINALITY w(id, k)"
)


@dataclass(frozen=True, slots=True)
class IncidentFilter:
    """What the incident list may be narrowed to; every filter given must hold."""

    statuses: Sequence[str] = ()
    tags: Sequence[str] = ()
    country: str | None = None
    bbox: tuple[float, float, float, float] | None = None


def _conditions(
    filters: IncidentFilter,
    params: list[Any],
    *,
    status_at: str | None,
    table: str,
    rare: frozenset[str] = frozenset(),
) -> list[str]:
    """The conditions of ``filters``; ``rare`` names those few incidents meet (``listing_plan``),
    found from their own rows first."""
    where: list[str] = []
    if filters.tags:
        params.append(list(filters.tags))
        where.append(f"{table}.tags @> ${len(params)}::text[]")
        if "tags" in rare:
            where.append(_revised_with(f"v.tags @> ${len(params)}::text[]"))
    if filters.country:
        params.append(filters.country)
        where.append(f"{table}.country = ${len(params)}")
        if "country" in rare:
            where.append(_revised_with(f"v.country = ${len(params)}"))
    if filters.bbox:
        min_lon, min_lat, max_lon, max_lat = filters.bbox
        params.extend([min_lon, max_lon, min_lat, max_lat])
        n = len(params)
        where.append(
            f"{table}.lon BETWEEN ${n - 3} AND ${n - 2} AND {table}.lat BETWEEN ${n - 1} AND ${n}"
        )
    if filters.statuses:
        params.append(list(filters.statuses))
        if "status" in rare:
            # The statuses' rows of the history, then their incidents.
            held = "h.recorded_to IS NULL"
            if status_at is not None:
                held = (
                    f"h.recorded_from <= {status_at}"
                    f" AND (h.recorded_to IS NULL OR h.recorded_to > {status_at})"
                )
            where.append(
                "i.id = ANY(ARRAY(SELECT h.incident_id FROM views.claim_history h"
                f" WHERE h.status = ANY(${len(params)}::text[]) AND {held}))"
            )
        elif status_at is None:
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


def _revised_with(condition: str) -> str:
    """The incidents some revision of which met ``condition`` (as ``v``): all that may have been
    described so at a moment, for the condition on the description then to choose from."""
    return (
        f"i.id = ANY(ARRAY(SELECT v.incident_id FROM views.incident_revisions v WHERE {condition}))"
    )


async def _rare(db: Db, filters: IncidentFilter, moment: bool) -> frozenset[str]:
    """The filters few incidents meet. Now, a country's and a tag's incidents have indexes of
    their own; at a moment, their descriptions then are read from the revisions."""
    rare = set()
    if filters.statuses and await listing_plan.rare_status(db, filters.statuses):
        rare.add("status")
    described = {"country": [filters.country] if filters.country else [], "tags": filters.tags}
    for column, values in described.items():
        if moment and values and await listing_plan.rare_description(db, column, values):
            rare.add(column)
    return frozenset(rare)


async def listing(
    db: Db,
    filters: IncidentFilter,
    *,
    known_at: datetime | None,
    before_position: int | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Incidents newest first (by position), each with its claim statuses at ``known_at``."""
    params: list[Any] = []
    async with session(db) as one:
        rare = await _rare(one, filters, known_at is not None)
        if known_at is None:
            sql = _NOW
            where = _conditions(filters, params, status_at=None, table="i", rare=rare)
        else:
            params.append(known_at)
            sql = _AT
            where = [
                "i.recorded_at <= $1",
                *_conditions(filters, params, status_at="$1", table="r", rare=rare),
            ]
        if before_position is not None:
            params.append(before_position)
            where.append(f"i.position < ${len(params)}")
        params.append(limit)
        sql += (" WHERE " + " AND ".join(where) if where else "") + (
            f" ORDER BY i.position DESC LIMIT ${len(params)}"
        )
        rows = [dict(row) for row in await one.fetch(sql, *params)]
        if known_at is not None and rows:
            await _statuses_at(one, rows, known_at)
    return rows


async def _statuses_at(db: Db, rows: list[dict[str, Any]], known_at: datetime) -> None:
    """Fill in each incident's claim counts and headline as they were at ``known_at``."""
    for k, counts in await db.fetch(_STATUS_AT, [r["id"] for r in rows], known_at):
        per_status: dict[str, int] = counts or {}
        row = rows[k - 1]
        row["status_counts"] = per_status
        row["claim_count"] = sum(per_status.values())
        row["headline_status"] = headline(per_status).value


async def get(db: Db, incident_id: UUID, *, known_at: datetime | None) -> dict[str, Any] | None:
    """One incident as it was described at ``known_at`` (or now), if the ledger had it."""
    if known_at is None:
        row = await db.fetchrow(_NOW + " WHERE i.id = $1", incident_id)
        return None if row is None else dict(row)
    row = await db.fetchrow(_AT + " WHERE i.id = $2 AND i.recorded_at <= $1", known_at, incident_id)
    if row is None:
        return None
    found = [dict(row)]
    await _statuses_at(db, found, known_at)
    return found[0]


async def exists(db: Db, incident_id: UUID, known_at: datetime | None) -> bool:
    """Whether the ledger had the incident by ``known_at`` (or has it now)."""
    return await recorded_by(db, "incidents", incident_id, known_at)
