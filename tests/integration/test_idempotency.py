"""Idempotency-Key on every creating POST: a retry finds the first result (and writes nothing),
a reused key with another body is 422, and concurrent retries make one resource."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import asyncpg
import pytest

from tests.conftest import Keys
from tests.helpers import Client, an_hour_ago, claim, event_count, incident, source, statement

# Marked here, not only by the conftest after collection: anyio's plugin would otherwise replace
# the parametrization of the tests below with its own.
pytestmark = pytest.mark.anyio


async def test_retry_with_the_same_key_gives_one_statement(
    client: Client, keys: Keys, database_url: str
) -> None:
    claim_id = await claim(client, keys.editor, await incident(client, keys.editor))
    body = {
        "source_id": await source(client, keys.editor),
        "stance": "asserts",
        "published_at": an_hour_ago(),
    }
    headers = {**keys.header("editor"), "Idempotency-Key": "retry-me-1"}
    path = f"/v1/claims/{claim_id}/statements"
    first = await client.post(path, json=body, headers=headers)
    second = await client.post(path, json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert "idempotent-replayed" not in first.headers
    assert second.headers["idempotent-replayed"] == "true"
    assert await event_count(database_url, first.json()["id"]) == 1


async def test_same_key_with_another_body_is_422(client: Client, keys: Keys) -> None:
    claim_id = await claim(client, keys.editor, await incident(client, keys.editor))
    speaker = await source(client, keys.editor)
    headers = {**keys.header("editor"), "Idempotency-Key": "reused-key"}
    path = f"/v1/claims/{claim_id}/statements"
    body = {"source_id": speaker, "stance": "asserts", "published_at": an_hour_ago()}
    assert (await client.post(path, json=body, headers=headers)).status_code == 201
    changed = await client.post(path, json={**body, "stance": "denies"}, headers=headers)
    assert changed.status_code == 422
    assert changed.json()["type"] == "/problems/idempotency-key-reused"
    assert changed.json()["field"] == "Idempotency-Key"
    other_claim = await claim(client, keys.editor, await incident(client, keys.editor))
    elsewhere = await client.post(
        f"/v1/claims/{other_claim}/statements", json=body, headers=headers
    )
    assert elsewhere.status_code == 422


async def test_concurrent_retries_write_once(client: Client, keys: Keys, database_url: str) -> None:
    claim_id = await claim(client, keys.editor, await incident(client, keys.editor))
    body = {
        "source_id": await source(client, keys.editor),
        "stance": "denies",
        "published_at": an_hour_ago(),
    }
    headers = {**keys.header("editor"), "Idempotency-Key": "racing-key"}
    answers: list[dict[str, object]] = []

    async def attempt() -> None:
        response = await client.post(
            f"/v1/claims/{claim_id}/statements", json=body, headers=headers
        )
        assert response.status_code == 201, response.text
        answers.append(response.json())

    with anyio.fail_after(30):
        async with anyio.create_task_group() as group:
            for _ in range(8):
                group.start_soon(attempt)
    assert len(answers) == 8
    assert all(answer == answers[0] for answer in answers)
    assert await event_count(database_url, str(answers[0]["id"])) == 1


# Every other creating POST: (setup, body, another body, role). ``setup`` makes what the request
# needs and answers its path.
Setup = Callable[[Client, Keys], Awaitable[str]]


async def _sources(client: Client, keys: Keys) -> str:
    return "/v1/sources"


async def _ratings(client: Client, keys: Keys) -> str:
    return f"/v1/sources/{await source(client, keys.editor)}/ratings"


async def _incidents(client: Client, keys: Keys) -> str:
    return "/v1/incidents"


async def _claims(client: Client, keys: Keys) -> str:
    return f"/v1/incidents/{await incident(client, keys.editor)}/claims"


async def _verdicts(client: Client, keys: Keys) -> str:
    claim_id = await claim(client, keys.editor, await incident(client, keys.editor))
    return f"/v1/claims/{claim_id}/verdicts"


async def _withdrawals(client: Client, keys: Keys) -> str:
    claim_id = await claim(client, keys.editor, await incident(client, keys.editor))
    written = await statement(client, keys.editor, claim_id, await source(client, keys.editor))
    return f"/v1/statements/{written['id']}/withdrawal"


async def _webhooks(client: Client, keys: Keys) -> str:
    return "/v1/webhooks"


CREATING: dict[str, tuple[Setup, dict[str, Any], dict[str, Any], str]] = {
    "source": (
        _sources,
        {"name": "Astra", "kind": "media"},
        {"name": "Astra", "kind": "government"},
        "editor",
    ),
    "rating": (_ratings, {"reliability": "B"}, {"reliability": "C"}, "admin"),
    "incident": (
        _incidents,
        {
            "title": "Raid",
            "tags": ["drone"],
            "place": {"name": "Tyotkino", "country": "RU", "lat": 51.27, "precision": "settlement"},
            "occurred_from": "2024-03-12T08:10:00+02:00",
        },
        {
            "title": "Raid",
            "tags": ["drone"],
            "place": {"name": "Tyotkino", "country": "RU", "lat": 51.27, "precision": "settlement"},
            "occurred_from": "2024-03-12T08:11:00+02:00",
        },
        "editor",
    ),
    "claim": (_claims, {"text": "A refinery burns"}, {"text": "A depot burns"}, "editor"),
    "verdict": (_verdicts, {"verdict": "true"}, {"verdict": "false"}, "editor"),
    "withdrawal": (_withdrawals, {"reason": "wrong claim"}, {"reason": "duplicate"}, "editor"),
    "webhook": (
        _webhooks,
        {"url": "http://127.0.0.1:9/hook", "event_types": ["claim.status_changed"]},
        {"url": "http://127.0.0.1:9/other", "event_types": ["claim.status_changed"]},
        "admin",
    ),
}


async def _written(database_url: str) -> int:
    """What the creating POSTs write: events, and webhook subscriptions."""
    connection = await asyncpg.connect(database_url)
    try:
        endpoints = await connection.fetchval("SELECT count(*) FROM webhooks.endpoints")
    finally:
        await connection.close()
    return await event_count(database_url) + int(endpoints)


@pytest.mark.parametrize("what", sorted(CREATING))
async def test_a_retried_create_answers_the_first_result_and_writes_once(
    what: str, client: Client, keys: Keys, database_url: str
) -> None:
    setup, body, _, role = CREATING[what]
    path = await setup(client, keys)
    headers = {**keys.header(role), "Idempotency-Key": f"retry-{what}"}
    before = await _written(database_url)
    first = await client.post(path, json=body, headers=headers)
    second = await client.post(path, json=body, headers=headers)
    assert first.status_code == second.status_code == 201, (first.text, second.text)
    assert first.json() == second.json()
    assert first.headers["location"] == second.headers["location"]
    assert "idempotent-replayed" not in first.headers
    assert second.headers["idempotent-replayed"] == "true"
    assert await _written(database_url) == before + 1
    # What Location names can be read (once the read model has the write).
    position = first.json().get("position")
    wait = {} if position is None else {"min_position": position}
    shown = await client.get(first.headers["location"], params=wait, headers=keys.header("admin"))
    assert shown.status_code == 200, shown.text


@pytest.mark.parametrize("what", sorted(CREATING))
async def test_a_key_used_again_with_another_body_is_422(
    what: str, client: Client, keys: Keys, database_url: str
) -> None:
    setup, body, other, role = CREATING[what]
    path = await setup(client, keys)
    headers = {**keys.header(role), "Idempotency-Key": f"reused-{what}"}
    assert (await client.post(path, json=body, headers=headers)).status_code == 201
    before = await _written(database_url)
    changed = await client.post(path, json=other, headers=headers)
    assert changed.status_code == 422, changed.text
    assert changed.headers["content-type"] == "application/problem+json"
    assert changed.json()["type"] == "/problems/idempotency-key-reused"
    assert changed.json()["field"] == "Idempotency-Key"
    assert await _written(database_url) == before


@pytest.mark.parametrize("what", sorted(CREATING))
async def test_concurrent_retries_make_one(
    what: str, client: Client, keys: Keys, database_url: str
) -> None:
    setup, body, _, role = CREATING[what]
    path = await setup(client, keys)
    headers = {**keys.header(role), "Idempotency-Key": f"racing-{what}"}
    before = await _written(database_url)
    answers: list[tuple[int, dict[str, Any], str]] = []

    async def attempt() -> None:
        response = await client.post(path, json=body, headers=headers)
        answers.append((response.status_code, response.json(), response.headers.get("location")))

    with anyio.fail_after(60):
        async with anyio.create_task_group() as group:
            for _ in range(6):
                group.start_soon(attempt)
    assert [status for status, _, _ in answers] == [201] * 6, answers
    assert all(answer == answers[0] for answer in answers)
    assert await _written(database_url) == before + 1


async def test_a_retried_incident_is_one_incident(client: Client, keys: Keys) -> None:
    headers = {**keys.header("editor"), "Idempotency-Key": "one-incident"}
    for _ in range(3):
        answer = await client.post("/v1/incidents", json={"title": "Fire"}, headers=headers)
        assert answer.status_code == 201
    listed = await client.get("/v1/incidents", params={"min_position": answer.json()["position"]})
    assert [item["title"] for item in listed.json()["items"]] == ["Fire"]


async def test_a_key_is_one_kind_of_requests(client: Client, keys: Keys) -> None:
    """The same key on other operations names other requests: each is written, none replayed."""
    claim_id = await claim(client, keys.editor, await incident(client, keys.editor))
    headers = {**keys.header("admin"), "Idempotency-Key": "shared-key"}
    speaker = await client.post(
        "/v1/sources", json={"name": "Astra", "kind": "media"}, headers=headers
    )
    writes = [
        speaker,
        await client.post("/v1/incidents", json={"title": "Fire"}, headers=headers),
        await client.post(
            f"/v1/sources/{speaker.json()['id']}/ratings",
            json={"reliability": "B"},
            headers=headers,
        ),
        await client.post(
            f"/v1/claims/{claim_id}/verdicts", json={"verdict": "true"}, headers=headers
        ),
    ]
    assert [w.status_code for w in writes] == [201] * 4, [w.text for w in writes]
    assert all("idempotent-replayed" not in w.headers for w in writes)
    assert len({w.json()["position"] for w in writes}) == 4
