"""Answers a person reads right: grades with their words, reasons that name both sides, timeline
items with their claim's text and source's name, and a claim whose statements were withdrawn."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from claimledger.projections.schema import OPPOSING_REASONS
from claimledger.store.db import Connection
from tests.conftest import Keys
from tests.helpers import Client, claim, created, eventually, incident, iso, source, statement

pytestmark = pytest.mark.anyio


async def get(client: Client, path: str, position: int, **params: str) -> dict[str, Any]:
    response = await client.get(path, params={"min_position": str(position), **params})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def just_before(receipt: dict[str, Any]) -> str:
    return iso(datetime.fromisoformat(receipt["recorded_at"]) - timedelta(microseconds=1))


async def test_a_sources_reliability_carries_its_admiralty_words(
    client: Client, keys: Keys
) -> None:
    source_id = await source(client, keys.editor, "Radio Svoboda")
    rating = await created(
        client, f"/v1/sources/{source_id}/ratings", {"reliability": "B"}, keys.admin
    )
    now = await get(client, f"/v1/sources/{source_id}", rating["position"])
    assert (now["reliability"], now["reliability_label"]) == ("B", "usually reliable")
    before = await get(
        client, f"/v1/sources/{source_id}", rating["position"], known_at=just_before(rating)
    )
    assert (before["reliability"], before["reliability_label"]) == ("F", "cannot be judged")
    listed = await get(client, "/v1/sources", rating["position"])
    assert [(s["reliability"], s["reliability_label"]) for s in listed["items"]] == [
        ("B", "usually reliable")
    ]


async def test_timeline_items_carry_the_claims_text_the_sources_name_and_credibility_words(
    client: Client, keys: Keys, db: Connection
) -> None:
    fsb = await source(client, keys.editor, "FSB", kind="security_service")
    svoboda = await source(client, keys.editor, "Radio Svoboda")
    incident_id = await incident(client, keys.editor)
    entered = await claim(client, keys.editor, incident_id, "Fighters entered Tyotkino")
    vehicle = await claim(client, keys.editor, incident_id, "A vehicle was destroyed")
    denial = await statement(client, keys.editor, entered, fsb, "denies", credibility=4)
    confirmation = await statement(client, keys.editor, vehicle, svoboda, "confirms")
    last = confirmation["position"]
    items = (await get(client, f"/v1/incidents/{incident_id}/timeline", last))["items"]
    shown = {
        item["id"]: (
            item["claim_text"],
            item["source_name"],
            item["credibility"],
            item["credibility_label"],
        )
        for item in items
    }
    assert shown == {
        denial["id"]: ("Fighters entered Tyotkino", "FSB", 4, "doubtful"),
        confirmation["id"]: ("A vehicle was destroyed", "Radio Svoboda", None, None),
    }
    # As known before the confirmation was recorded: the denial alone, with its claim and source.
    then = await get(client, "/v1/timeline", last, known_at=just_before(confirmation))
    assert [(i["id"], i["claim_text"], i["source_name"]) for i in then["items"]] == [
        (denial["id"], "Fighters entered Tyotkino", "FSB")
    ]
    # The statement as the live stream and webhooks carry it has the same words.
    payload = await _outbox_payload(db, "statement.recorded", denial["position"])
    assert (payload["credibility"], payload["credibility_label"]) == (4, "doubtful")


async def _outbox_payload(db: Connection, kind: str, position: int) -> dict[str, Any]:
    """The entry the live stream and webhooks send for the event at ``position``."""
    text = await db.fetchval(
        "SELECT payload::text FROM views.outbox WHERE type = $1 AND position = $2",
        kind,
        position,
    )
    assert text is not None, (kind, position)
    payload: dict[str, Any] = json.loads(text)
    return payload


async def test_a_confirmed_claims_reason_names_the_denials_against_it(
    client: Client, keys: Keys, db: Connection
) -> None:
    legion = await source(client, keys.editor, "Legion", kind="armed_group")
    fsb = await source(client, keys.editor, "FSB", kind="security_service")
    mod = await source(client, keys.editor, "Ministry of Defence", kind="military")
    svoboda = await source(client, keys.editor, "Radio Svoboda")
    claim_id = await claim(client, keys.editor, await incident(client, keys.editor))
    await statement(client, keys.editor, claim_id, legion, "asserts")
    denials = [
        await statement(client, keys.editor, claim_id, fsb, "denies"),
        await statement(client, keys.editor, claim_id, mod, "denies"),
    ]
    confirmation = await statement(
        client, keys.editor, claim_id, svoboda, "confirms", evidence=[{"kind": "geolocation"}]
    )
    last = confirmation["position"]
    expected = (
        f"confirmed: geolocation by Radio Svoboda, statement {confirmation['id']};"
        " against it: denied by FSB, Ministry of Defence"
    )
    opposing = [d["id"] for d in denials]
    now = await get(client, f"/v1/claims/{claim_id}", last)
    assert (now["status"], now["reason"]) == ("confirmed", expected)
    assert now["deciding_statement_ids"] == [confirmation["id"]]
    assert now["opposing_statement_ids"] == opposing
    # The as-of read derives the same reason again from the statements.
    then = await get(client, f"/v1/claims/{claim_id}", last, known_at=confirmation["recorded_at"])
    assert (then["reason"], then["opposing_statement_ids"]) == (expected, opposing)
    history = (await get(client, f"/v1/claims/{claim_id}/history", last))["items"]
    assert (history[-1]["reason"], history[-1]["opposing_statement_ids"]) == (expected, opposing)
    assert [h["opposing_statement_ids"] for h in history[:-1]] == [[]] * (len(history) - 1)
    payload = await _outbox_payload(db, "claim.status_changed", last)
    assert payload["reasons"] == {
        "text": expected,
        "statement_ids": [confirmation["id"]],
        "opposing_statement_ids": opposing,
    }


async def test_a_claim_whose_statements_were_all_withdrawn_says_so(
    client: Client, keys: Keys
) -> None:
    source_id = await source(client, keys.editor)
    incident_id = await incident(client, keys.editor)
    added = await created(client, f"/v1/incidents/{incident_id}/claims", {"text": "x"}, keys.editor)
    claim_id = added["id"]
    fresh = await get(client, f"/v1/claims/{claim_id}", added["position"])
    assert fresh["reason"] == "unverified: no statement on this claim yet"
    said = [
        await statement(client, keys.editor, claim_id, source_id, "asserts"),
        await statement(client, keys.editor, claim_id, source_id, "denies"),
    ]
    withdrawals = [
        await created(
            client, f"/v1/statements/{s['id']}/withdrawal", {"reason": "wrong claim"}, keys.editor
        )
        for s in said
    ]
    last = withdrawals[-1]["position"]
    withdrawn = "unverified: every statement on this claim was withdrawn"
    now = await get(client, f"/v1/claims/{claim_id}", last)
    assert (now["status"], now["reason"]) == ("unverified", withdrawn)
    path = f"/v1/claims/{claim_id}"
    then = await get(client, path, last, known_at=withdrawals[-1]["recorded_at"])
    assert (then["status"], then["reason"]) == ("unverified", withdrawn)
    before = await get(client, path, last, known_at=just_before(withdrawals[-1]))
    assert before["status"] == "denied"
    history = (await get(client, f"/v1/claims/{claim_id}/history", last))["items"]
    assert (history[0]["status"], history[0]["reason"]) == (
        "unverified",
        "unverified: no statement on this claim yet",
    )
    assert (history[-1]["status"], history[-1]["reason"]) == ("unverified", withdrawn)
    listed = await get(client, f"/v1/incidents/{incident_id}", last)
    assert [c["reason"] for c in listed["claims"]] == [withdrawn]


async def test_views_kept_before_reasons_named_both_sides_are_derived_again(
    client: Client, keys: Keys, db: Connection
) -> None:
    fsb = await source(client, keys.editor, "FSB", kind="security_service")
    svoboda = await source(client, keys.editor, "Radio Svoboda")
    claim_id = await claim(client, keys.editor, await incident(client, keys.editor))
    await statement(client, keys.editor, claim_id, fsb, "denies")
    last = (await statement(client, keys.editor, claim_id, svoboda, "confirms"))["position"]
    expected = await get(client, f"/v1/claims/{claim_id}", last)
    # A reason as an older version stored it, then the migration that names both sides.
    await db.execute(
        "UPDATE views.claims SET reason = 'confirmed: confirmed by Radio Svoboda' WHERE id = $1",
        expected["id"],
    )
    await db.execute(OPPOSING_REASONS)

    async def rebuilt() -> bool:
        response = await client.get(f"/v1/claims/{claim_id}")
        return response.status_code == 200 and response.json() == expected

    await eventually(rebuilt, what="the views derived again with both sides in the reason")
    assert "against it: denied by FSB" in expected["reason"]
