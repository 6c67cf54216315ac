"""Statements as the status rule needs them: what the projector derives a claim's status from,
and what an as-of read derives it from again."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from uuid import UUID

import asyncpg

from claimledger.domain.values import Stance
from claimledger.projections.history import StatementFact
from claimledger.store.db import Db

_FACTS = (
    "SELECT s.id, s.claim_id, s.source_id, src.name AS source_name, s.stance, s.published_at,"
    " s.recorded_at, s.position, s.withdrawn_at, s.withdrawal_position,"
    " ARRAY(SELECT e ->> 'kind' FROM jsonb_array_elements(s.evidence) e) AS kinds"
    " FROM views.statements s JOIN views.sources src ON src.id = s.source_id"
)

# What a read as known at a moment leaves out: the rule does not see statements recorded later.
_RECORDED_BY = " AND s.recorded_at <= $2"


# Evidence kinds as tuples, one object per combination (a projector keeps many facts).
_KINDS: dict[tuple[str, ...], tuple[str, ...]] = {}
_KINDS_KEPT = 1000
# A source's id and name, as one object each, by its id.
Sources = Mapping[UUID, tuple[UUID, str]]


def _kinds(kinds: list[str]) -> tuple[str, ...]:
    if not kinds:
        return ()
    found = tuple(kinds)
    if len(_KINDS) >= _KINDS_KEPT:
        return found
    return _KINDS.setdefault(found, found)


def _fact(row: asyncpg.Record, sources: Sources) -> StatementFact:
    source_id, source_name = sources.get(row["source_id"]) or (
        row["source_id"],
        row["source_name"],
    )
    return StatementFact(
        id=row["id"],
        source_id=source_id,
        source_name=source_name,
        stance=Stance(row["stance"]),
        published_at=row["published_at"],
        recorded_at=row["recorded_at"],
        position=row["position"],
        withdrawn_at=row["withdrawn_at"],
        withdrawal_position=row["withdrawal_position"],
        evidence_kinds=_kinds(row["kinds"]),
    )


def _by_claim(rows: Iterable[asyncpg.Record], sources: Sources) -> dict[UUID, list[StatementFact]]:
    facts: dict[UUID, list[StatementFact]] = defaultdict(list)
    for row in rows:
        facts[row["claim_id"]].append(_fact(row, sources))
    return facts


async def load_facts(
    db: Db,
    claim_ids: Iterable[UUID],
    *,
    sources: Sources | None = None,
    recorded_by: datetime | None = None,
) -> dict[UUID, list[StatementFact]]:
    """Every statement on these claims (recorded by ``recorded_by``, if given), as the status
    rule needs them; ``sources`` gives the objects to share for sources' ids and names (so that
    many facts hold one of each)."""
    rows = await _rows(db, " WHERE s.claim_id = ANY($1::uuid[])", list(claim_ids), recorded_by)
    return _by_claim(rows, sources or {})


async def load_incident_facts(
    db: Db, incident_id: UUID, *, recorded_by: datetime | None = None
) -> dict[UUID, list[StatementFact]]:
    """Every statement on the incident's claims (recorded by ``recorded_by``, if given), by
    claim."""
    return _by_claim(await _rows(db, " WHERE s.incident_id = $1", incident_id, recorded_by), {})


async def _rows(
    db: Db, where: str, key: object, recorded_by: datetime | None
) -> list[asyncpg.Record]:
    if recorded_by is None:
        return list(await db.fetch(_FACTS + where, key))
    return list(await db.fetch(_FACTS + where + _RECORDED_BY, key, recorded_by))
