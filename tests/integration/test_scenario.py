"""The Tiotkino scenario end to end over HTTP: status after each step, as known at each step, and
the history of every claim."""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise
from typing import Any

from claimledger.runtime.demo import Scenario, load_scenario
from tests.conftest import Keys
from tests.helpers import Client, created


async def read(client: Client, path: str, position: int, **params: str) -> dict[str, Any]:
    response = await client.get(path, params={"min_position": str(position), **params})
    assert response.status_code == 200, response.text
    assert int(response.headers["x-projection-position"]) >= position
    answer: dict[str, Any] = response.json()
    return answer


async def record_scenario(
    client: Client, keys: Keys, scenario: Scenario
) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Record the scenario step by step; the claim ids by key and each step's receipt."""
    sources = {
        s.key: (
            await created(
                client,
                "/v1/sources",
                {"name": s.name, "kind": s.kind.value, "channels": s.channels},
                keys.editor,
            )
        )["id"]
        for s in scenario.sources
    }
    claims: dict[str, str] = {}
    for incident in scenario.incidents:
        incident_id = (
            await created(client, "/v1/incidents", {"title": incident.title}, keys.editor)
        )["id"]
        for claim in incident.claims:
            claims[claim.key] = (
                await created(
                    client, f"/v1/incidents/{incident_id}/claims", {"text": claim.text}, keys.editor
                )
            )["id"]
    receipts = []
    for step in scenario.steps:
        body: dict[str, Any] = {
            "source_id": sources[step.source],
            "stance": step.stance.value,
            "published_at": step.published_at,
        }
        if step.quote:
            body["quote"] = step.quote
        if step.via:
            body["via_source_id"] = sources[step.via]
        if step.evidence:
            body["evidence"] = [
                {
                    k: v
                    for k, v in {
                        "kind": e.kind,
                        "description": e.description,
                        "lat": e.lat,
                        "lon": e.lon,
                    }.items()
                    if v is not None
                }
                for e in step.evidence
            ]
        receipt = await created(
            client, f"/v1/claims/{claims[step.claim]}/statements", body, keys.editor
        )
        answer = await read(client, f"/v1/claims/{claims[step.claim]}", receipt["position"])
        assert answer["status"] == step.expect, (step, answer)
        receipts.append(receipt)
    return claims, receipts


async def test_the_scenario_step_by_step_then_as_known_at_each_step(
    client: Client, keys: Keys
) -> None:
    scenario = load_scenario()
    claims, receipts = await record_scenario(client, keys, scenario)
    last = receipts[-1]["position"]

    for step, receipt in zip(scenario.steps, receipts, strict=True):
        then = await read(
            client, f"/v1/claims/{claims[step.claim]}", last, known_at=receipt["recorded_at"]
        )
        assert then["status"] == step.expect, (step, then)

    for key, status in scenario.final.items():
        now = await read(client, f"/v1/claims/{claims[key]}", last)
        assert now["status"] == status

    # The history lists exactly the status changes, each with the statement that caused it.
    changes: dict[str, list[tuple[str, str]]] = defaultdict(list)
    current: dict[str, str] = defaultdict(lambda: "unverified")
    for step, receipt in zip(scenario.steps, receipts, strict=True):
        if step.expect != current[step.claim]:
            changes[step.claim].append((step.expect, receipt["id"]))
            current[step.claim] = step.expect
    for key, claim_id in claims.items():
        history = (await read(client, f"/v1/claims/{claim_id}/history", last))["items"]
        assert history[0]["status"] == "unverified"
        assert history[0]["statement_id"] is None
        assert [(h["status"], h["statement_id"]) for h in history[1:]] == changes[key]
        assert history[-1]["recorded_to"] is None
        for earlier, later in pairwise(history):
            assert earlier["recorded_to"] == later["recorded_from"]


async def test_reasons_explain_the_status(client: Client, keys: Keys) -> None:
    scenario = load_scenario()
    claims, receipts = await record_scenario(client, keys, scenario)
    vehicle = await read(client, f"/v1/claims/{claims['vehicle']}", receipts[-1]["position"])
    assert vehicle["status"] == "confirmed"
    confirmation = receipts[11]["id"]
    assert vehicle["deciding_statement_ids"] == [confirmation]
    assert vehicle["reason"] == f"confirmed: geolocation by Radio Svoboda, statement {confirmation}"
    assert vehicle["opposing_statement_ids"] == []
    # The raid's entry was confirmed against the denials of the FSB and the Ministry of Defence:
    # the reason names both sides.
    entered = await read(client, f"/v1/claims/{claims['entered']}", receipts[-1]["position"])
    assert entered["status"] == "confirmed"
    assert entered["deciding_statement_ids"] == [receipts[12]["id"]]
    assert entered["opposing_statement_ids"] == [receipts[7]["id"], receipts[8]["id"]]
    assert entered["reason"] == (
        f"confirmed: geolocation by Radio Svoboda, statement {receipts[12]['id']}; against it:"
        " denied by Federal Security Service of the Russian Federation (FSB),"
        " Ministry of Defence of the Russian Federation"
    )
    history = await read(client, f"/v1/claims/{claims['entered']}/history", 0)
    assert history["items"][-1]["reason"] == entered["reason"]
    assert history["items"][-1]["opposing_statement_ids"] == entered["opposing_statement_ids"]
    control = await read(client, f"/v1/claims/{claims['control']}", receipts[-1]["position"])
    assert control["reason"] == (
        'disputed: asserted by Legion "Freedom of Russia"; '
        "denied by Ministry of Defence of the Russian Federation"
    )
