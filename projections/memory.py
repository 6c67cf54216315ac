"""What the projector remembers between batches: the claims it touched, their statements and the
sources' names, bounded, and valid only while it applies the store without a gap.

A batch asks ``recall`` for what its events touch; what memory lacks is read from the views in a
few queries. Memory is valid at one tracking position: the projector forgets it all when the
position it finds is not the one it left (another projector advanced, or the views were reset),
and when a batch fails halfway, since the batch changed the states it holds.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from uuid import UUID

from claimledger.domain.status import DerivedStatus
from claimledger.domain.values import Status, Verdict
from claimledger.projections.decoding import (
    ClaimAdded,
    ClaimVerdictGiven,
    SourceRegistered,
    StatementRecorded,
    StatementWithdrawn,
)
from claimledger.projections.history import ClaimState, Interval
from claimledger.projections.queries import load_facts
from claimledger.store.db import Connection

# About 80 MB of statements (about 1.3 kB each, with their claims' states) at most: with the API's
# and the dispatcher's processes, serve stays under 300 MB. And as many sources' names as a ledger
# is likely to have.
FACTS_KEPT = 60_000
_NAMES_KEPT = 200_000
# A claim's state costs memory of its own, about that of this many statements.
_CLAIM_WEIGHT = 3
# The claims a batch reads back at most: what it reads comes on top of what memory keeps, until
# the batch is over (a ledger's withdrawals of old statements can each need a claim of its own).
RECALLED_MOST = 1_000


class Memory:
    """Claim states by id, least recently touched first, and what they imply."""

    def __init__(self, *, facts_kept: int = FACTS_KEPT) -> None:
        self.facts_kept = facts_kept
        # The tracking position this memory is valid at; None: it holds nothing.
        self.position: int | None = None
        # Least recently touched first.
        self.claims: OrderedDict[UUID, ClaimState] = OrderedDict()
        self.statement_claim: dict[UUID, UUID] = {}
        # Each source's id and name, one object each, shared by every fact that names it.
        self.sources: dict[UUID, tuple[UUID, str]] = {}
        # Statements' worth held: each statement, and each claim as _CLAIM_WEIGHT of them.
        self.held = 0

    def valid_at(self, position: int) -> None:
        """Forget everything unless memory is valid at ``position``."""
        if self.position != position:
            self.forget()
            self.position = position

    def forget(self) -> None:
        self.position = None
        self.claims.clear()
        self.statement_claim.clear()
        self.sources.clear()
        self.held = 0

    def add_claim(self, state: ClaimState) -> None:
        self.claims[state.claim_id] = state
        self.held += _CLAIM_WEIGHT + len(state.facts)
        for statement_id in state.facts:
            self.statement_claim[statement_id] = state.claim_id

    def add_statement(self, statement_id: UUID, claim_id: UUID) -> None:
        self.statement_claim[statement_id] = claim_id
        self.held += 1

    def name_source(self, source_id: UUID, name: str) -> None:
        if len(self.sources) >= _NAMES_KEPT:
            self.sources.clear()
        self.sources[source_id] = (source_id, name)

    def source(self, source_id: UUID) -> tuple[UUID, str]:
        """The source's id and name as memory holds them (the name is empty when unknown)."""
        return self.sources.get(source_id) or (source_id, "")

    def touched(self, claim_ids: Iterable[UUID]) -> None:
        """Move these claims to the most recently touched end."""
        move = self.claims.move_to_end
        for claim_id in claim_ids:
            move(claim_id)

    def trim(self) -> None:
        """Forget the least recently touched claims while more statements than allowed are held."""
        claims = self.claims
        while self.held > self.facts_kept and claims:
            _, state = claims.popitem(last=False)
            self.held -= _CLAIM_WEIGHT + len(state.facts)
            for statement_id in state.facts:
                self.statement_claim.pop(statement_id, None)

    def reach(self, events: Sequence[object], most: int = RECALLED_MOST) -> int:
        """How many of ``events``, from the first, a batch can apply reading back at most
        ``most`` claims (always at least one event: each touches at most one claim)."""
        held, known = self.claims, self.statement_claim
        new_claims: set[UUID] = set()
        new_statements: set[UUID] = set()
        # Claims to read back; a withdrawn statement memory does not know stands for its claim.
        recalled: set[UUID] = set()
        for index, event in enumerate(events):
            match event:
                case ClaimAdded():
                    new_claims.add(event.originator_id)
                case StatementRecorded():
                    new_statements.add(event.originator_id)
                    if event.claim_id not in held and event.claim_id not in new_claims:
                        recalled.add(event.claim_id)
                case StatementWithdrawn():
                    statement_id = event.originator_id
                    if statement_id not in known and statement_id not in new_statements:
                        recalled.add(statement_id)
                case ClaimVerdictGiven():
                    claim_id = event.originator_id
                    if claim_id not in held and claim_id not in new_claims:
                        recalled.add(claim_id)
            if len(recalled) > most:
                return max(index, 1)
        return len(events)

    async def recall(self, db: Connection, events: Iterable[object]) -> None:
        """Read from the views what ``events`` touch and memory lacks."""
        claim_ids: set[UUID] = set()
        source_ids: set[UUID] = set()
        withdrawn: set[UUID] = set()
        new_claims: set[UUID] = set()
        new_statements: set[UUID] = set()
        for event in events:
            match event:
                case SourceRegistered():
                    self.name_source(event.originator_id, event.name)
                case ClaimAdded():
                    new_claims.add(event.originator_id)
                case StatementRecorded():
                    claim_ids.add(event.claim_id)
                    source_ids.add(event.source_id)
                    new_statements.add(event.originator_id)
                case StatementWithdrawn():
                    withdrawn.add(event.originator_id)
                case ClaimVerdictGiven():
                    claim_ids.add(event.originator_id)
        # (Not ``set - dict.keys()``: that goes through every key of the dict.)
        known = self.statement_claim
        unknown = {s for s in withdrawn - new_statements if s not in known}
        if unknown:
            for row in await db.fetch(
                "SELECT id, claim_id FROM views.statements WHERE id = ANY($1::uuid[])",
                list(unknown),
            ):
                claim_ids.add(row["claim_id"])
        held = self.claims
        await self._load_claims(db, {c for c in claim_ids - new_claims if c not in held})
        missing_names = {s for s in source_ids if s not in self.sources}
        if missing_names:
            for row in await db.fetch(
                "SELECT id, name FROM views.sources WHERE id = ANY($1::uuid[])",
                list(missing_names),
            ):
                self.name_source(row["id"], row["name"])

    async def _load_claims(self, db: Connection, claim_ids: set[UUID]) -> None:
        """Each claim's statements, its open history interval, its incident and its verdict."""
        if not claim_ids:
            return
        ids = list(claim_ids)
        facts = await load_facts(db, ids, sources=self.sources)
        open_intervals = {
            row["claim_id"]: Interval(
                seq=row["seq"],
                status=DerivedStatus(
                    Status(row["status"]),
                    tuple(row["deciding_statement_ids"]),
                    row["reason"],
                    tuple(row["opposing_statement_ids"]),
                ),
                statement_id=row["statement_id"],
                recorded_from=row["recorded_from"],
                recorded_to=None,
            )
            for row in await db.fetch(
                "SELECT DISTINCT ON (claim_id) claim_id, seq, status, reason,"
                " deciding_statement_ids, opposing_statement_ids, statement_id, recorded_from"
                " FROM views.claim_history"
                " WHERE claim_id = ANY($1::uuid[]) ORDER BY claim_id, seq DESC",
                ids,
            )
        }
        for row in await db.fetch(
            "SELECT id, incident_id, recorded_at, verdict, status FROM views.claims"
            " WHERE id = ANY($1::uuid[])",
            ids,
        ):
            claim_id = row["id"]
            self.add_claim(
                ClaimState(
                    claim_id,
                    row["incident_id"],
                    row["recorded_at"],
                    facts.get(claim_id, ()),
                    status=Status(row["status"]),
                    last=open_intervals.get(claim_id),
                    verdict=None if row["verdict"] is None else Verdict(row["verdict"]),
                )
            )
