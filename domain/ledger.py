"""The ledger: every command that appends events, on the eventsourcing library's application.

It is synchronous (the library is); the HTTP adapter calls it from worker threads. It says
nothing of where events are kept: the store configures it for PostgreSQL, and the unit tests run
it on the library's in-memory store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, DomainEventProtocol
from eventsourcing.persistence import IntegrityError, Recording
from eventsourcing.utils import Environment, EnvType

from claimledger.domain.claim import Claim
from claimledger.domain.errors import (
    Conflict,
    IdempotencyConflict,
    InvalidInput,
    NotFound,
    UnknownReference,
)
from claimledger.domain.incident import Incident, IncidentDraft
from claimledger.domain.known import KnownIds
from claimledger.domain.receipts import (
    Receipt,
    StatementRequest,
    receipts_of,
    refuse_repeated_keys,
    replayed,
)
from claimledger.domain.source import Source
from claimledger.domain.statement import Statement, statement_id_for
from claimledger.domain.values import Reliability, SourceKind, Verdict

A = TypeVar("A", bound=Aggregate)
Event = DomainEventProtocol[UUID]

# An update that loses a race re-reads the aggregate and tries again, this many times.
_UPDATE_ATTEMPTS = 5


class Ledger(Application[UUID]):
    """The write side of claimledger."""

    name = "ClaimLedger"

    def __init__(
        self, env: EnvType | None = None, *, clock_skew: timedelta = timedelta(minutes=5)
    ) -> None:
        super().__init__(env)
        if self.repository.cache is not None or self.snapshots is not None:
            raise ValueError("a ledger keeps no aggregate cache or snapshots (see _put)")
        self.clock_skew = clock_skew
        self.known = KnownIds()

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """Configure from the given settings only; the process environment is read elsewhere."""
        merged = dict(type(self).env)
        merged.update(env or {})
        return Environment(name, merged)

    def has(self, aggregate_id: UUID) -> bool:
        return aggregate_id in self.repository

    def create(self, aggregates: list[Source | Incident | Claim]) -> list[Receipt]:
        """Save new sources, incidents and claims in one transaction: all of them or none."""
        incidents = {a.id for a in aggregates if isinstance(a, Incident)}
        for index, aggregate in enumerate(aggregates):
            if isinstance(aggregate, Claim) and aggregate.incident_id not in incidents:
                if self._find(Incident, aggregate.incident_id) is None:
                    raise UnknownReference(
                        "incident", aggregate.incident_id, field=f"[{index}].incident_id"
                    )
                incidents.add(aggregate.incident_id)
        try:
            receipts = receipts_of(self._put(*aggregates))
        except IntegrityError as error:
            raise Conflict("an id in this batch exists already") from error
        for aggregate in aggregates:
            if isinstance(aggregate, Claim):
                self.known.claim(aggregate.id, aggregate.incident_id)
            elif isinstance(aggregate, Source):
                self.known.source(aggregate.id)
        return receipts

    # -- sources --------------------------------------------------------------------------------

    def register_source(
        self,
        *,
        name: str,
        kind: SourceKind,
        affiliation: str | None,
        channels: tuple[str, ...],
        url: str | None,
        recorded_by: UUID,
        source_id: UUID | None = None,
    ) -> Receipt:
        source = Source.register(
            name=name,
            kind=kind,
            affiliation=affiliation,
            channels=channels,
            url=url,
            recorded_by=recorded_by,
            source_id=source_id,
        )
        receipt = receipts_of(self._put(source))[0]
        self.known.source(source.id)
        return receipt

    def rate_source(
        self, source_id: UUID, *, reliability: Reliability, rationale: str | None, recorded_by: UUID
    ) -> Receipt:
        return self._update(
            Source,
            source_id,
            lambda s: s.rate(reliability=reliability, rationale=rationale, recorded_by=recorded_by),
        )

    # -- incidents and claims -------------------------------------------------------------------

    def open_incident(
        self, draft: IncidentDraft, *, recorded_by: UUID, incident_id: UUID | None = None
    ) -> Receipt:
        incident = Incident.open(draft, recorded_by=recorded_by, incident_id=incident_id)
        return receipts_of(self._put(incident))[0]

    def revise_incident(
        self,
        incident_id: UUID,
        revise: Callable[[IncidentDraft], IncidentDraft],
        *,
        recorded_by: UUID,
    ) -> Receipt:
        return self._update(
            Incident,
            incident_id,
            lambda i: i.revise(revise(i.draft), recorded_by=recorded_by),
        )

    def add_claim(
        self, incident_id: UUID, *, text: str, recorded_by: UUID, claim_id: UUID | None = None
    ) -> Receipt:
        self._get(Incident, incident_id)
        claim = Claim.add(
            incident_id=incident_id, text=text, recorded_by=recorded_by, claim_id=claim_id
        )
        receipt = receipts_of(self._put(claim))[0]
        self.known.claim(claim.id, incident_id)
        return receipt

    def give_verdict(
        self, claim_id: UUID, *, verdict: Verdict, rationale: str | None, recorded_by: UUID
    ) -> Receipt:
        return self._update(
            Claim,
            claim_id,
            lambda c: c.give_verdict(verdict=verdict, rationale=rationale, recorded_by=recorded_by),
        )

    # -- statements -----------------------------------------------------------------------------

    def record_statement(self, request: StatementRequest, *, recorded_by: UUID) -> Receipt:
        prepared = self.prepare_statement(request, recorded_by=recorded_by)
        if isinstance(prepared, Receipt):
            return prepared
        return self._save_prepared(request, prepared.collect_events())

    def prepare_statement(
        self, request: StatementRequest, *, recorded_by: UUID
    ) -> Receipt | Statement:
        """The statement a request records, unsaved; for a retried request, the first's receipt."""
        if request.idempotency_key is not None:
            statement_id = statement_id_for(request.idempotency_key)
            existing = self._find(Statement, statement_id)
            if existing is not None:
                return replayed(existing, request)
        return self._new_statement(request, recorded_by=recorded_by)

    def save_statements_apart(
        self, prepared: list[tuple[StatementRequest, Statement]]
    ) -> list[Receipt | Exception]:
        """Save prepared statements of separate requests in one transaction, each answered as if
        saved alone: when the transaction fails on one of them (a key recorded meanwhile),
        each is saved by itself, and one's failure is its own."""
        # Taken from the aggregates once: a failed save must not lose them for the retries.
        pending = [statement.collect_events() for _, statement in prepared]
        try:
            return list(receipts_of(self._put(*(e for events in pending for e in events))))
        except IntegrityError:
            outcomes: list[Receipt | Exception] = []
        for (request, _), events in zip(prepared, pending, strict=True):
            try:
                outcomes.append(self._save_prepared(request, events))
            except Exception as error:  # the request's own answer, raised to it alone
                outcomes.append(error)
        return outcomes

    def _save_prepared(self, request: StatementRequest, events: Sequence[Event]) -> Receipt:
        try:
            (receipt,) = receipts_of(self._put(*events))
        except IntegrityError:
            # Two requests with one Idempotency-Key raced; the other one won.
            if request.idempotency_key is None:
                raise
            return replayed(self._get(Statement, events[0].originator_id), request)
        return receipt

    def record_statements(
        self,
        requests: list[StatementRequest],
        *,
        recorded_by: UUID,
        unrecorded: AbstractSet[UUID] = frozenset(),
    ) -> list[Receipt]:
        """Record many statements in one transaction: all of them or none.

        Requests whose Idempotency-Key was recorded before answer as replays and are not written
        again; an IntegrityError (a key recorded concurrently) fails the whole batch.
        ``unrecorded`` names statement ids a caller has found absent in one query, so they are
        not looked up one by one.
        """
        refuse_repeated_keys(requests)
        receipts: list[Receipt | None] = []
        new: list[Event] = []
        for index, request in enumerate(requests):
            try:
                if request.idempotency_key is not None:
                    statement_id = statement_id_for(request.idempotency_key)
                    existing = (
                        None if statement_id in unrecorded else self._find(Statement, statement_id)
                    )
                    if existing is not None:
                        receipts.append(replayed(existing, request))
                        continue
                new += self._new_statement(request, recorded_by=recorded_by).collect_events()
            except UnknownReference as error:
                error.field = f"statements[{index}].{error.field}"
                raise
            except NotFound as error:
                raise UnknownReference(
                    error.kind, error.entity_id, field=f"statements[{index}].claim_id"
                ) from error
            except (IdempotencyConflict, InvalidInput) as error:
                error.field = f"statements[{index}].{error.field}"
                raise
            receipts.append(None)
        try:
            recorded = iter(receipts_of(self._put(*new)) if new else [])
        except IntegrityError as error:
            raise Conflict(
                "a statement of this batch was recorded concurrently; retry the batch"
            ) from error
        return [r if r is not None else next(recorded) for r in receipts]

    def withdraw_statements(
        self, withdrawals: list[tuple[UUID, str]], *, recorded_by: UUID
    ) -> list[Receipt]:
        """Withdraw several statements in one transaction: all of them or none."""
        statements = []
        for statement_id, reason in withdrawals:
            statement = self._get(Statement, statement_id)
            statement.withdraw(reason=reason, recorded_by=recorded_by)
            statements.append(statement)
        try:
            return receipts_of(self._put(*statements))
        except IntegrityError as error:
            raise Conflict("a statement of this batch changed concurrently") from error

    def withdraw_statement(self, statement_id: UUID, *, reason: str, recorded_by: UUID) -> Receipt:
        return self._update(
            Statement, statement_id, lambda s: s.withdraw(reason=reason, recorded_by=recorded_by)
        )

    def _new_statement(self, request: StatementRequest, *, recorded_by: UUID) -> Statement:
        draft = request.draft
        # An archived statement could not be published after the ledger learned it.
        draft.check(now=request.recorded_at or datetime.now(UTC), clock_skew=self.clock_skew)
        incident_id = self._incident_of_claim(request.claim_id)
        self._require_source(draft.source_id, field="source_id")
        if draft.via_source_id is not None:
            self._require_source(draft.via_source_id, field="via_source_id")
        return Statement.record(
            claim_id=request.claim_id,
            incident_id=incident_id,
            draft=draft,
            recorded_by=request.recorded_by or recorded_by,
            statement_id=(
                statement_id_for(request.idempotency_key)
                if request.idempotency_key is not None
                else request.statement_id
            ),
            fingerprint=request.fingerprint,
            recorded_at=request.recorded_at,
        )

    def _incident_of_claim(self, claim_id: UUID) -> UUID:
        incident_id = self.known.incident_of(claim_id)
        if incident_id is None:
            incident_id = self._get(Claim, claim_id).incident_id
            self.known.claim(claim_id, incident_id)
        return incident_id

    def _require_source(self, source_id: UUID, *, field: str) -> None:
        if self.known.has_source(source_id):
            return
        if self._find(Source, source_id) is None:
            raise UnknownReference("source", source_id, field=field)
        self.known.source(source_id)

    def _find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, cls) else None

    def _get(self, cls: type[A], aggregate_id: UUID) -> A:
        aggregate = self._find(cls, aggregate_id)
        if aggregate is None:
            raise NotFound(cls.__name__.lower(), aggregate_id)
        return aggregate

    def _put(self, *objs: Aggregate | Event) -> list[Recording[UUID]]:
        # ``save`` without its two runtime protocol checks of each object (7 µs a statement on
        # Python 3.11); a ledger has no aggregate cache or snapshots to tend (``__init__``).
        events = [
            e for o in objs for e in (o.collect_events() if isinstance(o, Aggregate) else [o])
        ]
        return self.events.put(events)

    def _update(self, cls: type[A], aggregate_id: UUID, change: Callable[[A], None]) -> Receipt:
        for _ in range(_UPDATE_ATTEMPTS):
            aggregate = self._get(cls, aggregate_id)
            change(aggregate)
            try:
                recordings = self._put(aggregate)
            except IntegrityError:
                continue
            return receipts_of(recordings)[-1]
        raise Conflict(f"{cls.__name__.lower()} {aggregate_id} is changing too fast; try again")
