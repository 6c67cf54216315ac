"""Every GET: filters, pagination, known_at, 404s and bad parameters, over the populated ledger."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import anyio
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from claimledger.api.app import create_app
from claimledger.domain.values import Status
from claimledger.projections.queries import listing_plan
from claimledger.runtime.bootstrap import Services
from claimledger.runtime.demo import Scenario, load_scenario
from claimledger.runtime.keys import SYSTEM_KEY_ID
from claimledger.runtime.settings import Settings
from claimledger.store.events import head_position
from tests.ledger_data import populate


@dataclass
class Demo:
    client: AsyncTestClient[Litestar]
    scenario: Scenario
    head: int

    async def get(self, path: str, expect: int = 200, **params: Any) -> Any:
        query = {"min_position": str(self.head), **params}
        response = await self.client.get(path, params=query)
        assert response.status_code == expect, response.text
        if expect >= 400:
            assert response.headers["content-type"].startswith("application/problem+json")
        return response.json()

    async def items(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of a list, following cursors."""
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(100):
            following: dict[str, Any] = {"cursor": cursor} if cursor else {}
            page = await self.get(path, **params, **following)
            items.extend(page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                return items
        raise AssertionError("more than 100 pages")

    async def recorded_at(self, position: int) -> str:
        for item in await self.items("/v1/timeline", limit=200):
            if item["position"] == position:
                return str(item["recorded_at"])
        raise AssertionError(position)


@pytest.fixture
async def demo(settings: Settings, services: Services) -> AsyncIterator[Demo]:
    await anyio.to_thread.run_sync(populate, services.writer.ledger)
    head = await head_position(services.pool)
    async with AsyncTestClient(app=create_app(settings)) as client:
        yield Demo(client, load_scenario(), head)


# -- sources ------------------------------------------------------------------------------------


async def test_sources_list_pages_in_name_order(demo: Demo) -> None:
    everything = await demo.items("/v1/sources", limit=3)
    names = [s["name"] for s in everything]
    assert len(names) == 8
    assert names == sorted(names)
    media = await demo.items("/v1/sources", kind="media")
    assert {s["name"] for s in media} == {"Radio Svoboda", "Local media (unnamed in the report)"}


async def test_source_reliability_now_and_as_known_before_its_rating(demo: Demo) -> None:
    svoboda = demo.scenario.source_id("svoboda")
    now = await demo.get(f"/v1/sources/{svoboda}")
    assert now["reliability"] == "B"
    before_rating = await demo.get(f"/v1/sources/{svoboda}", known_at=now["recorded_at"])
    assert before_rating["reliability"] == "F"
    before_it_existed = "2024-01-01T00:00:00Z"
    await demo.get(f"/v1/sources/{svoboda}", 404, known_at=before_it_existed)


async def test_sources_bad_parameters(demo: Demo) -> None:
    assert (await demo.get("/v1/sources", 400, cursor="garbage"))["field"] == "cursor"
    assert (await demo.get("/v1/sources", 400, known_at="2024-03-12T06:00:00"))["field"] == (
        "known_at"
    )
    assert (await demo.get("/v1/sources", 400, known_at="yesterday"))["field"] == "known_at"
    assert (await demo.get("/v1/sources", 400, limit=0))["status"] == 400
    assert (await demo.get("/v1/sources", 400, limit=201))["status"] == 400
    assert (await demo.get("/v1/sources", 400, kind="oracle"))["status"] == 400
    await demo.get("/v1/sources/00000000-0000-0000-0000-000000000001", 404)


async def test_a_cursor_from_another_list_is_refused(demo: Demo) -> None:
    page = await demo.get("/v1/incidents", limit=1)
    assert page["next_cursor"]
    refused = await demo.get("/v1/sources", 400, cursor=page["next_cursor"])
    assert refused["field"] == "cursor"


# -- incidents ----------------------------------------------------------------------------------


async def test_incidents_list_filters(demo: Demo) -> None:
    raid, strikes = demo.scenario.incident_id("raid"), demo.scenario.incident_id("strikes")
    everything = await demo.items("/v1/incidents", limit=1)
    assert [i["id"] for i in everything] == [str(strikes), str(raid)]
    assert [i["id"] for i in await demo.items("/v1/incidents", tag="drones")] == [str(strikes)]
    assert await demo.items("/v1/incidents", tag=["drones", "partisans"]) == []
    assert len(await demo.items("/v1/incidents", country="RU")) == 2
    assert await demo.items("/v1/incidents", country="UA") == []
    inside = await demo.items("/v1/incidents", bbox="34,51,35,52")
    assert [i["id"] for i in inside] == [str(raid)]
    confirmed = await demo.items("/v1/incidents", status="confirmed")
    assert [i["id"] for i in confirmed] == [str(raid)]
    claimed = await demo.items("/v1/incidents", status=["claimed", "refuted"])
    assert {i["id"] for i in claimed} == {str(raid), str(strikes)}


async def test_incidents_list_as_known_at_a_past_moment(demo: Demo) -> None:
    raid = await demo.get(f"/v1/incidents/{demo.scenario.incident_id('raid')}")
    first_statement = await demo.items("/v1/timeline", limit=200)
    early = min(item["recorded_at"] for item in first_statement)
    then = await demo.items("/v1/incidents", known_at=early, status="claimed")
    # At the first statement only the strikes claim had been asserted.
    assert [i["id"] for i in then] == [str(demo.scenario.incident_id("strikes"))]
    assert await demo.items("/v1/incidents", known_at=early, status="confirmed") == []
    before_anything = await demo.items("/v1/incidents", known_at="2024-01-01T00:00:00Z")
    assert before_anything == []
    headline = {i["id"]: i for i in await demo.items("/v1/incidents")}[raid["id"]]
    assert headline["headline_status"] == "disputed"
    assert headline["claim_count"] == 5
    assert sum(headline["status_counts"].values()) == 5


async def test_incidents_by_status_are_the_same_found_either_way(
    demo: Demo, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded = sorted({item["recorded_at"] for item in await demo.items("/v1/timeline", limit=200)})
    moments = [None, *recorded[:: max(1, len(recorded) // 6)], recorded[-1]]
    statuses = [[status.value] for status in Status] + [["claimed", "refuted"]]

    async def listed(rare: bool) -> list[list[str]]:
        async def chosen(db: Any, asked: Any) -> bool:
            return rare

        lists = []
        with monkeypatch.context() as patched:
            patched.setattr(listing_plan, "rare_status", chosen)
            for moment in moments:
                at = {} if moment is None else {"known_at": moment}
                for status in statuses:
                    found = await demo.items("/v1/incidents", limit=1, status=status, **at)
                    lists.append([i["id"] for i in found])
        return lists

    newest_first, from_rows = await listed(False), await listed(True)
    assert from_rows == newest_first
    assert any(newest_first), "some status lists an incident"
    assert not all(newest_first), "and some none"

    # With statistics, a status without rows is read from its rows, a common one newest first.
    await services.pool.execute("ANALYZE views.claim_history, views.incidents")
    listing_plan.forget()
    assert await listing_plan.rare_status(services.pool, ["retracted"])
    assert not await listing_plan.rare_status(services.pool, ["claimed"])
    assert not await listing_plan.rare_status(services.pool, ["retracted", "claimed"])


async def test_incidents_by_description_then_are_the_same_found_either_way(
    demo: Demo, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    raid = demo.scenario.incident_id("raid")
    before = datetime.now(UTC).isoformat()

    def moved(draft: Any) -> Any:
        place = replace(draft.place, country="UA")
        return replace(draft, place=place, tags=(*draft.tags, "moved"))

    revision = await anyio.to_thread.run_sync(
        lambda: services.writer.ledger.revise_incident(raid, moved, recorded_by=SYSTEM_KEY_ID)
    )
    assert revision.position is not None
    demo.head = revision.position
    after = datetime.now(UTC).isoformat()
    asked = [
        {"country": country, "known_at": at}
        for country in ("RU", "UA", "FR")
        for at in (before, after)
    ] + [
        {"tag": tag, "known_at": at}
        for tag in ("moved", "partisans", "nothing")
        for at in (before, after)
    ]

    async def listed(rare: bool) -> list[list[str]]:
        async def chosen(db: Any, column: str, values: Any) -> bool:
            return rare

        with monkeypatch.context() as patched:
            patched.setattr(listing_plan, "rare_description", chosen)
            return [
                [i["id"] for i in await demo.items("/v1/incidents", limit=1, **q)] for q in asked
            ]

    walked, from_revisions = await listed(False), await listed(True)
    assert from_revisions == walked
    ru_before, ru_after, ua_before, ua_after, *in_fr = walked[:6]
    assert str(raid) in ru_before
    assert str(raid) not in ru_after
    assert ua_before == []
    assert ua_after == [str(raid)]
    assert in_fr == [[], []]
    moved_before, moved_after = walked[6:8]
    assert moved_before == []
    assert moved_after == [str(raid)]

    await services.pool.execute("ANALYZE views.incidents")
    listing_plan.forget()
    # A country no incident has is rare (with two incidents the statistics list none as common).
    assert await listing_plan.rare_description(services.pool, "country", ["FR"])


async def test_incidents_bad_parameters(demo: Demo) -> None:
    assert (await demo.get("/v1/incidents", 400, bbox="1,2,3"))["field"] == "bbox"
    assert (await demo.get("/v1/incidents", 400, bbox="10,0,5,1"))["field"] == "bbox"
    assert (await demo.get("/v1/incidents", 400, status="sort-of"))["status"] == 400
    assert (await demo.get("/v1/incidents", 400, country="Russia"))["status"] == 400


async def test_incident_with_claims_now_and_before_its_revision(demo: Demo) -> None:
    raid_id = demo.scenario.incident_id("raid")
    raid = await demo.get(f"/v1/incidents/{raid_id}")
    assert raid["title"] == "Raid (revised)"
    assert raid["revised_at"] is not None
    assert raid["place"]["name"] == "Tyotkino (Tiotkino)"
    assert {c["text"]: c["status"] for c in raid["claims"]}[
        "A Russian armoured vehicle was destroyed in Tyotkino"
    ] == "confirmed"
    before = await demo.get(f"/v1/incidents/{raid_id}", known_at=raid["claims"][0]["recorded_at"])
    assert before["title"].startswith("Cross-border raid")
    assert before["revised_at"] is None
    assert all(c["status"] == "unverified" for c in before["claims"])
    await demo.get(f"/v1/incidents/{raid_id}", 404, known_at="2024-01-01T00:00:00Z")
    await demo.get("/v1/incidents/00000000-0000-0000-0000-000000000001", 404)
    await demo.get("/v1/incidents/not-a-uuid", 404)


# -- claims and history -------------------------------------------------------------------------


async def test_claim_verdict_now_and_before_it_was_given(demo: Demo) -> None:
    vehicle = demo.scenario.claim_id("raid", "vehicle")
    now = await demo.get(f"/v1/claims/{vehicle}")
    assert now["verdict"] == "true"
    assert now["verdict_rationale"] == "Geolocated"
    before = await demo.get(f"/v1/claims/{vehicle}", known_at=now["recorded_at"])
    assert before["verdict"] is None
    assert before["status"] == "unverified"
    await demo.get(f"/v1/claims/{vehicle}", 404, known_at="2024-01-01T00:00:00Z")
    await demo.get("/v1/claims/00000000-0000-0000-0000-000000000001", 404)
    await demo.get(f"/v1/claims/{vehicle}", 400, published_before="soon")


async def test_history_pages_and_as_known_at(demo: Demo) -> None:
    entered = demo.scenario.claim_id("raid", "entered")
    history = await demo.items(f"/v1/claims/{entered}/history", limit=1)
    assert [h["status"] for h in history] == ["unverified", "claimed", "disputed", "confirmed"]
    while_disputed = history[2]["recorded_from"]
    then = await demo.items(f"/v1/claims/{entered}/history", known_at=while_disputed)
    assert [h["status"] for h in then] == ["unverified", "claimed", "disputed"]
    assert then[-1]["recorded_to"] is None
    await demo.get("/v1/claims/00000000-0000-0000-0000-000000000001/history", 404)
    await demo.get(f"/v1/claims/{entered}/history", 400, cursor="eyJ")


# -- timelines ----------------------------------------------------------------------------------


async def test_incident_timeline_in_publication_order_with_filters(demo: Demo) -> None:
    raid = demo.scenario.incident_id("raid")
    path = f"/v1/incidents/{raid}/timeline"
    items = await demo.items(path, limit=4)
    published = [(i["published_at"], i["position"]) for i in items]
    assert published == sorted(published)
    assert len(items) == 13 + 2  # the raid's steps, the backdated refutation, the mistaken denial
    legion = demo.scenario.source_id("legion")
    by_legion = await demo.items(path, source_id=legion)
    assert {i["source_name"] for i in by_legion} == {'Legion "Freedom of Russia"'}
    assert len(by_legion) == 4
    confirms = await demo.items(path, stance="confirms")
    assert [i["source_name"] for i in confirms] == ["Radio Svoboda"] * 2
    withdrawn = [i for i in items if i["withdrawn_at"]]
    assert len(withdrawn) == 2
    assert len(await demo.items(path, withdrawn="false")) == 13
    await demo.get(f"/v1/incidents/{demo.scenario.claim_id('raid', 'vehicle')}/timeline", 404)
    assert (await demo.get(path, 400, stance="believes"))["status"] == 400


async def test_timeline_across_incidents(demo: Demo) -> None:
    everything = await demo.items("/v1/timeline", limit=7)
    assert len(everything) == 14 + 2
    strikes = await demo.items("/v1/timeline", incident_id=demo.scenario.incident_id("strikes"))
    assert len(strikes) == 1
    vehicle = demo.scenario.claim_id("raid", "vehicle")
    assert len(await demo.items("/v1/timeline", claim_id=vehicle)) == 3
    window = await demo.items(
        "/v1/timeline",
        published_after="2024-03-12T09:00:00Z",
        published_before="2024-03-12T11:00:00Z",
    )
    assert [i["published_at"] for i in window] == [
        "2024-03-12T09:30:00Z",
        "2024-03-12T09:30:00Z",
        "2024-03-12T10:00:00Z",
        "2024-03-12T10:15:00Z",
    ]
    bad = await demo.get(
        "/v1/timeline",
        400,
        published_after="2024-03-12T12:00:00Z",
        published_before="2024-03-12T11:00:00Z",
    )
    assert bad["field"] == "published_after"


async def test_a_known_at_timeline_hides_later_records_and_later_withdrawals(demo: Demo) -> None:
    items = await demo.items("/v1/timeline", limit=200)
    withdrawn = sorted((i for i in items if i["withdrawn_at"]), key=lambda i: i["withdrawn_at"])
    last_withdrawal = withdrawn[-1]
    before_it = last_withdrawal["recorded_at"]
    then = {i["id"]: i for i in await demo.items("/v1/timeline", known_at=before_it)}
    assert then[last_withdrawal["id"]]["withdrawn_at"] is None
    assert all(i["recorded_at"] <= before_it for i in then.values())
    assert len(then) < len(items)
