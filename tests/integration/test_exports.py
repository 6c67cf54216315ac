"""The exports, read back by the tools the field uses: ClaimReview expanded as JSON-LD, incidents
as GeoJSON, timelines as CSV; on the Tiotkino demo, with a verdict given over the API."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import geojson  # type: ignore[import-untyped]
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from pyld import jsonld  # type: ignore[import-untyped]

from claimledger.api import timeline_csv
from claimledger.api.app import create_app
from claimledger.domain.values import Verdict
from claimledger.runtime.bootstrap import Services
from claimledger.runtime.demo import load_demo, load_scenario
from claimledger.runtime.keys import SYSTEM_KEY_ID
from claimledger.runtime.settings import Settings
from claimledger.store.events import head_position
from tests.conftest import Keys
from tests.helpers import eventually

SCENARIO = load_scenario()
RAID = SCENARIO.incident_id("raid")
STRIKES = SCENARIO.incident_id("strikes")
VEHICLE = SCENARIO.claim_id("raid", "vehicle")
CONTROL = SCENARIO.claim_id("raid", "control")
PUBLIC = "https://ledger.example.org"
SCHEMA = "http://schema.org/"
# A formula a spreadsheet would run, in a quote a source could send.
FORMULA = '=HYPERLINK("https://evil.example","click")'


@dataclass
class Desk:
    client: AsyncTestClient[Litestar]
    keys: Keys
    head: int

    async def get(self, path: str, accept: str | None = None, **params: str) -> Any:
        headers = {} if accept is None else {"Accept": accept}
        return await self.client.get(
            path, params={"min_position": str(self.head), **params}, headers=headers
        )

    async def write(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.client.post(path, json=body, headers=self.keys.header("editor"))
        assert response.status_code == 201, response.text
        written: dict[str, Any] = response.json()
        self.head = max(self.head, written["position"])
        return written


@pytest.fixture
async def desk(settings: Settings, services: Services, keys: Keys) -> AsyncIterator[Desk]:
    """The demo loaded, served with a public URL and a publisher of its own."""
    writer = services.writer
    await writer.run(load_demo, writer.ledger, recorded_by=SYSTEM_KEY_ID)
    exported = replace(
        settings,
        public_url=PUBLIC,
        publisher_name="The Desk",
        publisher_url="https://desk.example.org",
    )
    async with AsyncTestClient(app=create_app(exported)) as client:
        yield Desk(client, keys, await head_position(services.pool))


async def assert_vehicle_by_rvc(desk: Desk) -> dict[str, Any]:
    """A second assertion of the vehicle claim, with a URL, and a quote that is a formula."""
    return await desk.write(
        f"/v1/claims/{VEHICLE}/statements",
        {
            "source_id": str(SCENARIO.source_id("rvc")),
            "stance": "asserts",
            "published_at": "2024-03-12T08:30:00Z",
            "url": "https://t.me/rusvolcorps/1",
            "quote": FORMULA,
        },
    )


# -- ClaimReview -----------------------------------------------------------------------------


def schema_org_loader(url: str, options: dict[str, Any]) -> dict[str, Any]:
    """schema.org's context, served here (the network reaches no other host): its vocabulary."""
    assert url.rstrip("/") in ("https://schema.org", "http://schema.org"), url
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": {"@context": {"@vocab": SCHEMA}},
    }


def value(node: dict[str, Any], name: str) -> Any:
    (found,) = node[SCHEMA + name]
    return found.get("@value", found)


async def test_a_claim_review_expands_to_schema_org_field_by_field(desk: Desk) -> None:
    first = await desk.write(
        f"/v1/claims/{VEHICLE}/verdicts",
        {"verdict": "mostly_true", "rationale": "Geolocated; the type is not known."},
    )
    await assert_vehicle_by_rvc(desk)
    second = await desk.write(f"/v1/claims/{VEHICLE}/verdicts", {"verdict": "true"})

    response = await desk.get(f"/v1/claims/{VEHICLE}/claimreview")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/ld+json")
    assert response.headers["vary"] == "Accept"
    review = response.json()
    assert review["@context"] == "https://schema.org"
    (expanded,) = jsonld.expand(review, {"documentLoader": schema_org_loader})
    assert expanded["@type"] == [SCHEMA + "ClaimReview"]
    assert (
        value(expanded, "claimReviewed") == "A Russian armoured vehicle was destroyed in Tyotkino"
    )
    assert value(expanded, "url") == f"{PUBLIC}/claims/{VEHICLE}"
    assert value(expanded, "datePublished") == second["recorded_at"]
    rating = value(expanded, "reviewRating")
    assert rating["@type"] == [SCHEMA + "Rating"]
    assert (value(rating, "ratingValue"), value(rating, "alternateName")) == (5, "True")
    assert (value(rating, "bestRating"), value(rating, "worstRating")) == (5, 1)
    publisher = value(expanded, "author")
    assert publisher["@type"] == [SCHEMA + "Organization"]
    assert value(publisher, "name") == "The Desk"
    assert value(publisher, "url") == "https://desk.example.org"
    claim = value(expanded, "itemReviewed")
    assert claim["@type"] == [SCHEMA + "Claim"]
    # The Legion asserted it first (08:00, without a URL); the RVC's post is where it appeared.
    author = value(claim, "author")
    assert author["@type"] == [SCHEMA + "Organization"]
    assert value(author, "name") == 'Legion "Freedom of Russia"'
    assert value(claim, "datePublished") == "2024-03-12T08:00:00Z"
    appearance = value(claim, "appearance")
    assert appearance["@type"] == [SCHEMA + "CreativeWork"]
    assert value(appearance, "url") == "https://t.me/rusvolcorps/1"
    assert value(appearance, "datePublished") == "2024-03-12T08:30:00Z"
    assert value(value(appearance, "author"), "name") == "Russian Volunteer Corps"
    assert SCHEMA + "firstAppearance" not in claim

    # As known when the first verdict was given: that verdict, and no appearance recorded yet.
    then = await desk.get(f"/v1/claims/{VEHICLE}/claimreview", known_at=first["recorded_at"])
    assert then.status_code == 200, then.text
    assert then.json()["reviewRating"] == {
        "@type": "Rating",
        "ratingValue": 4,
        "bestRating": 5,
        "worstRating": 1,
        "alternateName": "Mostly true",
    }
    assert then.json()["reviewBody"] == "Geolocated; the type is not known."
    assert then.json()["datePublished"] == first["recorded_at"]
    assert "appearance" not in then.json()["itemReviewed"]


async def test_a_claim_review_needs_a_verdict_and_a_format_it_can_answer(desk: Desk) -> None:
    verdict = await desk.write(f"/v1/claims/{CONTROL}/verdicts", {"verdict": "unproven"})
    path = f"/v1/claims/{CONTROL}/claimreview"

    review = await desk.get(path)
    assert review.json()["reviewRating"] == {"@type": "Rating", "alternateName": "Unproven"}
    # The day of the raid: no verdict yet.
    early = await desk.get(path, known_at="2024-03-12T18:00:00Z")
    assert early.status_code == 404
    assert early.headers["content-type"] == "application/problem+json"
    assert early.json()["type"] == "/problems/no-verdict"
    unknown = await desk.get(f"/v1/claims/{STRIKES}/claimreview")
    assert unknown.json()["type"] == "/problems/not-found"
    without = await desk.get(f"/v1/claims/{VEHICLE}/claimreview")
    assert without.json()["type"] == "/problems/no-verdict"

    as_json = await desk.get(path, "application/json")
    assert as_json.headers["content-type"].startswith("application/json")
    assert as_json.json() == review.json()
    assert as_json.headers["etag"] != review.headers["etag"]
    refused = await desk.get(path, "text/csv")
    assert refused.status_code == 406
    assert refused.json()["type"] == "/problems/not-acceptable"
    assert "application/ld+json" in refused.json()["detail"]
    assert (
        (await desk.get(path, "application/ld+json;q=0, */*;q=0.1"))
        .headers["content-type"]
        .startswith("application/json")
    )

    etag = review.headers["etag"]
    again = await desk.client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    # The review as of a moment before the settled horizon is final.
    past = await desk.get(path, known_at=verdict["recorded_at"])
    assert past.status_code == 200
    assert past.json() == review.json()


async def test_a_claim_review_links_to_the_page_on_the_host_asked_without_a_public_url(
    settings: Settings, services: Services
) -> None:
    writer = services.writer
    await writer.run(load_demo, writer.ledger, recorded_by=SYSTEM_KEY_ID)
    receipt = await writer.run(
        partial(
            writer.ledger.give_verdict,
            VEHICLE,
            verdict=Verdict.FALSE,
            rationale=None,
            recorded_by=SYSTEM_KEY_ID,
        )
    )
    head = (await writer.positioned(receipt)).position
    async with AsyncTestClient(app=create_app(settings), base_url="http://desk.test") as client:
        response = await client.get(
            f"/v1/claims/{VEHICLE}/claimreview", params={"min_position": str(head)}
        )
    review = response.json()
    assert review["url"] == f"http://desk.test/claims/{VEHICLE}"
    assert review["author"] == {
        "@type": "Organization",
        "name": "claimledger",
        "url": "http://desk.test",
    }
    assert review["reviewRating"]["ratingValue"] == 1


# -- GeoJSON -----------------------------------------------------------------------------------


async def test_incidents_as_geojson_are_valid_and_longitude_first(desk: Desk) -> None:
    response = await desk.get("/v1/incidents", "application/geo+json")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/geo+json")
    assert response.headers["vary"] == "Accept"
    collection = geojson.loads(response.text)
    assert collection.is_valid, collection.errors()
    features = {f["properties"]["title"]: f for f in collection["features"]}
    raid = next(f for f in collection["features"] if f["id"] == str(RAID))
    assert raid["geometry"] == {"type": "Point", "coordinates": [34.3033, 51.2725]}
    assert raid["properties"]["country"] == "RU"
    assert raid["properties"]["admin1"] == "Kursk Oblast"
    assert raid["properties"]["headline_status"] == "disputed"
    assert raid["properties"]["tags"] == ["partisans", "border-incursion"]
    # The strikes are placed in a country, without coordinates: a Feature without geometry.
    strikes = next(f for f in collection["features"] if f["id"] == str(STRIKES))
    assert strikes["geometry"] is None
    assert len(features) == 2
    assert collection["next_cursor"] is None
    assert collection["links"] == []

    by_format = await desk.get("/v1/incidents", format="geojson")
    assert by_format.headers["content-type"].startswith("application/geo+json")
    assert by_format.json() == response.json()
    as_json = await desk.get("/v1/incidents", "application/json", format="geojson")
    assert as_json.json() == response.json()

    # The list's filters and known_at hold as for JSON.
    tagged = await desk.get("/v1/incidents", format="geojson", tag="partisans")
    assert [f["id"] for f in tagged.json()["features"]] == [str(RAID)]
    early = await desk.get("/v1/incidents", format="geojson", known_at="2024-03-12T04:05:30Z")
    (only,) = early.json()["features"]
    assert only["id"] == str(RAID)
    assert only["properties"]["headline_status"] == "unverified"
    assert geojson.loads(early.text).is_valid
    boxed = await desk.get("/v1/incidents", format="geojson", bbox="34,51,35,52")
    assert [f["id"] for f in boxed.json()["features"]] == [str(RAID)]


async def test_incidents_as_geojson_page_with_the_lists_cursor(desk: Desk) -> None:
    first = await desk.get("/v1/incidents", "application/geo+json", limit="1", country="RU")
    page = first.json()
    assert len(page["features"]) == 1
    assert page["next_cursor"]
    (link,) = page["links"]
    assert link["rel"] == "next"
    assert link["type"] == "application/geo+json"
    assert "format=geojson" in link["href"]
    assert "country=RU" in link["href"]
    assert link["href"].startswith("http")
    # The link is followed as it is, with no Accept header.
    second = await desk.client.get(link["href"])
    assert second.headers["content-type"].startswith("application/geo+json")
    rest = second.json()
    assert geojson.loads(second.text).is_valid
    assert rest["next_cursor"] is None
    ids = {page["features"][0]["id"], rest["features"][0]["id"]}
    assert ids == {str(RAID), str(STRIKES)}
    # The same cursor pages the JSON list too.
    as_json = await desk.get("/v1/incidents", limit="1", country="RU", cursor=page["next_cursor"])
    assert [i["id"] for i in as_json.json()["items"]] == [rest["features"][0]["id"]]


async def test_an_unsupported_format_of_incidents_is_refused(desk: Desk) -> None:
    refused = await desk.get("/v1/incidents", "text/csv")
    assert refused.status_code == 406
    assert refused.headers["content-type"] == "application/problem+json"
    assert "application/geo+json" in refused.json()["detail"]
    unknown = await desk.get("/v1/incidents", format="kml")
    assert unknown.status_code == 400
    assert unknown.json()["field"] == "format"
    assert "geojson" in unknown.json()["detail"]
    etag = (await desk.get("/v1/incidents", format="geojson")).headers["etag"]
    unchanged = await desk.client.get(
        "/v1/incidents", params={"format": "geojson"}, headers={"If-None-Match": etag}
    )
    assert unchanged.status_code == 304
    # The JSON answer is another representation, with an ETag of its own.
    assert (await desk.get("/v1/incidents")).headers["etag"] != etag


# -- CSV -----------------------------------------------------------------------------------------


def rows_of(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


async def timeline_ids(desk: Desk, path: str, **params: str) -> list[str]:
    response = await desk.get(path, limit="200", **params)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def test_an_incidents_timeline_as_csv_is_one_row_per_statement(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    await assert_vehicle_by_rvc(desk)
    # Pages of two rows: the stream goes through many of them.
    monkeypatch.setattr(timeline_csv, "PAGE_ROWS", 2)
    path = f"/v1/incidents/{RAID}/timeline"
    response = await desk.get(path, "text/csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["vary"] == "Accept"
    assert "attachment" in response.headers["content-disposition"]
    columns, rows = rows_of(response.text)
    assert columns == list(timeline_csv.COLUMNS)
    assert {"country", "admin1", "admin2", "location", "latitude", "longitude"} <= set(columns)
    assert [row["statement_id"] for row in rows] == await timeline_ids(desk, path)
    # The demo's thirteen on the raid, and the one just recorded.
    assert len(rows) == 14
    first = rows[0]
    assert (first["latitude"], first["longitude"]) == ("51.2725", "34.3033")
    assert (first["country"], first["admin1"], first["admin2"]) == (
        "RU",
        "Kursk Oblast",
        "Glushkovsky District",
    )
    assert (first["location"], first["geo_precision"]) == ("Tyotkino (Tiotkino)", "1")
    assert first["event_date"] == "2024-03-12"
    assert first["source"] == 'Legion "Freedom of Russia"'
    assert first["tags"] == "partisans; border-incursion"
    statuses = {row["claim_id"]: row["status"] for row in rows}
    claims = {c: (await desk.get(f"/v1/claims/{c}")).json()["status"] for c in statuses}
    assert statuses == claims
    svoboda = next(r for r in rows if r["source"] == "Radio Svoboda")
    assert svoboda["evidence_kinds"] == "geolocation"
    assert svoboda["stance"] == "confirms"
    # A quote that is a formula is text, not a formula.
    rvc = next(r for r in rows if r["url"] == "https://t.me/rusvolcorps/1")
    assert rvc["quote"] == "'" + FORMULA
    assert int(rvc["timestamp"]) > 1_700_000_000

    by_format = await desk.get(path, format="csv")
    assert by_format.text == response.text


async def test_a_timeline_as_csv_as_known_at_a_moment(desk: Desk) -> None:
    noon = "2024-03-12T12:00:00Z"
    response = await desk.get("/v1/timeline", "text/csv", known_at=noon)
    _, rows = rows_of(response.text)
    assert [r["statement_id"] for r in rows] == await timeline_ids(
        desk, "/v1/timeline", known_at=noon
    )
    assert len(rows) == 7
    entered = SCENARIO.claim_id("raid", "entered")
    assert {r["status"] for r in rows if r["claim_id"] == str(entered)} == {"disputed"}

    # Once the projector has settled past the day, the day's answers are final, in CSV too.
    async def settled() -> bool:
        as_json = await desk.get("/v1/timeline", known_at=noon)
        return bool(as_json.headers["cache-control"] != "no-cache")

    await eventually(settled, within=10, what="the day's answers settled")
    as_json = await desk.get("/v1/timeline", known_at=noon)
    final = await desk.get("/v1/timeline", "text/csv", known_at=noon)
    assert final.headers["cache-control"] == as_json.headers["cache-control"]
    assert final.headers["cache-control"] == "public, max-age=31536000, immutable"
    # The other time axis: what was published before noon, whenever it was recorded.
    published = await desk.get("/v1/timeline", "text/csv", published_before=noon)
    _, rows = rows_of(published.text)
    # The Siberian Battalion's 10:15 post, recorded at 13:47, is among them.
    assert len(rows) == 8
    assert "Siberian Battalion" in {r["source"] for r in rows}
    assert {r["status"] for r in rows if r["claim_id"] == str(entered)} == {"disputed"}
    everything = await desk.get("/v1/timeline", format="csv", stance="confirms")
    _, rows = rows_of(everything.text)
    assert [r["source"] for r in rows] == ["Radio Svoboda", "Radio Svoboda"]
    # The strikes have no coordinates: the cells are empty.
    strikes = await desk.get("/v1/timeline", format="csv", incident_id=str(STRIKES))
    _, (row,) = rows_of(strikes.text)
    assert (row["latitude"], row["longitude"], row["geo_precision"]) == ("", "", "3")


async def test_a_timeline_as_csv_is_conditional_and_refuses_what_it_cannot_do(
    desk: Desk,
) -> None:
    path = f"/v1/incidents/{RAID}/timeline"
    response = await desk.get(path, "text/csv")
    etag = response.headers["etag"]
    assert etag.startswith('W/"')
    assert len(rows_of(response.text)[1]) == 13
    unchanged = await desk.client.get(path, headers={"Accept": "text/csv", "If-None-Match": etag})
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    # A statement recorded since changes the answer, and its tag.
    await assert_vehicle_by_rvc(desk)
    changed = await desk.get(path, "text/csv")
    assert changed.headers["etag"] != etag
    assert len(rows_of(changed.text)[1]) == 14

    refused = await desk.get(path, "application/xml")
    assert refused.status_code == 406
    assert "text/csv" in refused.json()["detail"]
    paged = await desk.get(path, "text/csv", limit="10")
    assert paged.status_code == 400
    assert paged.json()["field"] == "limit"
    missing = await desk.get(f"/v1/incidents/{VEHICLE}/timeline", "text/csv")
    assert missing.status_code == 404
    assert missing.json()["type"] == "/problems/not-found"
    typo = await desk.get(path, format="xlsx")
    assert typo.status_code == 400
    assert typo.json()["field"] == "format"
