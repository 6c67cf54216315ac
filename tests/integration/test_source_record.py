"""A source's track record on the Tiotkino demo, counted by hand: what became of the claims it
asserted or denied, and how independent sources later judged them, now and as known at T."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from claimledger.runtime.demo import load_scenario
from claimledger.runtime.settings import Settings
from tests.integration.demo_client import Demo, demo_client

SCENARIO = load_scenario()
STATUSES = (
    "unverified",
    "claimed",
    "denied",
    "disputed",
    "confirmed",
    "refuted",
    "contested",
    "retracted",
)
# Before anything was written after the demo's day.
BEFORE_TODAY = "2025-01-01T00:00:00Z"


@pytest.fixture
async def desk(settings: Settings) -> AsyncIterator[Demo]:
    async with demo_client(settings) as found:
        yield found


async def record(desk: Demo, source: str, **params: str) -> dict[str, Any]:
    response = await desk.client.get(
        f"/v1/sources/{SCENARIO.source_id(source)}/record", params=params
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def statuses(**counts: int) -> dict[str, int]:
    return {status: counts.get(status, 0) for status in STATUSES}


def side(claims: int, confirmed: int, refuted: int, retracted: int = 0) -> dict[str, Any]:
    return {
        "claims": claims,
        "retracted_by_source": retracted,
        "confirmed": confirmed,
        "refuted": refuted,
        "confirmed_share": confirmed / claims if claims else None,
        "refuted_share": refuted / claims if claims else None,
    }


def stances(**counts: int) -> dict[str, int]:
    return {s: counts.get(s, 0) for s in ("asserts", "denies", "confirms", "refutes", "retracts")}


async def test_the_legion_s_record_at_the_end_of_the_day_and_at_noon(desk: Demo) -> None:
    # It asserted four claims: the crossing, control of Tyotkino, the vehicle, the fleeing
    # troops. Radio Svoboda (independent media) later geolocated the crossing and the vehicle.
    now = await record(desk, "legion")
    assert now["source"]["name"] == 'Legion "Freedom of Russia"'
    assert now["known_at"] is None
    assert now["stances"] == stances(asserts=4)
    assert now["claims"] == 4
    assert now["by_status"] == statuses(confirmed=2, disputed=2)
    assert now["asserted"] == side(4, confirmed=2, refuted=0)
    assert now["asserted"]["confirmed_share"] == 0.5
    assert now["denied"] == side(0, 0, 0)
    assert now["reliability_history"] == [
        {
            "reliability": "F",
            "reliability_label": "cannot be judged",
            "rationale": None,
            "recorded_at": "2024-03-12T04:02:00Z",
            "position": now["source"]["position"],
        }
    ]
    # At noon: the FSB had denied the crossing; nothing was confirmed yet.
    noon = await record(desk, "legion", known_at="2024-03-12T12:00:00Z")
    assert noon["known_at"] == "2024-03-12T12:00:00Z"
    assert noon["claims"] == 4
    assert noon["by_status"] == statuses(claimed=3, disputed=1)
    assert noon["asserted"] == side(4, confirmed=0, refuted=0)
    # At seven, it had announced the crossing alone.
    early = await record(desk, "legion", known_at="2024-03-12T07:00:00+00:00")
    assert early["stances"] == stances(asserts=1)
    assert early["by_status"] == statuses(claimed=1)


async def test_the_deniers_records(desk: Demo) -> None:
    # The Ministry denied the crossing, control and the fleeing troops; only the crossing was
    # confirmed (by Radio Svoboda at 15:00, after the Ministry's denial at noon).
    mod = await record(desk, "mod")
    assert mod["stances"] == stances(denies=3)
    assert mod["by_status"] == statuses(confirmed=1, disputed=2)
    assert mod["denied"] == side(3, confirmed=1, refuted=0)
    assert mod["asserted"] == side(0, 0, 0)
    fsb = await record(desk, "fsb")
    assert fsb["denied"] == side(1, confirmed=1, refuted=0)
    assert fsb["denied"]["confirmed_share"] == 1.0


async def test_a_verifier_and_a_relayed_source(desk: Demo) -> None:
    # Radio Svoboda confirmed two claims and asserted or denied none: nothing to weigh.
    svoboda = await record(desk, "svoboda")
    assert svoboda["stances"] == stances(confirms=2)
    assert svoboda["claims"] == 0
    assert svoboda["by_status"] == statuses()
    assert svoboda["asserted"]["confirmed_share"] is None
    # The HUR's remark came relayed via Radio Svoboda: it is on the HUR's record.
    hur = await record(desk, "hur")
    assert hur["stances"] == stances(asserts=1)
    assert hur["by_status"] == statuses(claimed=1)


async def statement(desk: Demo, claim: str, source: Any, stance: str, at: str, **more: Any) -> Any:
    return await desk.write(
        f"/v1/claims/{SCENARIO.claim_id('raid', claim)}/statements",
        {"source_id": str(source), "stance": stance, "published_at": at, **more},
    )


async def test_only_independent_later_verification_counts(desk: Demo) -> None:
    legion = SCENARIO.source_id("legion")
    cit = (
        await desk.write(
            "/v1/sources",
            {"name": "Conflict Intelligence Team", "kind": "osint", "affiliation": "CIT"},
        )
    )["id"]
    aggregator = (await desk.write("/v1/sources", {"name": "Border news", "kind": "media"}))["id"]
    # Same affiliation as the Legion: not independent of it.
    await statement(
        desk, "control", SCENARIO.source_id("siberian"), "confirms", "2024-03-12T17:00:00Z"
    )
    # Relayed via the Legion: not independent of it.
    await statement(
        desk, "fled", aggregator, "confirms", "2024-03-12T17:00:00Z", via_source_id=str(legion)
    )
    # Independent and later than the Legion's word: counts.
    await statement(desk, "control", cit, "refutes", "2024-03-12T17:30:00Z")
    # Independent but published before the Legion spoke (06:10): does not count.
    await statement(desk, "entered", cit, "refutes", "2024-03-12T06:00:00Z")
    # The Legion takes back what it said of the fleeing troops, and its vehicle claim was
    # recorded in error.
    await statement(desk, "fled", legion, "retracts", "2024-03-12T18:00:00Z")
    timeline = await desk.client.get(
        "/v1/timeline",
        params={"source_id": str(legion), "claim_id": str(SCENARIO.claim_id("raid", "vehicle"))},
    )
    (vehicle,) = timeline.json()["items"]
    last = await desk.write(
        f"/v1/statements/{vehicle['id']}/withdrawal", {"reason": "another unit's post"}
    )
    rated = await desk.write(
        f"/v1/sources/{legion}/ratings",
        {"reliability": "C", "rationale": "Ground held is often overstated."},
        role="admin",
    )
    now = await record(desk, "legion", min_position=str(max(last["position"], rated["position"])))
    # Left: the crossing (contested: Svoboda confirms, CIT refutes), control (contested: the
    # Siberian Battalion confirms, CIT refutes), the fleeing troops (retracted by the Legion;
    # confirmed by the relayed post).
    assert now["stances"] == stances(asserts=3, retracts=1)
    assert now["claims"] == 3
    assert now["by_status"] == statuses(contested=2, confirmed=1)
    assert now["asserted"] == side(3, confirmed=1, refuted=1, retracted=1)
    assert [r["reliability"] for r in now["reliability_history"]] == ["F", "C"]
    assert now["reliability_history"][1]["rationale"] == "Ground held is often overstated."
    assert now["reliability_history"][1]["position"] == rated["position"]
    assert now["source"]["reliability"] == "C"
    # As known before any of it: the demo's record, with the grade of then.
    before = await record(desk, "legion", known_at=BEFORE_TODAY)
    assert before["asserted"] == side(4, confirmed=2, refuted=0)
    assert before["by_status"] == statuses(confirmed=2, disputed=2)
    assert [r["reliability"] for r in before["reliability_history"]] == ["F"]
    assert before["source"]["reliability"] == "F"
    # For the Ministry (Russian state), who denied all three at noon, the Siberian Battalion and
    # the relaying aggregator are independent: all three were confirmed after its denial; the
    # CIT refuted control after it, and the crossing only before it.
    mod = await record(desk, "mod")
    assert mod["denied"] == side(3, confirmed=3, refuted=1)


async def test_a_past_record_is_cached_for_good(desk: Demo) -> None:
    path = f"/v1/sources/{SCENARIO.source_id('legion')}/record"
    response = await desk.client.get(path, params={"known_at": "2024-03-12T12:00:00Z"})
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    again = await desk.client.get(
        path,
        params={"known_at": "2024-03-12T12:00:00Z"},
        headers={"If-None-Match": response.headers["etag"]},
    )
    assert again.status_code == 304
    assert (await desk.client.get(path)).headers["cache-control"] == "no-cache"


async def test_bad_input_and_unknown_sources(desk: Demo) -> None:
    legion = SCENARIO.source_id("legion")
    for params, field in (
        ({"known_at": "2024-03-12T12:00:00"}, "known_at"),
        ({"known_at": "noon"}, "known_at"),
        ({"known_at": "1800-01-01T00:00:00Z"}, "known_at"),
        ({"published_before": "2024-03-12T12:00:00Z"}, "published_before"),
        ({"min_position": "x"}, "min_position"),
    ):
        response = await desk.client.get(f"/v1/sources/{legion}/record", params=params)
        assert response.status_code == 400, (params, response.text)
        assert response.json()["field"] == field, (params, response.json())
    for source, params in (
        ("00000000-0000-4000-8000-000000000000", {}),
        # The sources were registered at 04:02.
        (str(legion), {"known_at": "2024-03-12T04:00:00Z"}),
    ):
        response = await desk.client.get(f"/v1/sources/{source}/record", params=params)
        assert response.status_code == 404, response.text
        assert response.json()["type"] == "/problems/not-found"
