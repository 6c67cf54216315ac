"""The ledger's rules on the eventsourcing library's in-memory store: no database needed.

Idempotent statements (a retry finds the first, a reused key with another request is refused),
batches (all or none, keys unique within one), references that must exist, withdrawals once,
and the stored topics that do not follow where the code lives.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from claimledger.domain.errors import (
    AlreadyWithdrawn,
    IdempotencyConflict,
    InvalidInput,
    UnknownReference,
)
from claimledger.domain.incident import Incident, IncidentDraft
from claimledger.domain.ledger import Ledger
from claimledger.domain.receipts import StatementRequest
from claimledger.domain.statement import Statement, StatementDraft, StatementRecorded
from claimledger.domain.values import SourceKind, Stance
from claimledger.store.codec import MsgspecMapper, stored_topic

WRITER = UUID(int=0)
AN_HOUR_AGO = datetime.now(UTC) - timedelta(hours=1)


@pytest.fixture
def ledger() -> Ledger:
    # The library's in-memory store, with the events encoded as the store encodes them.
    return Ledger({"MAPPER_TOPIC": "claimledger.store.codec:MsgspecMapper"})


@pytest.fixture
def claim(ledger: Ledger) -> UUID:
    incident = ledger.open_incident(IncidentDraft(title="Raid"), recorded_by=WRITER)
    return ledger.add_claim(incident.id, text="Taken", recorded_by=WRITER).id


@pytest.fixture
def source(ledger: Ledger) -> UUID:
    receipt = ledger.register_source(
        name="FSB",
        kind=SourceKind.SECURITY_SERVICE,
        affiliation=None,
        channels=(),
        url=None,
        recorded_by=WRITER,
    )
    return receipt.id


def request(
    claim: UUID, source: UUID, *, key: str | None = None, stance: Stance = Stance.DENIES
) -> StatementRequest:
    draft = StatementDraft(source_id=source, stance=stance, published_at=AN_HOUR_AGO)
    return StatementRequest(
        claim_id=claim,
        draft=draft,
        idempotency_key=key,
        fingerprint=None if key is None else f"{claim}:{stance}",
    )


def test_a_retry_with_the_same_key_answers_the_first_statement(
    ledger: Ledger, claim: UUID, source: UUID
) -> None:
    first = ledger.record_statement(request(claim, source, key="k"), recorded_by=WRITER)
    again = ledger.record_statement(request(claim, source, key="k"), recorded_by=WRITER)
    assert again.replayed
    assert not first.replayed
    assert again.id == first.id
    assert again.position is None  # the adapter looks the first one's up
    assert ledger.repository.get(first.id).version == 1


def test_a_key_reused_for_another_request_is_refused(
    ledger: Ledger, claim: UUID, source: UUID
) -> None:
    ledger.record_statement(request(claim, source, key="k"), recorded_by=WRITER)
    with pytest.raises(IdempotencyConflict):
        ledger.record_statement(
            request(claim, source, key="k", stance=Stance.ASSERTS), recorded_by=WRITER
        )


def test_a_batch_is_recorded_whole_or_not_at_all(ledger: Ledger, claim: UUID, source: UUID) -> None:
    before = ledger.recorder.max_notification_id()
    broken = [request(claim, source), request(uuid4(), source)]
    with pytest.raises(UnknownReference) as refused:
        ledger.record_statements(broken, recorded_by=WRITER)
    assert refused.value.field == "statements[1].claim_id"
    assert ledger.recorder.max_notification_id() == before
    receipts = ledger.record_statements(
        [request(claim, source), request(claim, source, key="b")], recorded_by=WRITER
    )
    assert [r.position for r in receipts] == [before + 1, before + 2]  # type: ignore[operator]


def test_a_batch_replays_keys_recorded_before_and_refuses_a_key_twice(
    ledger: Ledger, claim: UUID, source: UUID
) -> None:
    first = ledger.record_statement(request(claim, source, key="a"), recorded_by=WRITER)
    receipts = ledger.record_statements(
        [request(claim, source, key="a"), request(claim, source, key="b")], recorded_by=WRITER
    )
    assert receipts[0].replayed
    assert receipts[0].id == first.id
    assert not receipts[1].replayed
    with pytest.raises(InvalidInput) as twice:
        ledger.record_statements(
            [request(claim, source, key="c"), request(claim, source, key="c")],
            recorded_by=WRITER,
        )
    assert twice.value.field == "statements[1].idempotency_key"
    assert "statements[0]" in twice.value.detail


def test_a_statement_needs_a_known_source_and_a_past_publication(
    ledger: Ledger, claim: UUID, source: UUID
) -> None:
    with pytest.raises(UnknownReference) as unknown:
        ledger.record_statement(request(claim, uuid4()), recorded_by=WRITER)
    assert unknown.value.field == "source_id"
    future = request(claim, source)
    future = replace(
        future, draft=replace(future.draft, published_at=datetime.now(UTC) + timedelta(days=1))
    )
    with pytest.raises(InvalidInput, match="in the future"):
        ledger.record_statement(future, recorded_by=WRITER)
    old = replace(
        future, draft=replace(future.draft, published_at=datetime(1899, 1, 1, tzinfo=UTC))
    )
    with pytest.raises(InvalidInput, match="1900"):
        ledger.record_statement(old, recorded_by=WRITER)


def test_a_statement_is_withdrawn_once(ledger: Ledger, claim: UUID, source: UUID) -> None:
    said = ledger.record_statement(request(claim, source), recorded_by=WRITER)
    ledger.withdraw_statement(said.id, reason="wrong claim", recorded_by=WRITER)
    statement: object = ledger.repository.get(said.id)
    assert isinstance(statement, Statement)
    assert statement.withdrawn
    with pytest.raises(AlreadyWithdrawn):
        ledger.withdraw_statement(said.id, reason="again", recorded_by=WRITER)


def test_stored_topics_do_not_follow_the_package_and_old_ones_still_resolve(
    ledger: Ledger, claim: UUID, source: UUID
) -> None:
    assert stored_topic(StatementRecorded) == "domain.statement:StatementRecorded"
    said = ledger.record_statement(request(claim, source), recorded_by=WRITER)
    (stored,) = ledger.recorder.select_events(said.id)
    assert stored.topic == "domain.statement:StatementRecorded"
    # An aggregate created by an older version names its class by the old module path.
    assert b'"originator_topic":"claimledger.domain.statement:Statement"' in stored.state
    old = replace(
        stored, state=stored.state.replace(b"claimledger.domain.statement", b"domain.statement")
    )
    event = MsgspecMapper().to_domain_event(old)
    assert isinstance(event, StatementRecorded)
    assert isinstance(event.mutate(None), Statement)


def test_a_statement_is_recorded_as_the_library_would_create_it(source: UUID) -> None:
    draft = StatementDraft(
        source_id=source, stance=Stance.DENIES, published_at=AN_HOUR_AGO, quote="Тёткино"
    )
    given: dict[str, Any] = {
        "claim_id": uuid4(),
        "incident_id": uuid4(),
        "recorded_by": WRITER,
        "fingerprint": "f" * 64,
    }
    for statement_id, recorded_at in ((uuid4(), AN_HOUR_AGO), (None, None)):
        ours = Statement.record(
            draft=draft, statement_id=statement_id, recorded_at=recorded_at, **given
        )
        (event,) = ours.collect_events()
        theirs = Statement._create(
            StatementRecorded,
            id=event.originator_id,
            timestamp=event.timestamp,
            **given,
            **{name: getattr(draft, name) for name in StatementDraft.__dataclass_fields__},
        )
        (expected,) = theirs.collect_events()
        assert vars(event) == vars(expected)
        assert type(event) is type(expected)
        assert statement_id is None or event.originator_id == statement_id
        assert recorded_at is None or event.timestamp == recorded_at
        assert (ours.id, ours.version, ours.created_on, ours.modified_on) == (
            theirs.id,
            theirs.version,
            theirs.created_on,
            theirs.modified_on,
        )
        assert (ours.claim_id, ours.incident_id, ours.draft, ours.fingerprint) == (
            theirs.claim_id,
            theirs.incident_id,
            theirs.draft,
            theirs.fingerprint,
        )
        assert not ours.withdrawn
        # Rebuilt from its event, as the repository rebuilds it.
        again: object = event.mutate(None)
        assert isinstance(again, Statement)
        assert (again.id, again.version, again.draft) == (ours.id, 1, draft)


def test_a_ledger_stores_what_the_library_save_would() -> None:
    # Its own writes put events in the store directly; the library's save beside them.
    ours = Ledger({"MAPPER_TOPIC": "claimledger.store.codec:MsgspecMapper"})
    theirs = Ledger({"MAPPER_TOPIC": "claimledger.store.codec:MsgspecMapper"})
    incident = Incident.open(IncidentDraft(title="Raid"), recorded_by=WRITER)
    twin = Incident.open(IncidentDraft(title="Raid"), recorded_by=WRITER, incident_id=incident.id)
    (event,) = twin.pending_events
    object.__setattr__(event, "timestamp", incident.pending_events[0].timestamp)
    put = ours.create([incident])
    saved = theirs.save(twin)
    assert [(r.id, r.position) for r in put] == [
        (r.domain_event.originator_id, r.notification.id) for r in saved
    ]
    assert ours.recorder.select_notifications(start=1, limit=10) == (
        theirs.recorder.select_notifications(start=1, limit=10)
    )


def test_a_ledger_refuses_an_aggregate_cache_it_would_not_tend() -> None:
    # Its writes skip the library's save, which is where a cache or snapshots are kept up.
    with pytest.raises(ValueError, match="no aggregate cache"):
        Ledger({"AGGREGATE_CACHE_MAXSIZE": "10"})
    with pytest.raises(ValueError, match="no aggregate cache"):
        Ledger({"IS_SNAPSHOTTING_ENABLED": "y"})
