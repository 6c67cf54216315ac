"""A search as known now, asked again, finds its window of statements among those recorded since
its last window began (``search_memory``): the same hits as a search that remembers nothing,
before and after newer matches are recorded."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from claimledger.projections.queries import search as search_queries
from claimledger.projections.queries import search_plan
from claimledger.projections.queries.search_plan import WINDOW, WordShares
from claimledger.runtime.bootstrap import Services
from tests.conftest import Keys
from tests.helpers import Client
from tests.integration.test_search_window import _newest, _record

pytestmark = pytest.mark.anyio


async def _statement_ids(pool: Any, text: str, known_at: datetime | None = None) -> list[str]:
    hits = await search_queries.search(
        pool,
        text,
        search_queries.SearchFilter(kinds=("statement",)),
        known_at=known_at,
        after=None,
        limit=WINDOW,
    )
    return [str(hit["id"]) for hit in hits]


async def _recorded(client: Client, keys: Keys, quotes: list[str]) -> None:
    """The quotes recorded, and the views caught up with them."""
    head = await _record(client, keys, quotes)
    response = await client.get("/v1/incidents", params={"min_position": str(head), "limit": "1"})
    assert response.status_code == 200, response.text


async def test_a_search_asked_again_finds_the_same_hits_among_the_recent(
    client: Client,
    keys: Keys,
    services: Services,
    db: asyncpg.Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The pair in old quotes only; newer quotes hold one word or the other.
    await _recorded(client, keys, [f"zorbax quintel report {i}" for i in range(300)])
    between = datetime.now(UTC)
    await _recorded(
        client, keys, [f"{'zorbax' if i % 2 else 'quintel'} alone {i}" for i in range(900)]
    )
    await db.execute("ANALYZE views.statements")
    search_plan.forget()
    pool = services.reads.searches
    asked: list[tuple[str, datetime]] = []
    begun_since = search_plan.begun_since

    def always(tsquery: str, shares: WordShares | None, start: datetime) -> datetime:
        # Whatever the statistics say of this small table: from the bound before ``start``,
        # or from ``start`` itself when the histogram has none before it.
        asked.append((tsquery, start))
        return begun_since(tsquery, shares, start) or start

    monkeypatch.setattr(search_plan, "begun_since", always)
    searches = [("zorbax quintel", None), ("zorbax quintel", between), ("zorbax", None)]
    first = [await _statement_ids(pool, text, moment) for text, moment in searches]
    assert asked == [], "nothing remembered yet"
    again = [await _statement_ids(pool, text, moment) for text, moment in searches]
    # Each search as known now remembered where its full window began, and was read from there;
    # one as known at a moment is read newest first from that moment, as before.
    assert [tsquery for tsquery, _ in asked] == ["'zorbax' & 'quintel'", "'zorbax'"]
    assert again == first
    assert set(first[0]) == await _newest(db, "zorbax quintel %")
    assert set(first[1]) == await _newest(db, "zorbax quintel %", between)
    assert set(first[2]) == await _newest(db, "zorbax alone %")

    # Newer matches: the window moves on from where it began, the moment's stays.
    await _recorded(client, keys, [f"zorbax quintel later {i}" for i in range(50)])
    later = [await _statement_ids(pool, text, moment) for text, moment in searches[:2]]
    assert set(later[0]) == await _newest(db, "zorbax quintel %")
    assert len(set(later[0]) - set(first[0])) == 50
    assert later[1] == first[1]


async def test_a_text_searched_again_is_not_parsed_again(services: Services) -> None:
    pool = services.reads.searches
    texts = ["Тёткино захвачено", "the", "Тёткино захвачено"]
    for text in texts:
        try:
            await _statement_ids(pool, text)
        except search_queries.NoWords:
            assert text == "the"
    assert search_queries._parsings["Тёткино захвачено"] == "'теткин' & 'захвач'"
    assert search_queries._parsings["the"] == ""
    # Asked of PostgreSQL once, then taken from memory (no connection to ask): the same text
    # parses the same.
    nothing: Any = None
    for text in texts:
        assert await search_queries._parsed(nothing, text) == search_queries._parsings[text]
