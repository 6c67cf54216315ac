"""A source's side on a claim, for its track record: its last assertion or denial, retracted or
not, from its statements in order of publication."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from claimledger.domain.values import Stance
from claimledger.projections.queries.record import Side, sides

CLAIM = uuid4()
OTHER = uuid4()


def said(stance: str, hour: int, claim: UUID = CLAIM) -> dict[str, Any]:
    return {
        "claim_id": claim,
        "stance": stance,
        "published_at": datetime(2024, 3, 12, hour, tzinfo=UTC),
        "position": hour,
    }


def at(hour: int) -> datetime:
    return datetime(2024, 3, 12, hour, tzinfo=UTC)


def test_an_assertion_repeated_keeps_its_first_moment() -> None:
    assert sides([said("asserts", 6), said("asserts", 9)]) == {CLAIM: Side(Stance.ASSERTS, at(6))}


def test_a_retraction_after_it_marks_it_retracted_and_a_new_assertion_restores_it() -> None:
    retracted = sides([said("asserts", 6), said("retracts", 8)])
    assert retracted == {CLAIM: Side(Stance.ASSERTS, at(6), retracted=True)}
    again = sides([said("asserts", 6), said("retracts", 8), said("asserts", 10)])
    assert again == {CLAIM: Side(Stance.ASSERTS, at(6), retracted=False)}


def test_a_change_of_side_counts_from_the_new_side() -> None:
    assert sides([said("asserts", 6), said("denies", 9)]) == {CLAIM: Side(Stance.DENIES, at(9))}


def test_verifications_and_lone_retractions_put_no_claim_on_the_record() -> None:
    statements = [said("confirms", 6), said("refutes", 7, OTHER), said("retracts", 8)]
    found = sides([*statements, said("denies", 9, OTHER)])
    assert found == {OTHER: Side(Stance.DENIES, at(9))}
