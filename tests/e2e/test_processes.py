"""Several processes on one database: an API without a projector, a projector alone, rebuild.

The tests are coroutines to receive a fresh database; they drive the processes from a thread.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio
import httpx

from tests.e2e.processes import (
    claimledger,
    completed,
    environment,
    free_port,
    post,
    running,
    serving,
)


async def test_an_api_and_a_separate_projector_and_rebuild(database_url: str) -> None:
    await anyio.to_thread.run_sync(api_projector_and_rebuild, database_url)


def api_projector_and_rebuild(database_url: str) -> None:
    env = environment(DATABASE_URL=database_url)
    key = claimledger(["keys", "create", "--role", "editor", "--name", "e2e"], env=env)
    key = key.strip().splitlines()[-1]
    with (
        running(["serve", "--role", "projector"], env=env) as projector,
        serving(["--role", "api"], env=env, port=free_port()) as base,
    ):
        source = post(base, "/v1/sources", {"name": "FSB", "kind": "security_service"}, key)
        incident = post(base, "/v1/incidents", {"title": "Raid"}, key)
        claim = post(base, f"/v1/incidents/{incident['id']}/claims", {"text": "It"}, key)
        published = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        denial = post(
            base,
            f"/v1/claims/{claim['id']}/statements",
            {"source_id": source["id"], "stance": "denies", "published_at": published},
            key,
        )
        # The projector is another process, which may still be starting: each 503 came after
        # the server had waited for it for its own five seconds.
        for _ in range(12):
            seen = httpx.get(
                f"{base}/v1/claims/{claim['id']}",
                params={"min_position": str(denial["position"])},
                timeout=30,
            )
            if seen.status_code != 503:
                break
        assert seen.status_code == 200, seen.text
        assert seen.json()["status"] == "denied"
        assert int(seen.headers["x-projection-position"]) >= int(str(denial["position"]))
    assert projector.process.returncode == 0, projector.output

    rebuilt = completed(["rebuild"], env=env)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "rebuilt the views from 4 events" in rebuilt.stdout
    assert "rebuilding views [" in rebuilt.stderr
    assert "100.0%" in rebuilt.stderr
