"""Reads from a lagging streaming replica never break what an answer promises.

A primary and a hot standby of its own that applies WAL three seconds late; the API writes to the
primary and reads from the standby. Read-your-writes holds (a read asking for a position the
standby has not applied is answered from the primary), an answer's position header is that of the
rows it was read from, and no answer marked immutable changes later.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

import anyio
import httpx

from tests.e2e.processes import claimledger, environment, free_port, post, serving
from tests.pgcluster import PgCluster
from tests.pgcluster import free_port as free_pg_port

APPLY_DELAY = 3.0
SETTLE = 0.5


async def test_a_lagging_replica_keeps_read_your_writes_and_immutable_answers(
    pg_dir: Path,
) -> None:
    await anyio.to_thread.run_sync(lagging_replica, pg_dir)


def lagging_replica(pg_dir: Path) -> None:
    with PgCluster(pg_dir / "primary", free_pg_port()) as primary:
        primary.init()
        primary.start()
        url = primary.create_database("claimledger")
        with PgCluster.standby_of(
            primary, pg_dir / "standby", free_pg_port(), apply_delay_seconds=APPLY_DELAY
        ) as standby:
            env = environment(
                DATABASE_URL=url,
                DATABASE_READ_URL=standby.url("claimledger"),
                CLAIMLEDGER_SETTLE_SECONDS=str(SETTLE),
                CLAIMLEDGER_POLL_SECONDS="0.1",
            )
            claimledger(["migrate"], env=env)
            key = claimledger(["keys", "create", "--role", "editor", "--name", "r"], env=env)
            with serving([], env=env, port=free_port()) as base:
                check_reads(base, key.strip().splitlines()[-1])


def statement(base: str, key: str, claim: object, source: object, stance: str) -> dict[str, object]:
    published = (datetime.now().astimezone() - timedelta(hours=1)).isoformat()
    body = {"source_id": source, "stance": stance, "published_at": published}
    return post(base, f"/v1/claims/{claim}/statements", body, key)


def check_reads(base: str, key: str) -> None:
    fsb = post(base, "/v1/sources", {"name": "FSB", "kind": "security_service"}, key)["id"]
    rdk = post(base, "/v1/sources", {"name": "RDK", "kind": "armed_group"}, key)["id"]
    incident = post(base, "/v1/incidents", {"title": "Raid"}, key)["id"]
    claim = post(base, f"/v1/incidents/{incident}/claims", {"text": "Taken"}, key)["id"]
    first = statement(base, key, claim, rdk, "asserts")
    with httpx.Client(base_url=base, timeout=30) as client:
        # Read-your-writes although the standby is seconds behind: answered from the primary.
        mine = client.get(f"/v1/claims/{claim}", params={"min_position": str(first["position"])})
        assert mine.status_code == 200, mine.text
        assert mine.json()["status"] == "claimed"
        assert int(mine.headers["x-projection-position"]) >= int(str(first["position"]))

        deadline = time.monotonic() + APPLY_DELAY + 10
        while client.get(f"/v1/claims/{claim}").status_code != 200:
            assert time.monotonic() < deadline, "the standby never caught up with the claim"
            time.sleep(0.1)

        denial = statement(base, key, claim, fsb, "denies")
        position = int(str(denial["position"]))
        # A plain read goes to the standby: it has not applied the denial, and says so.
        plain = client.get(f"/v1/claims/{claim}")
        assert plain.status_code == 200, plain.text
        assert plain.json()["status"] == "claimed"
        assert int(plain.headers["x-projection-position"]) < position
        mine = client.get(f"/v1/claims/{claim}", params={"min_position": str(position)})
        assert mine.status_code == 200, mine.text
        assert mine.json()["status"] == "disputed"
        assert int(mine.headers["x-projection-position"]) >= position

        # Just after the denial was recorded: the standby does not have it yet, so an answer
        # about that moment must not claim to be final until the standby has caught up.
        moment = datetime.fromisoformat(str(denial["recorded_at"])) + timedelta(milliseconds=1)
        seen: list[tuple[str, str, str]] = []
        deadline = time.monotonic() + APPLY_DELAY + 5
        while time.monotonic() < deadline:
            answer = client.get(f"/v1/claims/{claim}", params={"known_at": moment.isoformat()})
            assert answer.status_code == 200, answer.text
            seen.append((answer.headers["cache-control"], answer.json()["status"], answer.text))
            if "immutable" in seen[-1][0] and len(seen) > 3:
                break
            time.sleep(0.2)
        final = client.get(f"/v1/claims/{claim}", params={"known_at": moment.isoformat()})
        assert final.json()["status"] == "disputed"
        immutable = [text for control, _, text in seen if "immutable" in control]
        assert immutable, f"no answer became final within the wait: {seen[-1][0]}"
        assert all(text == final.text for text in immutable), seen
        assert any(status == "claimed" for _, status, _ in seen), "the standby was never behind"
