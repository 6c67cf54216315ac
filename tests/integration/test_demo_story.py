"""The demo as it unfolded: the Tiotkino scenario loaded at the moments the desk learned it, read
as known at three moments of 12 March 2024."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import anyio
from litestar.testing import AsyncTestClient

from claimledger.api.app import create_app
from claimledger.domain.incident import IncidentDraft
from claimledger.runtime.bootstrap import Services
from claimledger.runtime.demo import load_demo, load_scenario
from claimledger.runtime.keys import SYSTEM_KEY_ID
from claimledger.runtime.settings import Settings
from claimledger.store.events import head_position

UNVERIFIED = dict.fromkeys(("control", "vehicle", "fled", "independent"), "unverified")
STORY = [
    # The raid is announced; the overnight explosions are reported.
    ("2024-03-12T07:00:00Z", {"explosions": "claimed", "entered": "claimed", **UNVERIFIED}),
    # The FSB has denied the incursion; the Legion claims Tyotkino, a vehicle, fleeing troops.
    (
        "2024-03-12T12:00:00Z",
        {
            "explosions": "claimed",
            "entered": "disputed",
            "control": "claimed",
            "vehicle": "claimed",
            "fled": "claimed",
            "independent": "unverified",
        },
    ),
    # Evening: the Ministry's denials, Radio Svoboda's geolocations, the HUR's remark.
    ("2024-03-12T18:00:00Z", load_scenario().final),
]


async def statuses(client: Any, head: int, **params: str) -> dict[str, str]:
    scenario = load_scenario()
    found = {}
    for incident in scenario.incidents:
        for claim in incident.claims:
            claim_id = scenario.claim_id(incident.key, claim.key)
            response = await client.get(
                f"/v1/claims/{claim_id}", params={"min_position": str(head), **params}
            )
            assert response.status_code == 200, response.text
            found[claim.key] = response.json()["status"]
    return found


async def test_the_demo_as_known_at_three_moments_of_12_march_2024(
    settings: Settings, services: Services
) -> None:
    writer = services.writer
    loaded = await writer.run(load_demo, writer.ledger, recorded_by=SYSTEM_KEY_ID)
    assert loaded.at_archive_times
    head = await head_position(services.pool)
    async with AsyncTestClient(app=create_app(settings)) as client:
        for moment, expected in STORY:
            assert await statuses(client, head, known_at=moment) == expected, moment
        assert await statuses(client, head) == load_scenario().final


async def test_the_two_time_axes_differ_on_the_demo(settings: Settings, services: Services) -> None:
    writer = services.writer
    await writer.run(load_demo, writer.ledger, recorded_by=SYSTEM_KEY_ID)
    head = await head_position(services.pool)
    scenario = load_scenario()
    fled = scenario.claim_id("raid", "fled")
    noon = "2024-03-12T12:00:00Z"
    async with AsyncTestClient(app=create_app(settings)) as client:

        async def sources(**params: str) -> list[str]:
            response = await client.get(
                "/v1/timeline", params={"claim_id": str(fled), "min_position": str(head), **params}
            )
            assert response.status_code == 200, response.text
            return [item["source_name"] for item in response.json()["items"]]

        # The Siberian Battalion's 10:15 post was found only at 13:47.
        known = await sources(known_at=noon)
        published = await sources(published_before=noon)
        assert known == ['Legion "Freedom of Russia"']
        assert published == ['Legion "Freedom of Russia"', "Siberian Battalion"]
        before = await client.get("/v1/incidents", params={"known_at": "2024-03-12T04:00:00Z"})
        assert before.json()["items"] == []


async def test_the_demo_beside_later_records_is_written_now_and_once(services: Services) -> None:
    ledger = services.writer.ledger
    other = await anyio.to_thread.run_sync(
        lambda: ledger.open_incident(IncidentDraft(title="Another day"), recorded_by=SYSTEM_KEY_ID)
    )
    loaded = await anyio.to_thread.run_sync(lambda: load_demo(ledger, recorded_by=SYSTEM_KEY_ID))
    assert not loaded.at_archive_times
    assert loaded.written == 30
    source: Any = ledger.repository.get(load_scenario().source_id("legion"))
    assert source.created_on >= other.recorded_at
    assert source.created_on > datetime(2025, 1, 1, tzinfo=UTC)
    again = await anyio.to_thread.run_sync(lambda: load_demo(ledger, recorded_by=SYSTEM_KEY_ID))
    assert (again.written, again.already_there) == (0, 30)
