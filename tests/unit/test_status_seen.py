"""A claim's status seen from a moment on either time axis, and what its reason says when nothing
counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from claimledger.domain.values import Stance, Status
from claimledger.projections.history import StatementFact, status_seen

T0 = datetime(2024, 3, 12, 6, tzinfo=UTC)
SOURCE = uuid4()


def fact(stance: Stance, hour: int, *, withdrawn_hour: int | None = None) -> StatementFact:
    return StatementFact(
        id=uuid4(),
        source_id=SOURCE,
        source_name="FSB",
        stance=stance,
        published_at=T0 + timedelta(hours=hour),
        recorded_at=T0 + timedelta(hours=hour, minutes=5),
        position=hour + 1,
        withdrawn_at=None if withdrawn_hour is None else T0 + timedelta(hours=withdrawn_hour),
        withdrawal_position=None if withdrawn_hour is None else 100 + withdrawn_hour,
    )


def test_a_claim_whose_statements_were_all_withdrawn_says_so_from_then_on() -> None:
    facts = [fact(Stance.DENIES, 0, withdrawn_hour=2), fact(Stance.DENIES, 1, withdrawn_hour=3)]
    now = status_seen(facts)
    assert (now.status, now.reason) == (
        Status.UNVERIFIED,
        "unverified: every statement on this claim was withdrawn",
    )
    # Before the second withdrawal was recorded, one denial still stood.
    then = status_seen(facts, known_at=T0 + timedelta(hours=2, minutes=30))
    assert then.reason == "denied: denied by FSB"
    # Before anything was recorded there was no statement yet.
    assert status_seen(facts, known_at=T0).reason == "unverified: no statement on this claim yet"


def test_statements_published_later_are_not_counted_as_withdrawn() -> None:
    facts = [fact(Stance.DENIES, 0, withdrawn_hour=2), fact(Stance.ASSERTS, 1)]
    before = status_seen(facts, published_before=T0 + timedelta(minutes=30))
    assert (before.status, before.reason) == (
        Status.UNVERIFIED,
        "unverified: no statement on this claim yet",
    )
    # With nothing published later, the one statement published by then was withdrawn.
    alone = status_seen(facts[:1], published_before=T0 + timedelta(minutes=30))
    assert alone.reason == "unverified: every statement on this claim was withdrawn"
