"""A statement: a source taking a stance on a claim at a moment, and its withdrawal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from claimledger.domain.errors import AlreadyWithdrawn, InvalidInput
from claimledger.domain.values import Evidence, Stance, check_instant

# Ids of statements recorded with an Idempotency-Key live in their own namespace, so a retry of the
# same key finds the aggregate the first attempt created.
IDEMPOTENT_STATEMENTS = UUID("6b0f3c0e-54d4-5a3e-9a0e-7c1a2f0d9e41")


def statement_id_for(idempotency_key: str) -> UUID:
    return uuid5(IDEMPOTENT_STATEMENTS, idempotency_key)


@dataclass(frozen=True, slots=True)
class StatementDraft:
    """A statement as a client sends it, before the ledger records it."""

    source_id: UUID
    stance: Stance
    published_at: datetime
    quote: str | None = None
    language: str | None = None
    url: str | None = None
    channel: str | None = None
    via_source_id: UUID | None = None
    evidence: tuple[Evidence, ...] = ()
    credibility: int | None = None

    def check(self, *, now: datetime, clock_skew: timedelta) -> None:
        check_instant(self.published_at, field="published_at")
        if self.published_at > now + clock_skew:
            raise InvalidInput(
                f"published_at {self.published_at.isoformat()} is in the future",
                field="published_at",
            )
        if self.via_source_id is not None and self.via_source_id == self.source_id:
            raise InvalidInput("a source cannot relay itself", field="via_source_id")


class Statement(Aggregate):
    if TYPE_CHECKING:
        claim_id: UUID
        incident_id: UUID
        draft: StatementDraft
        fingerprint: str | None
        withdrawn: bool

    @classmethod
    def record(
        cls,
        *,
        claim_id: UUID,
        incident_id: UUID,
        draft: StatementDraft,
        recorded_by: UUID,
        statement_id: UUID | None = None,
        fingerprint: str | None = None,
        recorded_at: datetime | None = None,
    ) -> Statement:
        # What the library's ``_create`` does, for the one class and event it is here (it
        # would take their names apart and test which arguments go where, for each statement).
        fields = {name: getattr(draft, name) for name in StatementDraft.__dataclass_fields__}
        fields.update(
            originator_topic=_TOPIC,
            originator_id=uuid4() if statement_id is None else statement_id,
            originator_version=cls.INITIAL_VERSION,
            timestamp=recorded_at or StatementRecorded.create_timestamp(),
            claim_id=claim_id,
            incident_id=incident_id,
            recorded_by=recorded_by,
            fingerprint=fingerprint,
        )
        event = StatementRecorded(**fields)
        statement = event.begin(draft)
        statement.pending_events.append(event)
        return statement

    def withdraw(
        self, *, reason: str, recorded_by: UUID, recorded_at: datetime | None = None
    ) -> None:
        if self.withdrawn:
            raise AlreadyWithdrawn(f"statement {self.id} was already withdrawn")
        self.trigger_event(
            StatementWithdrawn, reason=reason, recorded_by=recorded_by, timestamp=recorded_at
        )


class StatementRecorded(Aggregate.Created):
    claim_id: UUID
    incident_id: UUID
    source_id: UUID
    stance: Stance
    published_at: datetime
    quote: str | None
    language: str | None
    url: str | None
    channel: str | None
    via_source_id: UUID | None
    evidence: tuple[Evidence, ...]
    credibility: int | None
    recorded_by: UUID
    # A digest of the request that created the statement, so a reused Idempotency-Key with a
    # different request can be told apart from a retry.
    fingerprint: str | None

    def mutate(self, aggregate: Any) -> Any:
        """The statement this event begins. (The library's constructor would find the class by
        its topic and match the event's fields against its init methods' signatures, for each
        event: a statement's class and fields are known.)"""
        return self.begin(
            StatementDraft(
                **{name: getattr(self, name) for name in StatementDraft.__dataclass_fields__}
            )
        )

    def begin(self, draft: StatementDraft) -> Statement:
        """The statement this event begins, whose draft (the event's fields) is ``draft``."""
        statement = Statement.__new__(Statement)
        statement.__base_init__(self.originator_id, self.originator_version, self.timestamp)
        statement.claim_id = self.claim_id
        statement.incident_id = self.incident_id
        statement.draft = draft
        statement.fingerprint = self.fingerprint
        statement.withdrawn = False
        return statement


class StatementWithdrawn(Aggregate.Event):
    reason: str
    recorded_by: UUID

    def apply(self, aggregate: Any) -> None:
        aggregate.withdrawn = True


_TOPIC = get_topic(Statement)
