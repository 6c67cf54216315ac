"""Search over the Tiotkino demo and what is recorded beside it: three scripts, Russian
inflections, ranking, every filter, known_at, paging and bad input."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from claimledger.api.app import create_app
from claimledger.projections.queries import search as search_queries
from claimledger.projections.queries import search_plan
from claimledger.runtime.bootstrap import Services
from claimledger.runtime.demo import load_demo, load_scenario
from claimledger.runtime.keys import SYSTEM_KEY_ID
from claimledger.runtime.settings import Settings
from tests.conftest import Keys
from tests.helpers import Client, statement

pytestmark = pytest.mark.anyio

EXACT = "Бои продолжаются в Тёткино"
INFLECTED = "Бои продолжаются в Тёткине"
UKRAINIAN = "Легіон контролює Тьоткіно"
CLAIM = "d619e0a0-cbe1-5150-8c54-17e84a9034d0"


@dataclass
class Demo:
    client: Client
    keys: Keys
    head: int
    said: dict[str, dict[str, Any]]

    async def search(self, status: int = 200, **params: Any) -> Any:
        response = await self.client.get(
            "/v1/search", params={"min_position": str(self.head), **params}
        )
        assert response.status_code == status, response.text
        return response.json()

    async def hits(self, **params: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = (await self.search(limit="200", **params))["items"]
        return items

    async def texts(self, **params: Any) -> list[str]:
        return [snippet(hit) for hit in (await self.search(limit="200", **params))["items"]]


def cursor(*values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).rstrip(b"=").decode()


def snippet(hit: dict[str, Any]) -> str:
    return "".join(part["text"] for part in hit["snippet"])


def matched(hit: dict[str, Any]) -> list[str]:
    return [part["text"] for part in hit["snippet"] if part["match"]]


@pytest.fixture
async def demo(settings: Settings, services: Services, keys: Keys) -> AsyncIterator[Demo]:
    """The demo at its archive times, then three statements recorded now in Russian and
    Ukrainian by the Ministry of Defence and the HUR."""
    writer = services.writer
    await writer.run(load_demo, writer.ledger, recorded_by=SYSTEM_KEY_ID)
    scenario = load_scenario()
    control = str(scenario.claim_id("raid", "control"))
    async with AsyncTestClient(app=create_app(settings)) as client:
        said = {}
        for quote, language, source in (
            (EXACT, "ru", "mod"),
            (INFLECTED, "ru", "mod"),
            (UKRAINIAN, "uk", "hur"),
        ):
            said[quote] = await statement(
                client,
                keys.editor,
                control,
                str(scenario.source_id(source)),
                "denies" if source == "mod" else "asserts",
                quote=quote,
                language=language,
            )
        head = max(s["position"] for s in said.values())
        yield Demo(client, keys, head, said)


async def test_tyotkino_is_found_in_latin_cyrillic_and_ukrainian_spelling(demo: Demo) -> None:
    latin = (await demo.search(q="Tyotkino", limit="200"))["items"]
    assert {hit["kind"] for hit in latin} == {"incident", "claim"}
    assert "A Russian armoured vehicle was destroyed in Tyotkino" in map(snippet, latin)
    assert all(m.lower() == "tyotkino" for hit in latin for m in matched(hit))
    assert all(matched(hit) for hit in latin)
    # The incident is found by its place's name, "Tyotkino (Tiotkino)".
    incident = next(hit for hit in latin if hit["kind"] == "incident")
    assert incident["title"].startswith("Cross-border raid")
    assert await demo.texts(q="Tiotkino", kind="statement") == [
        "Tiotkino in the Kursk region is under full control of the Russian liberation forces. "
        "Putin's troops are quickly leaving the town, abandoning their heavy equipment."
    ]
    assert await demo.texts(q="Тьоткіно") == [UKRAINIAN]
    russian = {snippet(hit): hit for hit in (await demo.search(q="Тёткино"))["items"]}
    assert sorted(russian) == sorted([EXACT, INFLECTED])
    assert matched(russian[EXACT]) == ["Тёткино"]
    assert matched(russian[INFLECTED]) == ["Тёткине"]
    hit = russian[EXACT]
    assert (hit["kind"], hit["language"], hit["stance"]) == ("statement", "ru", "denies")
    assert hit["title"] == "Ministry of Defence of the Russian Federation"
    assert hit["id"] == demo.said[EXACT]["id"]


async def test_russian_inflections_find_each_other(demo: Demo) -> None:
    for inflected in ("Тёткина", "Теткине", "тёткиной", "ТЁТКИНО"):
        assert sorted(await demo.texts(q=inflected)) == sorted([EXACT, INFLECTED]), inflected
    hits = (await demo.search(q="Тёткине"))["items"]
    assert hits[0]["rank"] == hits[1]["rank"]


async def test_ranking_puts_the_closest_text_first(demo: Demo) -> None:
    hits = (await demo.search(q="armoured vehicle Tyotkino"))["items"]
    assert snippet(hits[0]) == "A Russian armoured vehicle was destroyed in Tyotkino"
    # Short claims that name the place rank above the incident whose place's name it is.
    kinds = [hit["kind"] for hit in (await demo.search(q="Tyotkino"))["items"]]
    assert kinds == ["claim", "claim", "claim", "incident"]
    ranks = [hit["rank"] for hit in (await demo.search(q="Russian", limit="200"))["items"]]
    assert ranks == sorted(ranks, reverse=True)
    assert len(ranks) > 5
    # English stems: "destroying" finds "destroyed"; a phrase and an exclusion are understood.
    assert "A Russian armoured vehicle was destroyed in Tyotkino" in await demo.texts(
        q="destroying"
    )
    assert await demo.texts(q='"armoured vehicle" -Tyotkino') == []
    sources = await demo.texts(q="Federal Security Service")
    assert sources == ["Federal Security Service of the Russian Federation (FSB)"]


async def test_every_filter_narrows_the_hits(demo: Demo) -> None:
    scenario = load_scenario()
    raid, strikes = scenario.incident_id("raid"), scenario.incident_id("strikes")
    everything = (await demo.search(q="Russian", limit="200"))["items"]
    assert {hit["kind"] for hit in everything} == {"incident", "claim", "statement", "source"}
    for kind in ("incident", "claim", "statement", "source"):
        hits = (await demo.search(q="Russian", kind=kind, limit="200"))["items"]
        assert hits == [hit for hit in everything if hit["kind"] == kind], kind
    both = await demo.search(q="Russian", kind=["claim", "source"], limit="200")
    assert {hit["kind"] for hit in both["items"]} == {"claim", "source"}

    in_raid = (await demo.search(q="Russian", incident_id=str(raid), limit="200"))["items"]
    assert in_raid
    assert all(hit["incident_id"] == str(raid) for hit in in_raid)
    assert {hit["kind"] for hit in in_raid} == {"incident", "claim", "statement"}
    in_strikes = (await demo.search(q="regions", incident_id=str(strikes), limit="200"))["items"]
    assert in_strikes
    assert all(hit["incident_id"] == str(strikes) for hit in in_strikes)

    assert (await demo.search(q="Russian", country="UA"))["items"] == []
    in_russia = (await demo.search(q="Russian", country="RU", limit="200"))["items"]
    assert in_russia == [hit for hit in everything if hit["kind"] != "source"]

    denials = (await demo.search(q="Тёткино", stance="denies"))["items"]
    assert len(denials) == 2
    assert (await demo.search(q="Тьоткіно", stance="denies"))["items"] == []
    assert len((await demo.search(q="Тьоткіно", stance=["asserts", "denies"]))["items"]) == 1
    assert (await demo.search(q="Russian", kind="source", incident_id=str(raid)))["items"] == []


async def test_search_as_known_at_shows_the_record_of_then(demo: Demo) -> None:
    # The Legion's "Tiotkino" post was recorded at 09:41 on 12 March 2024.
    quote = {"q": "Tiotkino", "kind": "statement"}
    assert await demo.texts(**quote, known_at="2024-03-12T09:00:00Z") == []
    assert len(await demo.texts(**quote, known_at="2024-03-12T10:00:00Z")) == 1
    assert await demo.texts(q="Tyotkino", known_at="2024-03-12T03:00:00Z") == []

    exact = demo.said[EXACT]
    at = exact["recorded_at"]
    assert EXACT in await demo.texts(q="Тёткино", known_at=at)
    just_before = at.replace("Z", "").rstrip("0123456789") + "0Z"
    if just_before != at:
        assert EXACT not in await demo.texts(q="Тёткино", known_at=just_before)
    assert EXACT not in await demo.texts(q="Тёткино", known_at="2024-03-13T00:00:00Z")

    # A withdrawal shows now, not as known before it.
    withdrawn = await demo.client.post(
        f"/v1/statements/{exact['id']}/withdrawal",
        json={"reason": "recorded against the wrong claim"},
        headers=demo.keys.header("editor"),
    )
    assert withdrawn.status_code == 201, withdrawn.text
    demo.head = withdrawn.json()["position"]
    now = next(h for h in (await demo.search(q="Тёткино"))["items"] if h["id"] == exact["id"])
    assert now["withdrawn_at"] is not None
    then = (await demo.search(q="Тёткино", known_at=at))["items"]
    assert [h["withdrawn_at"] for h in then if h["id"] == exact["id"]] == [None]


async def test_an_incident_is_found_by_the_description_it_had_then(demo: Demo) -> None:
    raid = str(load_scenario().incident_id("raid"))
    revised = await demo.client.patch(
        f"/v1/incidents/{raid}",
        json={"title": "Incursion of the Legion into Tyotkino"},
        headers=demo.keys.header("editor"),
    )
    assert revised.status_code == 200, revised.text
    demo.head = revised.json()["position"]
    before = revised.json()["recorded_at"].replace("Z", "+00:00")
    earlier = "2024-03-12T18:00:00Z"
    assert (await demo.search(q="Incursion", kind="incident"))["items"][0]["id"] == raid
    assert (await demo.search(q="Incursion", known_at=earlier))["items"] == []
    old = (await demo.search(q="Cross-border", kind="incident", known_at=earlier))["items"]
    assert [hit["id"] for hit in old] == [raid]
    assert (await demo.search(q="Cross-border", kind="incident"))["items"] == []
    assert (await demo.search(q="Incursion", known_at=before))["items"][0]["id"] == raid


async def test_a_country_is_the_one_an_incident_was_described_in_then(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = load_scenario()
    raid = str(scenario.incident_id("raid"))
    place = {
        "name": "Tyotkino",
        "country": "UA",
        "lat": 51.27,
        "lon": 34.3,
        "precision": "settlement",
    }
    before = datetime.now(UTC).isoformat()
    revised = await demo.client.patch(
        f"/v1/incidents/{raid}", json={"place": place}, headers=demo.keys.header("editor")
    )
    assert revised.status_code == 200, revised.text
    demo.head = revised.json()["position"]
    # The raid's incident, claims and statements: the texts the country filter moves.
    raid_hits = [h for h in await demo.hits(q="Russian") if h["incident_id"] == raid]
    assert {h["kind"] for h in raid_hits} == {"incident", "claim", "statement"}
    asked: list[dict[str, str]] = [
        {"q": "Russian", "country": country, **at}
        for country in ("RU", "UA", "FR")
        for at in ({}, {"known_at": before}, {"known_at": "2024-03-12T18:00:00Z"})
    ]

    async def found(reach: Any = None, narrower: Any = None) -> list[list[str]]:
        with monkeypatch.context() as patched:
            if reach is not None:
                patched.setattr(search_plan, "reach", reach)
            if narrower is not None:
                patched.setattr(search_plan, "narrower", narrower)
            return [[h["id"] for h in await demo.hits(**params)] for params in asked]

    # Through the words index, the matches' country looked up; the country's incidents first;
    # read newest first (a reach of 64 texts, then the index): the same hits every way.
    looked_up = await found(narrower=lambda *_: False)
    assert await found(narrower=lambda *_: True) == looked_up
    assert await found(reach=lambda *_: 64) == looked_up
    assert await found() == looked_up
    ids = {h["id"] for h in raid_hits}
    ru_now, ru_before, ru_then, ua_now, ua_before, ua_then, *in_fr = looked_up
    assert ids.isdisjoint(ru_now)
    assert ids <= set(ru_before)
    assert ids & set(ru_then)
    assert ids <= set(ua_now)
    assert ids.isdisjoint(ua_before + ua_then)
    assert in_fr == [[], [], []]


async def test_a_stance_is_found_beside_the_words_as_by_reading_newest_first(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = [
        {"q": q, "stance": stance, **at}
        for q in ("Тёткино", "Tyotkino", "Russian")
        for stance in (["denies"], ["asserts"], ["confirms", "refutes"], ["retracts"])
        for at in ({}, {"known_at": "2024-03-12T12:00:00Z"})
    ]
    by_index = [[h["id"] for h in await demo.hits(**params)] for params in asked]
    with monkeypatch.context() as patched:
        patched.setattr(search_plan, "reach", lambda *_: 64)
        newest_first = [[h["id"] for h in await demo.hits(**params)] for params in asked]
    assert newest_first == by_index
    assert any(by_index)
    assert not all(by_index)
    stance_of = {h["id"]: h["stance"] for h in await demo.hits(q="Тёткино")}
    assert {stance_of[i] for i in by_index[0]} == {"denies"}


async def test_searches_have_a_pool_that_keeps_generic_plans_and_answer_the_same_elsewhere(
    demo: Demo, services: Services
) -> None:
    await demo.search(q="Тёткино")  # once the demo's last statement is in the views
    reads = services.reads
    assert reads.searches is not reads.pool
    assert await reads.searches.fetchval("SHOW plan_cache_mode") == "force_generic_plan"
    # Other reads are planned for their values.
    assert await reads.pool.fetchval("SHOW plan_cache_mode") == "auto"
    asked = [
        (q, search_queries.SearchFilter(kinds=kinds, stances=stances), at)
        for q in ("Тёткино", "Russian", "Tyotkino -raid")
        for kinds, stances in (([], []), (["statement"], ["denies"]))
        for at in (None, datetime(2024, 3, 12, 12, tzinfo=UTC))
    ]
    found = 0
    for q, filters, at in asked:
        kept = await search_queries.search(
            reads.searches, q, filters, known_at=at, after=None, limit=50
        )
        # Any other pool or connection sets the plans for a transaction of its own.
        async with reads.pool.acquire() as connection:
            elsewhere = await search_queries.search(
                connection, q, filters, known_at=at, after=None, limit=50
            )
            assert await connection.fetchval("SHOW plan_cache_mode") == "auto"
        assert [tuple(r) for r in kept] == [tuple(r) for r in elsewhere], (q, filters, at)
        found += len(kept)
    assert found


async def test_pages_follow_each_other_without_gaps(demo: Demo) -> None:
    whole = (await demo.search(q="Russian", limit="200"))["items"]
    walked: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = await demo.search(q="Russian", limit="3", **({"cursor": cursor} if cursor else {}))
        walked += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert walked == whole


async def test_answers_carry_the_read_headers(demo: Demo) -> None:
    response = await demo.client.get(
        "/v1/search", params={"q": "Tyotkino", "min_position": str(demo.head)}
    )
    assert response.status_code == 200
    assert int(response.headers["x-projection-position"]) >= demo.head
    again = await demo.client.get(
        "/v1/search", params={"q": "Tyotkino"}, headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304
    past = await demo.client.get(
        "/v1/search", params={"q": "Tyotkino", "known_at": "2024-03-12T10:00:00Z"}
    )
    assert "immutable" in past.headers["cache-control"]


@pytest.mark.parametrize(
    ("asked", "field"),
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "!!! ?? ---"}, "q"),
        ({"q": "the"}, "q"),
        ({"q": "the", "kind": "source", "stance": "asserts"}, "q"),
        ({"q": "a" * 301}, "q"),
        ({"q": "Tyot\x00kino"}, "q"),
        ({"q": "Tyotkino", "kind": "rumour"}, "kind"),
        ({"q": "Tyotkino", "stance": "whispers"}, "stance"),
        ({"q": "Tyotkino", "country": "ru"}, "country"),
        ({"q": "Tyotkino", "incident_id": "raid"}, "incident_id"),
        ({"q": "Tyotkino", "known_at": "yesterday"}, "known_at"),
        ({"q": "Tyotkino", "known_at": "2024-03-12T10:00:00"}, "known_at"),
        ({"q": "Tyotkino", "limit": "0"}, "limit"),
        ({"q": "Tyotkino", "cursor": "bm90LWEtY3Vyc29y"}, "cursor"),
        ({"q": "Tyotkino", "query": "Tyotkino"}, "query"),
        ({"q": "Tyotkino", "cursor": cursor("search", 1e300, 2**40, CLAIM)}, "cursor"),
        ({"q": "Tyotkino", "cursor": cursor("search", 0.5, -1, CLAIM)}, "cursor"),
        ({"q": "Tyotkino", "cursor": cursor("search", -0.5, 1, CLAIM)}, "cursor"),
        ({"q": "Tyotkino", "cursor": cursor("timeline", 0.5, 1, CLAIM)}, "cursor"),
    ],
)
async def test_bad_searches_are_a_400_naming_the_parameter(
    client: Client, asked: dict[str, str], field: str
) -> None:
    response = await client.get("/v1/search", params=asked)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["field"] == field


async def test_negations_alone_find_texts_but_never_a_statement_without_a_quote(
    demo: Demo,
) -> None:
    raid = load_scenario().incident_id("raid")
    timeline = await demo.client.get(
        f"/v1/incidents/{raid}/timeline", params={"limit": "200", "min_position": str(demo.head)}
    )
    assert any(item.get("quote") is None for item in timeline.json()["items"])
    narrowed: dict[str, Any] = {"incident_id": str(raid), "known_at": "2030-01-01T00:00:00Z"}
    for params in ({}, narrowed):
        hits = (await demo.search(q="-zzzz -Tyotkino", limit="200", **params))["items"]
        assert hits
        assert all(snippet(hit) for hit in hits)
        assert {hit["kind"] for hit in hits} >= {"claim", "statement"}


async def test_query_syntax_of_every_kind_is_taken(client: Client) -> None:
    for q in ('"unclosed', "a & b | !c", "(( ))", "tyot:*", "-", "or or or", "<->", "'"):
        response = await client.get("/v1/search", params={"q": q})
        assert response.status_code in (200, 400), (q, response.text)
        if response.status_code == 400:
            assert response.json()["field"] == "q"
