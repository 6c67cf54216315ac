"""A search ranks the newest matches of each kind: the same hits whether a table is read
through its words index or newest first, or newest first until it gives up and then through
the index."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from claimledger.projections.queries import search_plan
from claimledger.projections.queries.search_plan import WINDOW
from tests.conftest import Keys
from tests.helpers import Client, an_hour_ago, claim, incident, source

pytestmark = pytest.mark.anyio

OLD_PAIRS = 300
NEW_SINGLES = 2_700


async def _record(client: Client, keys: Keys, quotes: list[str]) -> int:
    """The quotes as statements, a thousand to a batch; the last position."""
    incident_id = await incident(client, keys.editor)
    claim_id = await claim(client, keys.editor, incident_id, "a claim of many quotes")
    source_id = await source(client, keys.editor)
    last = 0
    for start in range(0, len(quotes), 1000):
        batch = [
            {
                "claim_id": claim_id,
                "source_id": source_id,
                "stance": "asserts",
                "published_at": an_hour_ago(),
                "quote": quote,
            }
            for quote in quotes[start : start + 1000]
        ]
        response = await client.post(
            "/v1/statements:batch", json={"statements": batch}, headers=keys.header("editor")
        )
        assert response.status_code == 201, response.text
        last = response.json()["items"][-1]["position"]
    return int(last)


async def _hits(client: Client, head: int, **params: Any) -> list[str]:
    """Every statement hit, page after page."""
    found: list[str] = []
    cursor = None
    for _ in range(20):
        asked = {"min_position": str(head), "limit": "70", "kind": "statement", **params}
        if cursor:
            asked["cursor"] = cursor
        response = await client.get("/v1/search", params=asked)
        assert response.status_code == 200, response.text
        page = response.json()
        found += [hit["id"] for hit in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return found
    raise AssertionError("more pages than a window holds")


async def _newest(db: asyncpg.Connection, like: str, moment: datetime | None = None) -> set[str]:
    rows = await db.fetch(
        "SELECT id FROM views.statements WHERE quote LIKE $1"
        " AND ($2::timestamptz IS NULL OR recorded_at <= $2)"
        " ORDER BY recorded_at DESC, id DESC LIMIT $3",
        like,
        moment,
        WINDOW,
    )
    return {str(row["id"]) for row in rows}


async def test_common_words_rank_the_newest_matches_whichever_way_they_are_read(
    client: Client, keys: Keys, db: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both words in old quotes only; newer quotes hold one or the other, many times over.
    await _record(client, keys, [f"zorbax quintel report {i}" for i in range(OLD_PAIRS)])
    between = datetime.now(UTC)
    head = await _record(
        client,
        keys,
        [f"{'zorbax' if i % 2 else 'quintel'} alone {i}" for i in range(NEW_SINGLES)],
    )
    searches: list[dict[str, Any]] = [
        {"q": "zorbax"},
        {"q": "zorbax quintel"},
        {"q": "zorbax", "known_at": between.isoformat()},
    ]

    async def no_statistics(db: Any) -> dict[str, search_plan.WordShares]:
        return {}

    with monkeypatch.context() as patched:
        patched.setattr(search_plan, "word_shares", no_statistics)
        by_index = [await _hits(client, head, **asked) for asked in searches]

    await db.execute("ANALYZE views.statements")
    search_plan.forget()
    shares = (await search_plan.word_shares(db))["statements"]
    for words in ("'zorbax'", "'zorbax' & 'quintel'"):
        assert search_plan.reach(words, shares) is not None, "read newest first"
    newest_first = [await _hits(client, head, **asked) for asked in searches]

    def short_reach(tsquery: str, shares: search_plan.WordShares | None, *kept: float) -> int:
        return 64

    # Read newest first no further than the 64 newest texts: too few matches there (none of the
    # pair), and the index answers after all.
    with monkeypatch.context() as patched:
        patched.setattr(search_plan, "reach", short_reach)
        given_up = [await _hits(client, head, **asked) for asked in searches]

    assert newest_first == by_index
    assert given_up == by_index
    common, pair, then = newest_first
    assert len(common) == len(pair) == len(then) == WINDOW
    assert set(common) == await _newest(db, "zorbax alone %")
    assert set(pair) == await _newest(db, "zorbax quintel %")
    assert set(then) == await _newest(db, "%zorbax%", between)
