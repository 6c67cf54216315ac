"""Where to ask the words index for a search's window of statements (``search_plan.begun_since``),
and what is remembered of each search's last window (``search_memory``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from claimledger.projections.queries import search_memory, search_plan
from claimledger.projections.queries.search_plan import WordShares


def test_the_index_is_asked_among_the_recent_only_where_that_is_cheaper() -> None:
    start = datetime(2024, 3, 12, tzinfo=UTC)
    # A hundred parts of 10,000 statements each, one a day.
    bounds = [start + timedelta(days=day) for day in range(101)]
    shares = WordShares(rows=1_000_000, shares={"satellit": 0.023, "footag": 0.3})
    saved = search_plan._cache.recorded
    search_plan._cache.recorded = bounds
    try:
        # A window that began five parts back: the index within them, from the bound before.
        began = bounds[95] + timedelta(hours=3)
        assert search_plan.begun_since("'satellit'", shares, began) == bounds[95]
        # Words as common as these lately: their window began in the newest part; reading
        # newest first stops soon.
        assert search_plan.begun_since("'footag'", shares, bounds[100]) is None
        assert search_plan.begun_since("'footag'", shares, bounds[99]) is None
        # Before the histogram's first bound: nothing to go by.
        assert search_plan.begun_since("'satellit'", shares, start - timedelta(days=1)) is None
    finally:
        search_plan._cache.recorded = saved


class _Pool:
    """Stands for a database pool: anything a weak reference can be made to."""


def test_what_is_remembered_goes_with_its_pool() -> None:
    one, other = _Pool(), _Pool()
    moment = datetime.now(UTC)
    search_memory.learn(one, ("'a'", None), moment)
    assert search_memory.recall(one, ("'a'", None)) == moment
    assert search_memory.recall(other, ("'a'", None)) is None
    for n in range(search_memory.KEPT):
        search_memory.learn(one, (f"'w{n}'", None), moment)
    assert search_memory.recall(one, ("'a'", None)) is None, "the least recently used forgotten"
    assert search_memory.recall(one, ("'w0'", None)) == moment
    remembered = len(search_memory._starts)
    del one
    assert len(search_memory._starts) == remembered - 1


def test_a_connection_without_weak_references_remembers_nothing() -> None:
    class Proxy:
        __slots__ = ()

    search_memory.learn(Proxy(), ("'a'", None), datetime.now(UTC))
    assert search_memory.recall(Proxy(), ("'a'", None)) is None
