"""Changes of an archive matched in order against what the ledger holds, on the in-memory store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from claimledger.domain.archive import Change, RecordRefused, latest_recorded_at, record_changes
from claimledger.domain.ledger import Ledger
from claimledger.domain.source import Source, SourceRated
from claimledger.domain.values import Reliability, SourceKind
from claimledger.runtime.keys import SYSTEM_KEY_ID

NOON = datetime(2024, 3, 12, 12, tzinfo=UTC)


def ledger_with_a_source() -> tuple[Ledger, Source]:
    ledger = Ledger({"MAPPER_TOPIC": "claimledger.store.codec:MsgspecMapper"})
    source = Source.register(
        name="Newsroom",
        kind=SourceKind.MEDIA,
        affiliation=None,
        channels=(),
        url=None,
        recorded_by=SYSTEM_KEY_ID,
        recorded_at=NOON,
    )
    ledger.create([source])
    return ledger, source


def rating(source: Source, grade: str) -> Change:
    content = {"reliability": Reliability(grade), "rationale": None}

    def rate(aggregate: Any) -> None:
        aggregate.rate(**content, recorded_by=SYSTEM_KEY_ID)

    return Change(source.id, Source, SourceRated, content, rate)


def test_ratings_are_matched_in_order_so_a_file_runs_again_without_adding() -> None:
    ledger, source = ledger_with_a_source()
    ratings = [rating(source, g) for g in "BCB"]
    assert record_changes(ledger, ratings, matched=set()) == [True, True, True]
    assert record_changes(ledger, ratings, matched=set()) == [False, False, False]
    one_more = [*ratings, rating(source, "B")]
    assert record_changes(ledger, one_more, matched=set()) == [False, False, False, True]
    assert ledger.repository.get(source.id).reliability == Reliability.B
    assert ledger.repository.get(source.id).version == 5


def test_what_one_batch_wrote_is_no_record_for_the_next_batch_of_the_same_run() -> None:
    ledger, source = ledger_with_a_source()
    run: set[tuple[Any, int]] = set()
    # One file, the same rating twice, in two batches (other lines between them).
    assert record_changes(ledger, [rating(source, "B")], matched=run) == [True]
    assert record_changes(ledger, [rating(source, "B")], matched=run) == [True]
    again: set[tuple[Any, int]] = set()
    assert record_changes(ledger, [rating(source, "B")], matched=again) == [False]
    assert record_changes(ledger, [rating(source, "B")], matched=again) == [False]
    assert ledger.repository.get(source.id).version == 3


def test_a_change_of_what_does_not_exist_names_its_place_in_the_batch() -> None:
    ledger, source = ledger_with_a_source()
    absent = ledger_with_a_source()[1]
    with pytest.raises(RecordRefused, match=f"source {absent.id} does not exist") as refused:
        record_changes(ledger, [rating(source, "A"), rating(absent, "B")], matched=set())
    assert refused.value.index == 1
    # All of the batch or none of it.
    assert ledger.repository.get(source.id).version == 1


def test_the_latest_moment_is_that_of_the_newest_record() -> None:
    ledger, _ = ledger_with_a_source()
    assert latest_recorded_at(ledger) == NOON
    assert latest_recorded_at(Ledger()) is None
