"""How common a query's words are, read from PostgreSQL's text form of the query, and how far
a search reads a table newest first for them."""

from __future__ import annotations

import pytest

from claimledger.projections.queries.search_plan import (
    WINDOW,
    WordShares,
    estimate,
    narrower,
    reach,
)

SHARES = WordShares(
    rows=1_000_000,
    shares={"explos": 0.2, "satellit": 0.03, "imageri": 0.05, "it's": 0.4, "&": 0.3},
)


@pytest.mark.parametrize(
    ("tsquery", "share"),
    [
        ("'explos'", 0.2),
        ("'satellit' & 'imageri'", 0.03),
        ("'satellit' <-> 'imageri'", 0.03),
        ("'satellit' <2> 'imageri'", 0.03),
        ("'explos' | 'satellit'", 0.23),
        ("'explos' | 'it''s' | 'satellit' | 'imageri' | '&' | 'explos'", 1.0),
        ("'explos' & !'satellit'", 0.2),
        ("!'explos'", 1.0),
        ("( 'explos' | 'satellit' ) & 'imageri'", 0.05),
        ("'kovaino'", 0.0),
        ("'kovaino' | 'explos'", 0.2),
        ("'kovaino' & 'explos'", 0.0),
        ("'it''s'", 0.4),
        ("'&' & 'satellit'", 0.03),
        ("'explos':*", 0.2),
        ("'explos':AB & 'imageri'", 0.05),
        ("", 0.0),
        ("( 'explos'", 0.2),
        ("'explos' &", 0.2),
    ],
)
def test_a_query_is_as_common_as_its_words_allow(tsquery: str, share: float) -> None:
    assert estimate(tsquery, SHARES) == pytest.approx(share)


def test_only_common_words_are_read_newest_first() -> None:
    # As far as costs what the index would (a match fetched costs about eight texts read)...
    assert reach("'explos'", SHARES) == pytest.approx(0.2 * 1_000_000 / 0.12, abs=1)
    assert reach("'satellit' & 'imageri'", SHARES) == pytest.approx(0.03 * 1e6 / 0.12, abs=1)
    # ... and at least four times as far as the estimate says the window needs.
    small = WordShares(rows=30_000, shares={"word": 0.03})
    assert reach("'word'", small) == pytest.approx(4 * WINDOW / 0.03, abs=1)
    # Words no statistics name, or too rare to pay for reading newest first.
    assert reach("'kovaino'", SHARES) is None
    rare = WordShares(rows=1_000_000, shares={"rare": 0.001})
    assert reach("'rare'", rare) is None
    # Nothing known of the table, or a table smaller than the window.
    assert reach("'explos'", None) is None
    assert reach("'explos'", WordShares(rows=WINDOW, shares={"explos": 0.9})) is None


def test_filters_read_newest_first_only_when_their_texts_are_common() -> None:
    # A country of a tenth of the texts: its matches are a tenth as dense read newest first,
    # and read no further than four times as far as they would need if they were that dense.
    assert reach("'explos'", SHARES, 0.1) == pytest.approx(4 * WINDOW / 0.02, abs=1)
    # A country the statistics do not name, or that keeps too few texts: the index.
    assert reach("'explos'", SHARES, 0.0) is None
    assert reach("'explos'", SHARES, 0.0001) is None
    # A stance the same way; two filters, the matches of all three.
    assert reach("'explos'", SHARES, 1.0, 0.1) == pytest.approx(4 * WINDOW / 0.02, abs=1)
    assert reach("'explos'", SHARES, 0.5, 0.5) == pytest.approx(4 * WINDOW / 0.05, abs=1)
    # A rare stance: its few texts with the words come from the index.
    assert reach("'explos'", SHARES, 1.0, 0.001) is None
    # The country's incidents come first when it keeps fewer texts than the words match.
    assert narrower("'explos'", SHARES, 0.05)
    assert not narrower("'satellit' & 'imageri'", SHARES, 0.05)
    assert not narrower("'explos'", None, 0.0)
