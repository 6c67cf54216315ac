"""The live stream over a real server: a client that reconnects with Last-Event-ID misses
nothing and sees nothing twice."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import anyio
import asyncpg
import httpx

from api.routes.stream import event_id
from tests.e2e.processes import claimledger, environment, free_port, serving


def events(response: httpx.Response) -> Iterator[tuple[str, str, str]]:
    """(id, event, data) for each event of a text/event-stream."""
    fields: dict[str, str] = {}
    for line in response.iter_lines():
        if not line:
            if "data" in fields:
                yield fields.get("id", ""), fields.get("event", "message"), fields["data"]
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")


class Ledger:
    def __init__(self, base: str, key: str) -> None:
        self.client = httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30
        )

    def post(self, path: str, body: dict[str, object]) -> dict[str, object]:
        response = self.client.post(path, json=body)
        assert response.status_code == 201, response.text
        answer: dict[str, object] = response.json()
        return answer

    def say(self, claim: object, source: object, stance: str) -> str:
        published = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        body = {"source_id": source, "stance": stance, "published_at": published}
        return str(self.post(f"/v1/claims/{claim}/statements", body)["id"])


async def feed_ids(url: str) -> list[str]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch("SELECT position, seq FROM views.feed ORDER BY 1, 2")
    finally:
        await connection.close()
    return [event_id(r["position"], r["seq"]) for r in rows]


async def test_a_reconnecting_client_misses_nothing_and_sees_nothing_twice(
    database_url: str,
) -> None:
    seen = await anyio.to_thread.run_sync(reconnecting_client, database_url)
    assert seen == await feed_ids(database_url)
    assert len(seen) == len(set(seen))


def reconnecting_client(database_url: str) -> list[str]:
    env = environment(DATABASE_URL=database_url)
    key = claimledger(["keys", "create", "--role", "editor", "--name", "sse"], env=env)
    key = key.strip().splitlines()[-1]
    seen: list[str] = []
    recorded = 0
    with serving([], env=env, port=free_port()) as base:
        ledger = Ledger(base, key)
        source = ledger.post("/v1/sources", {"name": "Observers", "kind": "osint"})["id"]
        incident = ledger.post("/v1/incidents", {"title": "Shelling"})["id"]
        claim = ledger.post(f"/v1/incidents/{incident}/claims", {"text": "It"})["id"]
        for _ in range(4):
            ledger.say(claim, source, "asserts")

        with httpx.stream(
            "GET", f"{base}/v1/stream", headers={"Last-Event-ID": "0"}, timeout=30
        ) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            for number, (identifier, kind, _) in enumerate(events(response), start=1):
                seen.append(identifier)
                recorded += kind == "statement.recorded"
                if number == 3:
                    break

        ledger.say(claim, source, "asserts")
        ledger.say(claim, source, "retracts")
        ledger.say(claim, source, "asserts")
        last_words: list[str] = []

        def later() -> None:
            ledger.say(claim, source, "asserts")
            last_words.append(ledger.say(claim, source, "asserts"))

        # Four statements before the first connection, three while disconnected, two later.
        last_data = ""
        with httpx.stream(
            "GET", f"{base}/v1/stream", headers={"Last-Event-ID": seen[-1]}, timeout=30
        ) as response:
            writer = threading.Timer(0.3, later)
            writer.start()
            for identifier, kind, data in events(response):
                seen.append(identifier)
                if kind == "statement.recorded":
                    recorded += 1
                    last_data = data
                    if recorded == 4 + 3 + 2:
                        break
            writer.join(timeout=30)
        assert last_words, "the writer did not finish"
        assert last_words[0] in last_data
        ledger.client.close()
    return seen
