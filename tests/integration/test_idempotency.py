"""Idempotent statements: a retry finds the first result; a reused key with another body is 422."""

from __future__ import annotations

import anyio

from tests.conftest import Keys
from tests.helpers import Client, an_hour_ago, claim, event_count, incident, source


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
