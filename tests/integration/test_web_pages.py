"""The workspace's pages over the demo: what they show now and as known at a moment, how they
escape what sources say, and how they answer bad moments, filters and closed reads."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import extruct  # type: ignore[import-untyped]
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from pyld import jsonld  # type: ignore[import-untyped]

from claimledger.api.app import create_app
from claimledger.api.web.pages import TIMELINE_LIMIT
from claimledger.runtime.bootstrap import Services
from claimledger.runtime.demo import Scenario, load_demo, load_scenario
from claimledger.runtime.keys import SYSTEM_KEY_ID
from claimledger.runtime.settings import Settings
from claimledger.store.events import head_position
from tests.conftest import Keys
from tests.helpers import claim, incident, source, statement
from tests.integration.test_exports import SCHEMA, schema_org_loader, value

pytestmark = pytest.mark.anyio

TEN = "2024-03-12T10:00:00Z"
Client = AsyncTestClient[Litestar]


@pytest.fixture
async def demo(settings: Settings, services: Services) -> AsyncIterator[tuple[Client, Scenario]]:
    writer = services.writer
    await writer.run(load_demo, writer.ledger, recorded_by=SYSTEM_KEY_ID)
    head = await head_position(services.pool)
    async with AsyncTestClient(app=create_app(settings)) as client:
        caught_up = await client.get("/v1/incidents", params={"min_position": str(head)})
        assert caught_up.status_code == 200
        yield client, load_scenario()


def statuses(html: str) -> list[str]:
    return re.findall(r'<span class="badge status-(\w+)">', html)


def timeline_count(html: str) -> int:
    found = re.search(r"\((\d+) statements?, in order of publication\)", html)
    assert found, "no timeline heading"
    return int(found.group(1))


class Ids(HTMLParser):
    """Every id in a document, to check that it is well-formed enough to have them once."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids.extend(value for name, value in attrs if name == "id" and value)


async def test_home_lists_incidents_newest_first_with_a_map_and_filters(
    demo: tuple[Client, Scenario],
) -> None:
    client, scenario = demo
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    html = response.text
    assert "Cross-border raid" in html
    assert "Drone and missile attacks" in html
    assert f'href="/incidents/{scenario.incident_id("raid")}"' in html
    assert '<svg viewBox="0 0 640 360" role="img"' in html
    assert "51.2725, 34.3033" in html
    assert '<main id="main"' in html
    assert 'aria-label="Filter incidents"' in html
    assert '<label for="filter-status">' in html
    assert 'aria-live="polite"' in html
    ids = Ids()
    ids.feed(html)
    assert len(ids.ids) == len(set(ids.ids)), "an id appears twice"

    only = await client.get("/", params={"status": "confirmed"})
    assert "Cross-border raid" in only.text
    assert "Drone and missile" not in only.text
    none = await client.get("/", params={"country": "UA"})
    assert "0 incidents" in none.text
    anything = await client.get("/", params={"status": "", "country": "", "tag": ""})
    assert "2 incidents" in anything.text
    at_dawn = await client.get("/", params={"known_at": "2024-03-12T04:05:30Z"})
    assert "1 incident," in at_dawn.text
    assert "Cross-border raid" in at_dawn.text


async def test_the_incident_page_as_known_now_and_at_ten(demo: tuple[Client, Scenario]) -> None:
    client, scenario = demo
    path = f"/incidents/{scenario.incident_id('raid')}"
    now = await client.get(path)
    assert now.status_code == 200
    assert timeline_count(now.text) == 13
    assert "Kursk Oblast" in now.text
    assert "Glushkovsky District" in now.text
    # Known to the day: shown as a day, not as midnight.
    day = '<time datetime="2024-03-12T00:00:00Z">2024-03-12</time>'
    assert f"<dt>Occurred</dt><dd>{day}" in now.text
    assert 'data-live="' in now.text
    # Each statement's source with its reliability grade (the demo rates none: F).
    assert now.text.count('<span class="grade" title="reliability">(F: cannot be judged)') == 13
    final = {k: v for k, v in scenario.final.items() if k != "explosions"}
    assert statuses(now.text)[1:] == list(final.values())

    then = await client.get(path, params={"known_at": TEN})
    assert then.status_code == 200
    assert timeline_count(then.text) == 5
    assert statuses(then.text)[0] == "claimed"
    assert "data-live" not in then.text
    assert "as known at <time" in then.text
    assert then.headers["cache-control"] == "public, max-age=31536000, immutable"

    # The Siberian Battalion's 10:15 post was recorded at 13:47: in the published-before view of
    # 11:00, not in the view as known at 11:00.
    known = await client.get(path, params={"known_at": "2024-03-12T11:00:00Z"})
    published = await client.get(path, params={"published_before": "2024-03-12T11:00:00Z"})
    assert timeline_count(known.text) == 5
    assert timeline_count(published.text) == 6
    assert published.headers["cache-control"] == "no-cache"


async def test_the_control_leads_to_the_canonical_address(demo: tuple[Client, Scenario]) -> None:
    client, scenario = demo
    path = f"/incidents/{scenario.incident_id('raid')}"
    known = await client.get(path, params={"at": "2024-03-12T10:00"}, follow_redirects=False)
    assert known.status_code == 303
    assert known.headers["location"] == f"{path}?known_at=2024-03-12T10%3A00%3A00Z"
    published = await client.get(
        "/",
        params={"status": "claimed", "at": "2024-03-12T10:00", "axis": "published"},
        follow_redirects=False,
    )
    assert published.headers["location"] == (
        "/?status=claimed&published_before=2024-03-12T10%3A00%3A00Z"
    )
    cleared = await client.get(path, params={"at": "", "known_at": TEN}, follow_redirects=False)
    assert cleared.headers["location"] == path


async def test_claim_and_source_pages(demo: tuple[Client, Scenario]) -> None:
    client, scenario = demo
    entered = scenario.claim_id("raid", "entered")
    page = await client.get(f"/claims/{entered}")
    assert page.status_code == 200
    assert '<div class="band"' in page.text
    history = re.findall(r'<tr><td><span class="badge status-(\w+)">', page.text)
    assert history == ["unverified", "claimed", "disputed", "confirmed"]
    earlier = await client.get(f"/claims/{entered}", params={"known_at": TEN})
    assert re.findall(r'<tr><td><span class="badge status-(\w+)">', earlier.text) == [
        "unverified",
        "claimed",
    ]

    svoboda = scenario.source_id("svoboda")
    page = await client.get(f"/sources/{svoboda}")
    assert page.status_code == 200
    assert "Reliability history" in page.text
    assert "Radio Svoboda" in page.text
    assert "geolocation" in page.text


async def test_a_hostile_quote_is_shown_as_text(client: Client, keys: Keys) -> None:
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    source_id = await source(client, keys.admin, name="<b>Mallory</b>")
    incident_id = await incident(client, keys.editor, title="<i>Raid</i>")
    claim_id = await claim(client, keys.editor, incident_id, text="<u>It</u> happened")
    await statement(client, keys.editor, claim_id, source_id, quote=hostile)
    digest = "ab" * 32
    evidence = [{"kind": "photo", "sha256": digest, "lat": 51.3, "lon": 34.2}]
    mistaken = await statement(client, keys.editor, claim_id, source_id, evidence=evidence)
    withdrawn = await client.post(
        f"/v1/statements/{mistaken['id']}/withdrawal",
        json={"reason": "<em>recorded on the wrong claim</em>"},
        headers=keys.header("editor"),
    )
    assert withdrawn.status_code == 201, withdrawn.text
    position = str(withdrawn.json()["position"])
    settled = await client.get("/v1/sources", params={"min_position": position})
    assert settled.status_code == 200
    page = await client.get(f"/incidents/{incident_id}")
    html = page.text
    assert timeline_count(html) == 2
    assert f'<code class="hash">{digest}</code>' in html
    assert "photo by &lt;b&gt;Mallory&lt;/b&gt; (51.3, 34.2)" in html
    assert '<li id="statement-' + mistaken["id"] + '" class="statement withdrawn">' in html
    assert ": &lt;em&gt;recorded on the wrong claim&lt;/em&gt;</p>" in html
    assert "<del>" in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;b&gt;Mallory&lt;/b&gt;" in html
    assert "&lt;i&gt;Raid&lt;/i&gt;" in html
    assert "<u>It</u>" not in html


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ({"known_at": "yesterday"}, "known_at"),
        ({"known_at": "2024-03-12T10:00:00"}, "known_at"),
        ({"published_before": "3000-01-01T00:00:00Z"}, "published_before"),
        ({"at": "12 March"}, "at"),
        ({"at": "2024-03-12T10:00", "axis": "sideways"}, "axis"),
        ({"status": "true-ish"}, "status"),
        ({"country": "Russia"}, "country"),
        ({"knownat": "2024-03-12T10:00:00Z"}, "knownat"),
    ],
)
async def test_a_bad_moment_or_filter_is_a_400_page_naming_it(
    client: Client, query: dict[str, str], name: str
) -> None:
    response = await client.get("/", params=query)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert f"The field at fault: <code>{name}</code>" in response.text


async def test_pages_of_nothing_are_404_pages(client: Client) -> None:
    for path in ("/incidents", "/claims", "/sources"):
        response = await client.get(f"{path}/7a0c3f5e-3b8e-4d0c-9a57-1a2b3c4d5e6f")
        assert response.status_code == 404
        assert "Not in the ledger" in response.text


async def test_pages_answer_401_when_reads_need_a_key(settings: Settings) -> None:
    closed = replace(settings, public_read=False)
    async with AsyncTestClient(app=create_app(closed)) as client:
        for path in ("/", "/incidents/7a0c3f5e-3b8e-4d0c-9a57-1a2b3c4d5e6f", "/moments"):
            response = await client.get(path)
            assert response.status_code == 401
            assert "need an API key" in response.text
        assert (await client.get("/web/assets/web.css")).status_code == 200


async def test_assets_are_served_and_pages_stay_out_of_the_openapi_document(
    client: Client,
) -> None:
    htmx = await client.get("/web/assets/htmx.org-2.0.11/htmx.min.js")
    assert htmx.status_code == 200
    assert "htmx" in htmx.text[:2000]
    document = (await client.get("/schema/openapi.json")).json()
    assert not [
        p
        for p in document["paths"]
        if not p.startswith(("/v1", "/health", "/ready", "/metrics", "/problems"))
    ]


async def test_compare_with_an_earlier_moment(demo: tuple[Client, Scenario]) -> None:
    client, scenario = demo
    path = f"/incidents/{scenario.incident_id('raid')}"
    page = await client.get(path, params={"known_at": "2024-03-12T12:00:00Z", "since": TEN})
    assert page.status_code == 200
    html = page.text
    assert "changes recorded after <time" in html
    # Between 10:00 and 12:00: the FSB's denial (11:08), which made "entered" disputed.
    assert re.findall(r'<li class="change change-(\w+)">', html) == [
        "statement_recorded",
        "status_changed",
    ]
    assert "Federal Security Service" in html
    assert (
        '<span class="badge status-claimed">claimed</span> → '
        '<span class="badge status-disputed">disputed</span>'
    ) in html
    naive = await client.get(path, params={"since": "2024-03-12T16:00"})
    assert re.findall(r'<li class="change change-(\w+)">', naive.text) == [
        "statement_recorded",
        "status_changed",
    ]
    later = await client.get(path, params={"known_at": TEN, "since": "2024-03-12T12:00:00Z"})
    assert "nothing to compare" in later.text
    bad = await client.get(path, params={"since": "noon"})
    assert bad.status_code == 400
    assert "The field at fault: <code>since</code>" in bad.text


async def test_the_source_page_shows_the_track_record(demo: tuple[Client, Scenario]) -> None:
    client, scenario = demo
    page = await client.get(f"/sources/{scenario.source_id('legion')}")
    assert page.status_code == 200
    assert "Track record" in page.text
    assert re.search(r"Claims it asserted or denied: <strong>4</strong>", page.text)
    assert '<th scope="row">asserted</th><td>4</td>' in page.text


async def test_the_claim_page_embeds_its_claim_review(
    demo: tuple[Client, Scenario], keys: Keys
) -> None:
    client, scenario = demo
    vehicle = scenario.claim_id("raid", "vehicle")
    path = f"/claims/{vehicle}"
    before = await client.get(path)
    assert "application/ld+json" not in before.text
    hostile = "Geolocated. </script><script>alert(1)</script><!--"
    written = await client.post(
        f"/v1/claims/{vehicle}/verdicts",
        json={"verdict": "mostly_true", "rationale": hostile},
        headers=keys.header("editor"),
    )
    assert written.status_code == 201, written.text
    settled = await client.get(
        path.replace("/claims", "/v1/claims"),
        params={"min_position": str(written.json()["position"])},
    )
    assert settled.status_code == 200
    page = await client.get(path)
    assert page.status_code == 200
    assert "<script>alert(1)" not in page.text
    assert "rated <strong>Mostly true</strong> (4 of 5)" in page.text
    (review,) = extruct.extract(page.text, syntaxes=["json-ld"], uniform=True)["json-ld"]
    (expanded,) = jsonld.expand(review, {"documentLoader": schema_org_loader})
    assert expanded["@type"] == [SCHEMA + "ClaimReview"]
    assert (
        value(expanded, "claimReviewed") == "A Russian armoured vehicle was destroyed in Tyotkino"
    )
    assert value(expanded, "reviewBody") == hostile
    assert value(expanded, "url") == f"http://testserver.local/claims/{vehicle}"
    rating = value(expanded, "reviewRating")
    assert (value(rating, "ratingValue"), value(rating, "alternateName")) == (4, "Mostly true")
    claim_item = value(expanded, "itemReviewed")
    assert value(value(claim_item, "author"), "name") == 'Legion "Freedom of Russia"'
    # As known before the verdict, the page has no review.
    earlier = await client.get(path, params={"known_at": TEN})
    assert "application/ld+json" not in earlier.text


async def test_the_slider_steps_through_the_moments_the_record_changed(
    demo: tuple[Client, Scenario],
) -> None:
    client, scenario = demo
    raid = str(scenario.incident_id("raid"))
    now = await client.get("/moments", params={"incident_id": raid})
    assert now.status_code == 200
    assert now.headers["cache-control"] == "no-cache"
    found = re.search(r'data-moments="([^"]+)"', now.text)
    assert found
    moments = found.group(1).split(" ")
    # The incident and its claims (04:05), then each of its thirteen statements' recording.
    assert moments[0] == "2024-03-12T04:05:00Z"
    assert moments[-1] == "2024-03-12T16:25:00Z"
    assert len(moments) == 14
    assert f'max="{len(moments) - 1}" step="1" value="{len(moments) - 1}"' in now.text
    at_ten = await client.get("/moments", params={"incident_id": raid, "known_at": TEN})
    # 09:44, the last change by 10:00, is the sixth moment.
    assert 'value="5"' in at_ten.text
    assert "<output" in at_ten.text
    assert ">2024-03-12T09:44:00Z</output>" in at_ten.text
    bad = await client.get("/moments", params={"incident_id": "raid"})
    assert bad.status_code == 400
    assert "The field at fault: <code>incident_id</code>" in bad.text


async def test_search_finds_tyotkino_and_marks_the_words(demo: tuple[Client, Scenario]) -> None:
    client, scenario = demo
    home = await client.get("/")
    assert '<form role="search" method="get" action="/search"' in home.text
    page = await client.get("/search", params={"q": "Tyotkino"})
    assert page.status_code == 200
    html = page.text
    raid = scenario.incident_id("raid")
    assert f'<a href="/incidents/{raid}">Cross-border raid' in html
    assert "<mark>Tyotkino</mark>" in html
    claims = await client.get("/search", params={"q": "Tyotkino", "kind": "claim"})
    kinds = set(re.findall(r'<li class="hit hit-(\w+)">', claims.text))
    assert kinds == {"claim"}
    # As known at dawn, nothing recorded later is found.
    dawn = await client.get("/search", params={"q": "Tyotkino", "known_at": "2024-03-12T04:00:00Z"})
    assert "0 hits" in dawn.text
    for query, name in (({"q": "  "}, "q"), ({"q": "the"}, "q"), ({"q": "x", "kind": "y"}, "kind")):
        bad = await client.get("/search", params=query)
        assert bad.status_code == 400, query
        assert f"The field at fault: <code>{name}</code>" in bad.text


async def test_a_hostile_quote_in_a_search_snippet_is_text(client: Client, keys: Keys) -> None:
    source_id = await source(client, keys.admin, name="Mallory")
    incident_id = await incident(client, keys.editor, title="Raid")
    claim_id = await claim(client, keys.editor, incident_id, text="It happened")
    hostile = "<script>alert('zebra')</script> zebra crossing"
    written = await statement(client, keys.editor, claim_id, source_id, quote=hostile)
    settled = await client.get("/v1/sources", params={"min_position": str(written["position"])})
    assert settled.status_code == 200
    page = await client.get("/search", params={"q": "zebra"})
    assert page.status_code == 200
    assert "<script>alert" not in page.text
    snippet = "&lt;script&gt;alert(&#39;zebra&#39;)&lt;/script&gt; <mark>zebra</mark> crossing"
    assert snippet in page.text
    assert f'href="/incidents/{incident_id}#statement-{written["id"]}"' in page.text


async def test_maps_draw_tiles_only_from_the_configured_server(
    demo: tuple[Client, Scenario], settings: Settings
) -> None:
    client, scenario = demo
    raid = scenario.incident_id("raid")
    plain = await client.get(f"/incidents/{raid}")
    assert plain.status_code == 200
    assert "<circle" in plain.text
    assert "<image" not in plain.text, "without a tile server no page asks for a tile"
    tiled = replace(settings, map_tiles_url="/tiles/{z}/{x}/{y}.png")
    async with AsyncTestClient(app=create_app(tiled)) as with_tiles:
        page = await with_tiles.get(f"/incidents/{raid}")
        home = await with_tiles.get("/")
    assert page.status_code == 200
    hrefs = re.findall(r'<image href="(/tiles/\d+/\d+/\d+\.png)"', page.text)
    assert hrefs, page.text
    assert "<circle" in page.text, "the places are drawn over the tiles"
    assert re.search(r'<image href="/tiles/\d+/\d+/\d+\.png"', home.text)


async def test_a_long_timeline_shows_its_first_statements_and_links_to_the_whole(
    client: Client, keys: Keys
) -> None:
    source_id = await source(client, keys.admin)
    incident_id = await incident(client, keys.editor)
    claim_id = await claim(client, keys.editor, incident_id)
    base = datetime(2024, 3, 12, 6, tzinfo=UTC)
    batch = [
        {
            "claim_id": claim_id,
            "source_id": source_id,
            "stance": "asserts",
            "published_at": (base + timedelta(minutes=i)).isoformat(),
            "quote": f"report {i}",
        }
        for i in range(TIMELINE_LIMIT + 5)
    ]
    saved = await client.post(
        "/v1/statements:batch", json={"statements": batch}, headers=keys.header("editor")
    )
    assert saved.status_code == 201, saved.text
    head = str(max(r["position"] for r in saved.json()["items"]))
    assert (await client.get("/v1/sources", params={"min_position": head})).status_code == 200
    page = await client.get(f"/incidents/{incident_id}")
    assert page.status_code == 200
    shown = re.findall(r'<li id="statement-[0-9a-f-]+" class="statement', page.text)
    assert len(shown) == TIMELINE_LIMIT
    assert f"The first {TIMELINE_LIMIT} statements by publication" in page.text
    whole = re.search(
        r'<a href="(/v1/incidents/[0-9a-f-]+/timeline\?format=csv)">as CSV</a>', page.text
    )
    assert whole, page.text
    csv_answer = await client.get(whole.group(1))
    assert csv_answer.status_code == 200
    assert len(csv_answer.text.strip().splitlines()) == TIMELINE_LIMIT + 5 + 1
