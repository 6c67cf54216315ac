"""What the views held, before a batch, of the claims, sources and statements it touches.

Read in a few queries before the batch is applied: the ids come from the batch's events (those
its own events create need no query); the batch then keeps what was read current.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from uuid import UUID

from claimledger.domain.claim import ClaimAdded, ClaimVerdictGiven
from claimledger.domain.source import SourceRegistered
from claimledger.domain.statement import StatementRecorded, StatementWithdrawn
from claimledger.domain.status import DerivedStatus
from claimledger.domain.values import Status, Verdict
from claimledger.projections.history import ClaimState, Interval
from claimledger.projections.queries import load_facts
from claimledger.store.db import Connection


@dataclass
class Prior:
    """The state of what a batch touches, by id."""

    claims: dict[UUID, ClaimState] = field(default_factory=dict)
    claim_incident: dict[UUID, UUID] = field(default_factory=dict)
    statement_claim: dict[UUID, UUID] = field(default_factory=dict)
    source_names: dict[UUID, str] = field(default_factory=dict)
    verdicts: dict[UUID, Verdict | None] = field(default_factory=dict)


async def load_prior(db: Connection, events: Iterable[object]) -> Prior:
    """What the views hold of what ``events`` touch, and what the events themselves tell."""
    prior = Prior()
    claim_ids: set[UUID] = set()
    source_ids: set[UUID] = set()
    withdrawn: set[UUID] = set()
    for event in events:
        match event:
            case SourceRegistered():
                prior.source_names[event.originator_id] = event.name
            case ClaimAdded():
                prior.claim_incident[event.originator_id] = event.incident_id
            case StatementRecorded():
                claim_ids.add(event.claim_id)
                source_ids.add(event.source_id)
                prior.statement_claim[event.originator_id] = event.claim_id
            case StatementWithdrawn():
                withdrawn.add(event.originator_id)
            case ClaimVerdictGiven():
                claim_ids.add(event.originator_id)
    unknown_statements = withdrawn - prior.statement_claim.keys()
    if unknown_statements:
        for row in await db.fetch(
            "SELECT id, claim_id FROM views.statements WHERE id = ANY($1::uuid[])",
            list(unknown_statements),
        ):
            prior.statement_claim[row["id"]] = row["claim_id"]
            claim_ids.add(row["claim_id"])
    await _load_claims(db, prior, claim_ids - prior.claim_incident.keys())
    missing_names = source_ids - prior.source_names.keys()
    if missing_names:
        for row in await db.fetch(
            "SELECT id, name FROM views.sources WHERE id = ANY($1::uuid[])", list(missing_names)
        ):
            prior.source_names[row["id"]] = row["name"]
    return prior


async def _load_claims(db: Connection, prior: Prior, claim_ids: set[UUID]) -> None:
    """Each claim's statements, its open history interval, its incident and its verdict."""
    if not claim_ids:
        return
    ids = list(claim_ids)
    facts = await load_facts(db, ids)
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
        for row in await db.fetch(
            "SELECT DISTINCT ON (claim_id) claim_id, seq, status, reason,"
            " deciding_statement_ids, statement_id, recorded_from FROM views.claim_history"
            " WHERE claim_id = ANY($1::uuid[]) ORDER BY claim_id, seq DESC",
            ids,
        )
    }
    for row in await db.fetch(
        "SELECT id, incident_id, recorded_at, verdict, status, reason, deciding_statement_ids"
        " FROM views.claims WHERE id = ANY($1::uuid[])",
        ids,
    ):
        claim_id = row["id"]
        prior.claim_incident[claim_id] = row["incident_id"]
        prior.verdicts[claim_id] = None if row["verdict"] is None else Verdict(row["verdict"])
        prior.claims[claim_id] = ClaimState(
            claim_id,
            row["incident_id"],
            row["recorded_at"],
            facts.get(claim_id, ()),
            status=Status(row["status"]),
            last=open_intervals.get(claim_id),
        )
