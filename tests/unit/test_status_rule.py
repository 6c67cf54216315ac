"""The status rule, rule by rule: given these statements in view, the status is this."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claimledger.domain.status import StanceRecord, Tally, decide, derive_status
from claimledger.domain.values import Stance, Status

T0 = datetime(2024, 3, 12, tzinfo=UTC)
_positions = count(1)

A, B, C, D = (uuid4() for _ in range(4))
NAMES = {A: "Armed group", B: "Ministry", C: "Newsroom", D: "Observers"}


def said(
    source: UUID,
    stance: Stance,
    minute: int,
    *,
    withdrawn: bool = False,
    evidence: tuple[str, ...] = (),
) -> StanceRecord:
    return StanceRecord(
        statement_id=uuid4(),
        source_id=source,
        source_name=NAMES[source],
        stance=stance,
        published_at=T0 + timedelta(minutes=minute),
        position=next(_positions),
        withdrawn=withdrawn,
        evidence_kinds=evidence,
    )


ASSERTS, DENIES, CONFIRMS, REFUTES, RETRACTS = (
    Stance.ASSERTS,
    Stance.DENIES,
    Stance.CONFIRMS,
    Stance.REFUTES,
    Stance.RETRACTS,
)


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        pytest.param([], Status.UNVERIFIED, id="no statements: unverified"),
        pytest.param([(A, ASSERTS)], Status.CLAIMED, id="A: claimed"),
        pytest.param([(B, DENIES)], Status.DENIED, id="D: denied"),
        pytest.param([(A, ASSERTS), (B, DENIES)], Status.DISPUTED, id="A and D: disputed"),
        pytest.param([(C, CONFIRMS)], Status.CONFIRMED, id="C: confirmed"),
        pytest.param([(C, REFUTES)], Status.REFUTED, id="R: refuted"),
        pytest.param(
            [(A, ASSERTS), (B, DENIES), (C, CONFIRMS)], Status.CONFIRMED, id="C beats A and D"
        ),
        pytest.param([(A, ASSERTS), (C, REFUTES)], Status.REFUTED, id="R beats A"),
        pytest.param([(C, CONFIRMS), (D, REFUTES)], Status.CONTESTED, id="C and R: contested"),
        pytest.param([(A, RETRACTS)], Status.RETRACTED, id="only a retraction: retracted"),
    ],
)
def test_rule_4_the_sets_decide(statements: list[tuple[UUID, Stance]], expected: Status) -> None:
    records = [said(source, stance, minute) for minute, (source, stance) in enumerate(statements)]
    assert derive_status(records).status is expected


def test_rule_1_withdrawn_statements_are_dropped() -> None:
    records = [said(A, ASSERTS, 1), said(B, DENIES, 2, withdrawn=True)]
    assert derive_status(records).status is Status.CLAIMED
    assert derive_status([said(A, ASSERTS, 1, withdrawn=True)]).status is Status.UNVERIFIED


def test_rule_1_a_withdrawn_retraction_cancels_nothing() -> None:
    records = [said(A, ASSERTS, 1), said(A, RETRACTS, 2, withdrawn=True)]
    assert derive_status(records).status is Status.CLAIMED


def test_rule_2_a_retraction_cancels_the_sources_earlier_stances() -> None:
    records = [said(A, ASSERTS, 1), said(B, DENIES, 2), said(A, RETRACTS, 3)]
    assert derive_status(records).status is Status.DENIED


def test_rule_2_a_later_stance_from_the_retracting_source_counts_again() -> None:
    records = [said(A, ASSERTS, 1), said(A, RETRACTS, 2), said(A, ASSERTS, 3)]
    assert derive_status(records).status is Status.CLAIMED


def test_rule_2_order_is_by_publication_not_by_recording() -> None:
    # The retraction was recorded first but published after the assertion it cancels.
    retraction = said(A, RETRACTS, 5)
    assertion = said(A, ASSERTS, 1)
    assert derive_status([retraction, assertion]).status is Status.RETRACTED
    # A retraction published before the assertion cancels nothing.
    assert derive_status([said(A, RETRACTS, 1), said(A, ASSERTS, 5)]).status is Status.CLAIMED


def test_rule_2_ties_in_publication_time_go_by_position() -> None:
    first = said(A, ASSERTS, 1)
    then = said(A, RETRACTS, 1)
    assert first.position < then.position
    assert derive_status([then, first]).status is Status.RETRACTED
    again = said(A, ASSERTS, 1)
    assert derive_status([then, first, again]).status is Status.CLAIMED


def test_rule_2_a_retraction_cancels_only_its_own_source() -> None:
    records = [said(A, ASSERTS, 1), said(B, ASSERTS, 2), said(A, RETRACTS, 3)]
    result = derive_status(records)
    assert result.status is Status.CLAIMED
    assert result.statement_ids == (records[1].statement_id,)


def test_rule_3_a_party_cannot_confirm_its_own_claim() -> None:
    assert derive_status([said(A, ASSERTS, 1), said(A, CONFIRMS, 2)]).status is Status.CLAIMED
    assert derive_status([said(B, DENIES, 1), said(B, REFUTES, 2)]).status is Status.DENIED
    assert derive_status([said(A, ASSERTS, 1), said(C, CONFIRMS, 2)]).status is Status.CONFIRMED


def test_rule_3_a_party_stays_a_party_after_retracting() -> None:
    records = [said(A, ASSERTS, 1), said(A, RETRACTS, 2), said(A, CONFIRMS, 3)]
    assert derive_status(records).status is Status.RETRACTED


def test_rule_3_a_withdrawn_assertion_does_not_make_a_party() -> None:
    records = [said(A, ASSERTS, 1, withdrawn=True), said(A, CONFIRMS, 2)]
    assert derive_status(records).status is Status.CONFIRMED


def test_rule_6_reasons_name_the_deciding_statements_and_read_as_a_sentence() -> None:
    claim = said(A, ASSERTS, 1)
    denial = said(B, DENIES, 2)
    geolocation = said(C, CONFIRMS, 3, evidence=("geolocation",))
    result = derive_status([claim, geolocation])
    assert result.statement_ids == (geolocation.statement_id,)
    assert result.opposing_ids == ()
    assert result.reason == (
        f"confirmed: geolocation by Newsroom, statement {geolocation.statement_id}"
    )
    disputed = derive_status([claim, denial])
    assert disputed.statement_ids == (claim.statement_id, denial.statement_id)
    assert disputed.opposing_ids == ()
    assert disputed.reason == "disputed: asserted by Armed group; denied by Ministry"


def test_rule_6_a_confirmation_without_evidence_says_how() -> None:
    confirmation = said(C, CONFIRMS, 1)
    assert derive_status([confirmation]).reason == (
        f"confirmed: confirmed by Newsroom, statement {confirmation.statement_id}"
    )


def test_rule_6_a_confirmed_claim_names_the_denials_against_it() -> None:
    claim = said(A, ASSERTS, 1)
    denial = said(B, DENIES, 2)
    second_denial = said(D, DENIES, 3)
    geolocation = said(C, CONFIRMS, 4, evidence=("geolocation",))
    result = derive_status([geolocation, second_denial, claim, denial])
    assert result.status is Status.CONFIRMED
    assert result.statement_ids == (geolocation.statement_id,)
    assert result.opposing_ids == (denial.statement_id, second_denial.statement_id)
    assert result.reason == (
        f"confirmed: geolocation by Newsroom, statement {geolocation.statement_id};"
        " against it: denied by Ministry, Observers"
    )


def test_rule_6_a_refuted_claim_names_the_assertions_against_it() -> None:
    claim = said(A, ASSERTS, 1)
    denial = said(B, DENIES, 2)
    refutation = said(C, REFUTES, 3, evidence=("satellite",))
    result = derive_status([claim, denial, refutation])
    assert result.status is Status.REFUTED
    assert result.opposing_ids == (claim.statement_id,)
    assert result.reason == (
        f"refuted: satellite by Newsroom, statement {refutation.statement_id};"
        " against it: asserted by Armed group"
    )


def test_rule_6_only_counted_statements_stand_against_the_status() -> None:
    # A retracted denial and a withdrawn one no longer stand against the confirmation.
    retracted = said(B, DENIES, 1)
    retraction = said(B, RETRACTS, 2)
    withdrawn = said(D, DENIES, 3, withdrawn=True)
    confirmation = said(C, CONFIRMS, 4)
    result = derive_status([retracted, retraction, withdrawn, confirmation])
    assert result.status is Status.CONFIRMED
    assert result.opposing_ids == ()
    assert "against it" not in result.reason


@pytest.mark.parametrize(
    ("statements", "reason"),
    [
        pytest.param(
            [(A, ASSERTS), (D, DENIES)],
            "disputed: asserted by Armed group; denied by Observers",
            id="disputed names both sides as its deciding statements",
        ),
        pytest.param([(A, ASSERTS)], "claimed: asserted by Armed group", id="claimed"),
        pytest.param([(B, DENIES)], "denied: denied by Ministry", id="denied"),
        pytest.param(
            [(A, ASSERTS), (A, RETRACTS)], "retracted: retracted by Armed group", id="retracted"
        ),
    ],
)
def test_rule_6_statuses_with_no_counted_statement_against_them_name_none(
    statements: list[tuple[UUID, Stance]], reason: str
) -> None:
    records = [said(source, stance, minute) for minute, (source, stance) in enumerate(statements)]
    result = derive_status(records)
    assert result.reason == reason
    assert result.opposing_ids == ()


def test_rule_6_contested_names_both_verifications() -> None:
    confirmation = said(C, CONFIRMS, 1, evidence=("video",))
    refutation = said(D, REFUTES, 2)
    result = derive_status([said(B, DENIES, 0), confirmation, refutation])
    assert result.status is Status.CONTESTED
    assert result.reason == (
        f"contested: video by Newsroom, statement {confirmation.statement_id};"
        f" refuted by Observers, statement {refutation.statement_id}"
    )


def test_rule_6_a_claim_whose_statements_were_all_withdrawn_says_so() -> None:
    assert derive_status([]).reason == "unverified: no statement on this claim yet"
    records = [said(A, ASSERTS, 1, withdrawn=True), said(B, DENIES, 2, withdrawn=True)]
    result = derive_status(records)
    assert result.status is Status.UNVERIFIED
    assert result.reason == "unverified: every statement on this claim was withdrawn"
    assert result.statement_ids == ()


def test_the_rule_does_not_depend_on_input_order() -> None:
    records = [said(A, ASSERTS, 1), said(B, DENIES, 2), said(A, RETRACTS, 3), said(D, DENIES, 4)]
    forward = derive_status(records)
    backward = derive_status(list(reversed(records)))
    assert forward == backward
    assert forward.status is Status.DENIED


def reference(records: list[StanceRecord]) -> tuple[Status, list[UUID], list[UUID]]:
    """The rule read literally, statement by statement in order of publication: the status, the
    statements that decided it and the counted ones against them."""
    in_view = sorted(
        (r for r in records if not r.withdrawn), key=lambda r: (r.published_at, r.position)
    )
    standing: dict[UUID, list[StanceRecord]] = {}
    parties = {r.source_id for r in in_view if r.stance in (ASSERTS, DENIES)}
    retractions = [r for r in in_view if r.stance is RETRACTS]
    for record in in_view:
        standing[record.source_id] = (
            [] if record.stance is RETRACTS else [*standing.get(record.source_id, []), record]
        )
    counted = sorted(
        (
            r
            for kept in standing.values()
            for r in kept
            if r.stance in (ASSERTS, DENIES) or r.source_id not in parties
        ),
        key=lambda r: (r.published_at, r.position),
    )
    sets = {stance: [r.statement_id for r in counted if r.stance is stance] for stance in Stance}
    for status, stances, against in (
        (Status.CONTESTED, (CONFIRMS, REFUTES), ()),
        (Status.CONFIRMED, (CONFIRMS,), (DENIES,)),
        (Status.REFUTED, (REFUTES,), (ASSERTS,)),
        (Status.DISPUTED, (ASSERTS, DENIES), ()),
        (Status.CLAIMED, (ASSERTS,), ()),
        (Status.DENIED, (DENIES,), ()),
    ):
        if all(sets[stance] for stance in stances):
            deciding = [i for stance in stances for i in sets[stance]]
            return status, deciding, [i for stance in against for i in sets[stance]]
    if retractions:
        return Status.RETRACTED, [r.statement_id for r in retractions], []
    return Status.UNVERIFIED, [], []


# A step: a new statement (its source, stance and minute of publication), or the withdrawal of
# the statement added that many steps before.
steps = st.lists(
    st.one_of(
        st.tuples(st.sampled_from([A, B, C, D]), st.sampled_from(Stance), st.integers(0, 6)),
        st.integers(0, 8),
    ),
    max_size=24,
)


@settings(max_examples=400, deadline=None, database=None)
@given(steps)
def test_the_tally_agrees_with_the_rule_after_every_statement_and_withdrawal(
    chosen: list[tuple[UUID, Stance, int] | int],
) -> None:
    tally = Tally()
    records: list[StanceRecord] = []
    for step in chosen:
        if isinstance(step, tuple):
            record = said(*step)
            records.append(record)
            tally.add(record)
        else:
            in_view = [i for i, r in enumerate(records) if not r.withdrawn]
            if not in_view:
                continue
            index = in_view[-1 - step % len(in_view)]
            tally.remove(records[index])
            records[index] = records[index]._replace(withdrawn=True)
        status, deciding, opposing = reference(records)
        assert tally.status is status
        assert [r.statement_id for r in tally.deciding()] == deciding
        assert [r.statement_id for r in tally.opposing()] == opposing
        assert decide(records)[0] is status
        derived = derive_status(records)
        assert derived.opposing_ids == tuple(opposing)
        assert ("; against it: " in derived.reason) == bool(opposing)
        if status is Status.UNVERIFIED:
            withdrawn = any(r.withdrawn for r in records)
            assert ("withdrawn" in derived.reason) == withdrawn
