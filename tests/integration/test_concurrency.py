"""Many writers on one claim: every statement is its own aggregate, so none conflicts."""

from __future__ import annotations

import anyio

from tests.conftest import Keys
from tests.helpers import Client, an_hour_ago, claim, incident, source


async def test_fifty_concurrent_statements_on_one_claim(client: Client, keys: Keys) -> None:
    claim_id = await claim(client, keys.editor, await incident(client, keys.editor))
    speakers = [await source(client, keys.editor, f"Source {n}") for n in range(5)]
    positions: list[int] = []
    ids: set[str] = set()

    async def record(n: int) -> None:
        response = await client.post(
            f"/v1/claims/{claim_id}/statements",
            json={
                "source_id": speakers[n % 5],
                "stance": ("asserts", "denies")[n % 2],
                "published_at": an_hour_ago(),
            },
            headers=keys.header("editor"),
        )
        assert response.status_code == 201, response.text
        positions.append(response.json()["position"])
        ids.add(response.json()["id"])

    with anyio.fail_after(60):
        async with anyio.create_task_group() as group:
            for n in range(50):
                group.start_soon(record, n)
    assert len(positions) == 50
    assert len(set(positions)) == 50
    assert len(ids) == 50


async def test_concurrent_statements_saved_together_each_get_their_own_answer(
    client: Client, keys: Keys
) -> None:
    # Twenty plain statements, five retries of one keyed request and one request reusing that
    # key for another stance, all at once: saved in groups, each answered as if alone.
    claim_id = await claim(client, keys.editor, await incident(client, keys.editor))
    speaker = await source(client, keys.editor, "Source")
    published = an_hour_ago()
    answers: list[tuple[str, int, dict[str, object]]] = []

    async def record(kind: str, stance: str, key: str | None) -> None:
        headers = keys.header("editor") | ({"Idempotency-Key": key} if key else {})
        response = await client.post(
            f"/v1/claims/{claim_id}/statements",
            json={"source_id": speaker, "stance": stance, "published_at": published},
            headers=headers,
        )
        answers.append((kind, response.status_code, response.json()))

    with anyio.fail_after(60):
        async with anyio.create_task_group() as group:
            for n in range(20):
                group.start_soon(record, "plain", ("asserts", "denies")[n % 2], None)
            for _ in range(5):
                group.start_soon(record, "retry", "asserts", "shared")
            group.start_soon(record, "reuse", "denies", "shared")

    plain = [body for kind, status, body in answers if kind == "plain" and status == 201]
    assert len(plain) == 20
    assert len({body["position"] for body in plain}) == 20
    keyed = [(status, body) for kind, status, body in answers if kind != "plain"]
    # Whichever of the keyed requests came first was recorded; the others replayed it or, for
    # the other stance, were refused.
    recorded = {str(body["id"]) for status, body in keyed if status == 201}
    assert len(recorded) == 1
    refused = [body for status, body in keyed if status != 201]
    assert all(body["type"] == "/problems/idempotency-key-reused" for body in refused)
    assert len(refused) in (1, 5)
