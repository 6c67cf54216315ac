"""Small builders for tests that write through the HTTP API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import anyio
import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

Client = AsyncTestClient[Litestar]


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def an_hour_ago() -> str:
    return iso(datetime.now(UTC) - timedelta(hours=1))


async def created(client: Client, path: str, body: dict[str, Any], key: str) -> dict[str, Any]:
    response = await client.post(path, json=body, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def source(client: Client, key: str, name: str = "Radio Svoboda", **extra: Any) -> str:
    body = {"name": name, "kind": "media", **extra}
    return str((await created(client, "/v1/sources", body, key))["id"])


async def incident(client: Client, key: str, title: str = "Raid", **extra: Any) -> str:
    body = {"title": title, **extra}
    return str((await created(client, "/v1/incidents", body, key))["id"])


async def claim(client: Client, key: str, incident_id: str, text: str = "It happened") -> str:
    answer = await created(client, f"/v1/incidents/{incident_id}/claims", {"text": text}, key)
    return str(answer["id"])


async def statement(
    client: Client, key: str, claim_id: str, source_id: str, stance: str = "asserts", **extra: Any
) -> dict[str, Any]:
    body = {"source_id": source_id, "stance": stance, "published_at": an_hour_ago(), **extra}
    return await created(client, f"/v1/claims/{claim_id}/statements", body, key)


async def until(condition: Callable[[], bool], *, within: float = 30.0, what: str = "") -> None:
    """Wait for ``condition`` to hold, checking every few milliseconds, for at most ``within``."""
    with anyio.move_on_after(within):
        while not condition():  # noqa: ASYNC110 - plain attributes, no event to wait on
            await anyio.sleep(0.005)
    assert condition(), f"not within {within} s: {what or 'the condition'}"


async def eventually(
    check: Callable[[], Awaitable[bool]], *, within: float = 30.0, what: str = ""
) -> None:
    """Wait for an asynchronous ``check`` to pass, asking every 20 ms, for at most ``within``."""
    with anyio.move_on_after(within):
        while not await check():  # noqa: ASYNC110 - the condition is a query, not an event
            await anyio.sleep(0.02)
        return
    assert await check(), f"not within {within} s: {what or 'the check'}"


async def event_count(database_url: str, aggregate_id: str | None = None) -> int:
    """Events in the store, of one aggregate or of all."""
    connection = await asyncpg.connect(database_url)
    try:
        total = await connection.fetchval(
            "SELECT count(*) FROM es.claimledger_events"
            " WHERE $1::uuid IS NULL OR originator_id = $1::uuid",
            aggregate_id,
        )
    finally:
        await connection.close()
    assert isinstance(total, int)
    return total


def import_lines(statements: int, quote: str = "line {n}") -> list[dict[str, Any]]:
    """An import file's lines: a source, an incident, a claim of it, and that many statements
    asserting the claim (the n-th quoting ``quote`` with n)."""
    source_id, incident_id, claim_id = uuid4(), uuid4(), uuid4()
    lines: list[dict[str, Any]] = [
        {"type": "source", "id": str(source_id), "name": "Observers", "kind": "osint"},
        {"type": "incident", "id": str(incident_id), "title": "Shelling"},
        {"type": "claim", "id": str(claim_id), "incident_id": str(incident_id), "text": "It"},
    ]
    lines += [
        {
            "type": "statement",
            "claim_id": str(claim_id),
            "source_id": str(source_id),
            "stance": "asserts",
            "published_at": "2024-03-12T10:00:00Z",
            "quote": quote.format(n=n),
        }
        for n in range(statements)
    ]
    return lines
