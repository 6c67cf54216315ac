"""A source's track record: what became of the claims it asserted or denied, as known at a moment.

The source's statements in view are those recorded by the moment and not withdrawn by then. Its
side on a claim is its last ``asserts`` or ``denies`` there (by publication, then position), and
it has retracted it when one of its ``retracts`` was published after that. ``confirms``,
``refutes`` and ``retracts`` put no claim on its record: they are counted by stance only (a
verification is what the record weighs other sources' words by, not a word of its own).

A claim on its record was independently confirmed (refuted) when another source's ``confirms``
(``refutes``), in view and published after the source first took its side there, is
independent of it: not the source itself, not relayed via it (``via_source_id``), and not of
the same affiliation (the affiliations compared as trimmed, case-folded text; a source with no
affiliation shares none).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from claimledger.domain.values import Stance
from claimledger.store.db import Db, session

# $1 the source, $2 the moment (NULL: now).
_IN_VIEW = (
    "({s}.recorded_at <= $2 OR $2::timestamptz IS NULL)"
    " AND ({s}.withdrawn_at IS NULL OR ($2::timestamptz IS NOT NULL AND {s}.withdrawn_at > $2))"
)

_SAID = (
    "SELECT s.claim_id, s.stance, s.published_at, s.position FROM views.statements s"
    f" WHERE s.source_id = $1 AND {_IN_VIEW.format(s='s')} ORDER BY s.published_at, s.position"
)

_VERIFIED_BY = (
    "EXISTS (SELECT 1 FROM views.statements v JOIN views.sources vs ON vs.id = v.source_id"
    " WHERE v.claim_id = k.claim_id AND v.stance = '{stance}' AND v.published_at > k.since"
    f" AND {_IN_VIEW.format(s='v')}"
    " AND v.source_id <> $1 AND v.via_source_id IS DISTINCT FROM $1"
    " AND (vs.affiliation IS NULL OR $5::text IS NULL"
    "   OR lower(btrim(vs.affiliation)) <> lower(btrim($5))))"
)

# Each claim of the record with its status at $2 and whether it was independently verified.
_CLAIMS = (
    "SELECT k.claim_id, CASE WHEN $2::timestamptz IS NULL THEN c.status ELSE ("
    "   SELECT h.status FROM views.claim_history h WHERE h.claim_id = k.claim_id"
    "   AND h.recorded_from <= $2 ORDER BY h.seq DESC LIMIT 1) END AS status,"
    f" {_VERIFIED_BY.format(stance='confirms')} AS confirmed,"
    f" {_VERIFIED_BY.format(stance='refutes')} AS refuted"
    " FROM unnest($3::uuid[], $4::timestamptz[]) AS k (claim_id, since)"
    " JOIN views.claims c ON c.id = k.claim_id"
)

_RATINGS = (
    "SELECT reliability, rationale, recorded_at, position FROM views.source_ratings"
    " WHERE source_id = $1 AND ($2::timestamptz IS NULL OR recorded_at <= $2) ORDER BY position"
)


@dataclass(slots=True)
class Side:
    """The source's side on one claim: asserted or denied, since when, and retracted or not."""

    stance: Stance
    since: datetime
    retracted: bool = False


@dataclass(frozen=True, slots=True)
class RecordClaim:
    """A claim on the record: the source's side, the claim's status, independent verification."""

    claim_id: UUID
    side: Side
    status: str
    confirmed: bool
    refuted: bool


@dataclass(slots=True)
class Record:
    """What the record is made of; the API counts it."""

    stances: dict[str, int] = field(default_factory=dict)
    claims: list[RecordClaim] = field(default_factory=list)
    ratings: list[asyncpg.Record] = field(default_factory=list)


def sides(said: Iterable[Mapping[str, Any]]) -> dict[UUID, Side]:
    """The source's side on each claim it asserted or denied, from its statements in order of
    publication."""
    found: dict[UUID, Side] = {}
    for row in said:
        stance = Stance(row["stance"])
        side = found.get(row["claim_id"])
        if stance in (Stance.ASSERTS, Stance.DENIES):
            if side is None or side.stance != stance:
                # The first time it took this side (a change of side starts it again).
                found[row["claim_id"]] = Side(stance, row["published_at"])
            else:
                side.retracted = False
        elif stance == Stance.RETRACTS and side is not None:
            side.retracted = True
    return found


async def of_source(db: Db, source: Any, known_at: datetime | None) -> Record:
    """The record of ``source`` (a row of the sources' query) as known at ``known_at``."""
    record = Record()
    async with session(db) as one:
        said = list(await one.fetch(_SAID, source["id"], known_at))
        for row in said:
            record.stances[row["stance"]] = record.stances.get(row["stance"], 0) + 1
        by_claim = sides(said)
        if by_claim:
            ids = list(by_claim)
            rows = await one.fetch(
                _CLAIMS,
                source["id"],
                known_at,
                ids,
                [by_claim[i].since for i in ids],
                source["affiliation"],
            )
            record.claims = [
                RecordClaim(
                    row["claim_id"],
                    by_claim[row["claim_id"]],
                    row["status"],
                    row["confirmed"],
                    row["refuted"],
                )
                for row in rows
            ]
        record.ratings = list(await one.fetch(_RATINGS, source["id"], known_at))
    return record
