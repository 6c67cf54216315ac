"""What the ledger learned about an incident between two moments, on the Tiotkino demo: the
statements, withdrawals, verdicts and status changes recorded in a window, in order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from claimledger.api.paging import encode_cursor
from claimledger.runtime.demo import load_scenario
from claimledger.runtime.settings import Settings
from tests.integration.demo_client import Demo, demo_client

SCENARIO = load_scenario()
RAID = SCENARIO.incident_id("raid")
CLAIM_KEYS = {
    str(SCENARIO.claim_id(incident.key, claim.key)): claim.key
    for incident in SCENARIO.incidents
    for claim in incident.claims
}
LEGION = 'Legion "Freedom of Russia"'
FSB = "Federal Security Service of the Russian Federation (FSB)"
MOD = "Ministry of Defence of the Russian Federation"
NOON = "2024-03-12T12:00:00Z"
MORNING = {"from": "2024-03-12T09:00:00Z", "to": "2024-03-12T12:00:00Z"}


@pytest.fixture
async def desk(settings: Settings) -> AsyncIterator[Demo]:
    async with demo_client(settings) as found:
        yield found


@pytest.fixture
def demo(desk: Demo) -> AsyncTestClient[Litestar]:
    return desk.client


async def changes(client: Any, incident: Any = RAID, **params: str) -> dict[str, Any]:
    response = await client.get(f"/v1/incidents/{incident}/changes", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def told(item: dict[str, Any]) -> tuple[Any, ...]:
    """An item in a few words: its kind, its claim and what it says."""
    claim = CLAIM_KEYS.get(item["claim_id"] or "")
    if item["kind"] == "statement_recorded":
        return (item["kind"], claim, item["source_name"], item["stance"])
    if item["kind"] == "status_changed":
        return (item["kind"], claim, item["from"], item["to"])
    if item["kind"] == "statement_withdrawn":
        return (item["kind"], claim, item["source_name"], item["reason"])
    if item["kind"] == "verdict_given":
        return (item["kind"], claim, item["previous_verdict"], item["verdict"], item["reason"])
    return (item["kind"], claim)


async def test_what_we_learned_between_nine_and_noon(demo: AsyncTestClient[Litestar]) -> None:
    body = await changes(demo, **MORNING)
    assert [told(item) for item in body["items"]] == [
        ("statement_recorded", "control", LEGION, "asserts"),
        ("status_changed", "control", "unverified", "claimed"),
        ("statement_recorded", "fled", LEGION, "asserts"),
        ("status_changed", "fled", "unverified", "claimed"),
        ("statement_recorded", "entered", FSB, "denies"),
        ("status_changed", "entered", "claimed", "disputed"),
    ]
    assert body["from"] == "2024-03-12T09:00:00Z"
    assert body["to"] == "2024-03-12T12:00:00Z"
    assert body["next_cursor"] is None
    items = body["items"]
    # A status change follows the statement that caused it, at its position, and says why.
    for statement, change in zip(items[::2], items[1::2], strict=True):
        assert change["position"] == statement["position"]
        assert change["statement_id"] == statement["statement_id"]
        assert change["recorded_at"] == statement["recorded_at"]
        assert statement["statement_id"] in change["deciding_statement_ids"]
    assert items[5]["reason"].startswith("disputed: asserted by Legion")
    assert [i["recorded_at"] for i in items[::2]] == [
        "2024-03-12T09:41:00Z",
        "2024-03-12T09:44:00Z",
        "2024-03-12T11:08:00Z",
    ]
    assert items[0]["quote"].startswith("Tiotkino in the Kursk region is under full control")
    assert items[0]["published_at"] == "2024-03-12T09:30:00Z"


async def test_the_window_is_open_at_from_and_closed_at_to(
    demo: AsyncTestClient[Litestar],
) -> None:
    # The FSB's denial was recorded at 11:08 exactly.
    at = "2024-03-12T11:08:00Z"
    up_to = await changes(demo, **{"from": "2024-03-12T11:00:00Z", "to": at})
    after = await changes(demo, **{"from": at, "to": "2024-03-12T11:30:00+00:00"})
    assert [told(i)[:2] for i in up_to["items"]] == [
        ("statement_recorded", "entered"),
        ("status_changed", "entered"),
    ]
    assert after["items"] == []


async def test_empty_windows(demo: AsyncTestClient[Litestar]) -> None:
    for window in (
        # Nothing was recorded between 12:15 and the Siberian Battalion's post found at 13:47.
        {"from": "2024-03-12T12:20:00Z", "to": "2024-03-12T13:40:00Z"},
        # A window of no time.
        {"from": "2024-03-12T10:00:00Z", "to": "2024-03-12T10:00:00Z"},
        # The other incident learned something at 04:12, this one nothing.
        {"from": "2024-03-12T04:10:00Z", "to": "2024-03-12T04:15:00Z"},
    ):
        body = await changes(demo, **window)
        assert body["items"] == [], window
        assert body["next_cursor"] is None
    strikes = await changes(
        demo, SCENARIO.incident_id("strikes"), **{"from": "2024-03-12T04:10:00Z"}
    )
    assert [told(i)[:2] for i in strikes["items"]] == [
        ("statement_recorded", "explosions"),
        ("status_changed", "explosions"),
    ]


async def test_the_whole_day_from_the_opening_in_pages(demo: AsyncTestClient[Litestar]) -> None:
    day = {"from": "2024-03-12T00:00:00Z", "to": "2024-03-12T23:59:59Z"}
    whole = (await changes(demo, **day, limit="200"))["items"]
    assert [told(i) for i in whole[:6]] == [
        ("incident_opened", None),
        ("claim_added", "entered"),
        ("claim_added", "control"),
        ("claim_added", "vehicle"),
        ("claim_added", "fled"),
        ("claim_added", "independent"),
    ]
    assert whole[0]["title"].startswith("Cross-border raid")
    kinds = [i["kind"] for i in whole]
    # Thirteen statements on the raid; status changes only where the status changed.
    assert kinds.count("statement_recorded") == 13
    assert kinds.count("status_changed") == 10
    keys = [(i["position"], i["kind"] == "status_changed") for i in whole]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    # Siberian Battalion's post of 10:15 was recorded at 13:47: it comes in order of recording,
    # after the Ministry's of noon.
    said = [(told(i)[1:3], i["published_at"]) for i in whole if i["kind"] == "statement_recorded"]
    late = said.index((("fled", "Siberian Battalion"), "2024-03-12T10:15:00Z"))
    assert said[late - 1] == (("fled", MOD), NOON)
    paged: list[dict[str, Any]] = []
    cursor = None
    for _ in range(20):
        params = {**day, "limit": "5", **({"cursor": cursor} if cursor else {})}
        page = await changes(demo, **params)
        paged += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert paged == whole


async def test_a_past_window_is_cached_for_good_and_answers_304(
    demo: AsyncTestClient[Litestar],
) -> None:
    response = await demo.get(f"/v1/incidents/{RAID}/changes", params=MORNING)
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert int(response.headers["x-projection-position"]) > 0
    again = await demo.get(
        f"/v1/incidents/{RAID}/changes",
        params=MORNING,
        headers={"If-None-Match": response.headers["etag"]},
    )
    assert again.status_code == 304
    up_to_now = await demo.get(
        f"/v1/incidents/{RAID}/changes", params={"from": "2024-03-12T09:00:00Z"}
    )
    assert up_to_now.headers["cache-control"] == "no-cache"
    assert up_to_now.json()["to"] is None


async def test_withdrawals_verdicts_and_new_statements_written_now(
    demo: AsyncTestClient[Litestar], desk: Demo
) -> None:
    vehicle = SCENARIO.claim_id("raid", "vehicle")
    before = await changes(demo, **{"from": "2024-03-12T18:00:00Z"})
    assert before["items"] == []
    confirmed = [
        i
        for i in (await changes(demo, **{"from": "2024-03-12T15:00:00Z"}))["items"]
        if i["kind"] == "statement_recorded" and CLAIM_KEYS[i["claim_id"]] == "vehicle"
    ]
    (svoboda,) = confirmed
    withdrawn = await desk.write(
        f"/v1/statements/{svoboda['statement_id']}/withdrawal",
        {"reason": "the geolocation was of another village"},
    )
    first = await desk.write(
        f"/v1/claims/{vehicle}/verdicts", {"verdict": "unproven", "rationale": "No"}
    )
    second = await desk.write(
        f"/v1/claims/{vehicle}/verdicts",
        {"verdict": "mostly_true", "rationale": "A second video shows it."},
    )
    said = await desk.write(
        f"/v1/claims/{vehicle}/statements",
        {
            "source_id": str(SCENARIO.source_id("mod")),
            "stance": "denies",
            "published_at": "2024-03-12T19:00:00Z",
            "quote": "No vehicle was lost.",
        },
    )
    body = await changes(
        demo, **{"from": "2024-03-12T18:00:00Z", "min_position": str(said["position"])}
    )
    assert [told(i) for i in body["items"]] == [
        (
            "statement_withdrawn",
            "vehicle",
            "Radio Svoboda",
            "the geolocation was of another village",
        ),
        ("status_changed", "vehicle", "confirmed", "claimed"),
        ("verdict_given", "vehicle", None, "unproven", "No"),
        ("verdict_given", "vehicle", "unproven", "mostly_true", "A second video shows it."),
        ("statement_recorded", "vehicle", MOD, "denies"),
        ("status_changed", "vehicle", "claimed", "disputed"),
    ]
    positions = [i["position"] for i in body["items"]]
    assert positions == [
        withdrawn["position"],
        withdrawn["position"],
        first["position"],
        second["position"],
        said["position"],
        said["position"],
    ]
    assert body["items"][0]["recorded_at"] == withdrawn["recorded_at"]
    # Up to the first verdict's moment, inclusive: the withdrawal and the first verdict.
    upto = await changes(demo, **{"from": "2024-03-12T18:00:00Z", "to": first["recorded_at"]})
    assert [i["kind"] for i in upto["items"]] == [
        "statement_withdrawn",
        "status_changed",
        "verdict_given",
    ]
    # From the withdrawal's moment, exclusive: it is left out, and so is its status change.
    since = await changes(demo, **{"from": withdrawn["recorded_at"]})
    assert [i["kind"] for i in since["items"]][:1] == ["verdict_given"]
    # The morning's window is as it was: later withdrawals do not reach back into it.
    morning = await changes(demo, **MORNING)
    assert len(morning["items"]) == 6
    assert told(morning["items"][0]) == ("statement_recorded", "control", LEGION, "asserts")


async def test_an_incident_revision_says_what_it_changed(
    demo: AsyncTestClient[Litestar], desk: Demo
) -> None:
    response = await demo.patch(
        f"/v1/incidents/{RAID}",
        json={"summary": "Fighting in and around Tyotkino through the day.", "tags": ["kursk"]},
        headers=desk.editor,
    )
    assert response.status_code == 200, response.text
    position = response.json()["position"]
    body = await changes(demo, **{"from": "2024-03-13T00:00:00Z", "min_position": str(position)})
    (revised,) = body["items"]
    assert revised["kind"] == "incident_revised"
    assert revised["changed"] == ["summary", "tags"]
    assert revised["summary"] == "Fighting in and around Tyotkino through the day."
    assert revised["position"] == position


BAD = [
    ({}, "from"),
    ({"from": "yesterday"}, "from"),
    ({"from": "2024-03-12T09:00:00"}, "from"),
    ({"from": "2024-03-12T09:00:00Z", "to": "2024-03-12T12:00:00"}, "to"),
    ({"from": "2024-03-12T09:00:00Z", "to": "noon"}, "to"),
    ({"from": "2024-03-12T12:00:00Z", "to": "2024-03-12T09:00:00Z"}, "from"),
    ({"from": "2300-01-01T00:00:00Z"}, "from"),
    ({"from": "2024-03-12T09:00:00Z", "known_at": "2024-03-12T12:00:00Z"}, "known_at"),
    ({"from": "2024-03-12T09:00:00Z", "cursor": "bm90LWEtY3Vyc29y"}, "cursor"),
    ({"from": "2024-03-12T09:00:00Z", "limit": "0"}, "limit"),
    ({"from": "2024-03-12T09:00:00Z", "limit": "many"}, "limit"),
    ({"from": "2024-03-12T09:00:00Z", "min_position": "-1"}, "min_position"),
    ({"from": "2024-03-12T09:00:00Z", "from_": "x"}, "from_"),
]


async def test_bad_input_is_a_problem_naming_the_parameter(
    demo: AsyncTestClient[Litestar],
) -> None:
    timeline = await demo.get(f"/v1/incidents/{RAID}/timeline", params={"limit": "200"})
    cursor = timeline.json()["next_cursor"] or "eyJ0aW1lbGluZSJd"
    for params, field in [*BAD, ({"from": "2024-03-12T09:00:00Z", "cursor": cursor}, "cursor")]:
        response = await demo.get(f"/v1/incidents/{RAID}/changes", params=params)
        assert response.status_code == 400, (params, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["field"] == field, (params, response.json())


async def test_a_forged_cursor_past_every_change_answers_an_empty_page(
    demo: AsyncTestClient[Litestar],
) -> None:
    for values in ((2**63 - 1, 2**63 - 1), (-(2**63), -(2**63))):
        cursor = encode_cursor("changes", *values)
        body = await changes(demo, **MORNING, cursor=cursor)
        assert len(body["items"]) == (0 if values[0] > 0 else 6)


async def test_an_incident_unknown_or_not_yet_known_at_to_is_a_404(
    demo: AsyncTestClient[Litestar],
) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"
    for incident, params in (
        (unknown, {"from": "2024-03-12T09:00:00Z"}),
        # The raid was opened at 04:05.
        (RAID, {"from": "2024-03-12T03:00:00Z", "to": "2024-03-12T04:00:00Z"}),
    ):
        response = await demo.get(f"/v1/incidents/{incident}/changes", params=params)
        assert response.status_code == 404, response.text
        assert response.json()["type"] == "/problems/not-found"
    malformed = await demo.get("/v1/incidents/not-an-id/changes", params={"from": "2024-03-12"})
    assert malformed.status_code in (400, 404)


async def test_both_reads_need_a_key_when_reads_are_not_public(settings: Settings) -> None:
    async with demo_client(replace(settings, public_read=False)) as private:
        legion = SCENARIO.source_id("legion")
        for path, params in (
            (f"/v1/incidents/{RAID}/changes", MORNING),
            (f"/v1/sources/{legion}/record", {"known_at": "2024-03-12T12:00:00Z"}),
        ):
            refused = await private.client.get(path, params=params)
            assert refused.status_code == 401, refused.text
            answered = await private.client.get(path, params=params, headers=private.editor)
            assert answered.status_code == 200, answered.text
            assert answered.headers["cache-control"] == "private, max-age=31536000, immutable"
