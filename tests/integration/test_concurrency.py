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
