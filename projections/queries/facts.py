"""Statements as the status rule needs them: what the projector derives a claim's status from,
and what an as-of read derives it from again."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
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


def _fact(row: asyncpg.Record) -> StatementFact:
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


def _by_claim(rows: Iterable[asyncpg.Record]) -> dict[UUID, list[StatementFact]]:
    facts: dict[UUID, list[StatementFact]] = defaultdict(list)
    for row in rows:
        facts[row["claim_id"]].append(_fact(row))
    return facts


async def load_facts(db: Db, claim_ids: Iterable[UUID]) -> dict[UUID, list[StatementFact]]:
    """Every statement on these claims, as the status rule needs them."""
    return _by_claim(
        await db.fetch(_FACTS + " WHERE s.claim_id = ANY($1::uuid[])", list(claim_ids))
    )


async def load_incident_facts(db: Db, incident_id: UUID) -> dict[UUID, list[StatementFact]]:
    """Every statement on the incident's claims, by claim."""
    return _by_claim(await db.fetch(_FACTS + " WHERE s.incident_id = $1", incident_id))
