"""Batches: up to 1,000 statements in one transaction, all or nothing; and the NDJSON import."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any
from uuid import uuid4

import anyio
import msgspec

from tests.conftest import Keys
from tests.e2e.processes import environment
from tests.helpers import Client, an_hour_ago, claim, event_count, incident, source


async def setup(client: Client, keys: Keys) -> tuple[str, str, str]:
    incident_id = await incident(client, keys.editor)
    return (
        await claim(client, keys.editor, incident_id, "first"),
        await claim(client, keys.editor, incident_id, "second"),
        await source(client, keys.editor),
    )


def item(claim_id: str, source_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "claim_id": claim_id,
        "source_id": source_id,
        "stance": "asserts",
        "published_at": an_hour_ago(),
        **extra,
    }


async def test_a_batch_records_every_statement_in_order(client: Client, keys: Keys) -> None:
    first, second, speaker = await setup(client, keys)
    batch = [item(first, speaker), item(second, speaker, stance="denies"), item(first, speaker)]
    response = await client.post(
        "/v1/statements:batch", json={"statements": batch}, headers=keys.header("editor")
    )
    assert response.status_code == 201, response.text
    receipts = response.json()["items"]
    positions = [r["position"] for r in receipts]
    assert positions == list(range(positions[0], positions[0] + 3))
    seen = await client.get(f"/v1/claims/{second}", params={"min_position": str(positions[-1])})
    assert seen.status_code == 200, seen.text
    assert seen.json()["status"] == "denied"


async def test_one_bad_statement_fails_the_whole_batch(
    client: Client, keys: Keys, database_url: str
) -> None:
    first, second, speaker = await setup(client, keys)
    before = await event_count(database_url)
    cases = {
        "statements[2].source_id": [
            item(first, speaker),
            item(second, speaker),
            item(first, str(uuid4())),
        ],
        "statements[1].claim_id": [item(first, speaker), item(str(uuid4()), speaker)],
        "statements[0].published_at": [item(first, speaker, published_at="2999-01-01T00:00:00Z")],
        "statements[0].stance": [item(first, speaker, stance="maybe")],
        "statements": [item(first, speaker)] * 1001,
    }
    for field, batch in cases.items():
        response = await client.post(
            "/v1/statements:batch", json={"statements": batch}, headers=keys.header("editor")
        )
        assert response.status_code == 422, (field, response.text)
        assert response.json()["field"] == field
    assert await event_count(database_url) == before


async def test_a_retried_batch_answers_the_first_receipts(
    client: Client, keys: Keys, database_url: str
) -> None:
    first, _, speaker = await setup(client, keys)
    batch = {
        "statements": [
            item(first, speaker, idempotency_key=f"batch-{n}", published_at="2024-03-12T10:00:00Z")
            for n in range(5)
        ]
    }
    one = await client.post("/v1/statements:batch", json=batch, headers=keys.header("editor"))
    before = await event_count(database_url)
    two = await client.post("/v1/statements:batch", json=batch, headers=keys.header("editor"))
    assert one.status_code == two.status_code == 201
    assert one.json() == two.json()
    assert await event_count(database_url) == before


async def test_a_batch_needs_an_editor(client: Client, keys: Keys) -> None:
    response = await client.post(
        "/v1/statements:batch", json={"statements": []}, headers=keys.header("reader")
    )
    assert response.status_code == 403


def ndjson(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(msgspec.json.encode(line) + b"\n" for line in lines))
    return path


async def test_import_an_ndjson_file(database_url: str, tmp_path: Path) -> None:
    source_id, incident_id, claim_id = uuid4(), uuid4(), uuid4()
    lines: list[dict[str, Any]] = [
        {"type": "source", "id": str(source_id), "name": "Observers", "kind": "osint"},
        {"type": "incident", "id": str(incident_id), "title": "Shelling", "tags": ["artillery"]},
        {"type": "claim", "id": str(claim_id), "incident_id": str(incident_id), "text": "It"},
        *(
            {
                "type": "statement",
                "claim_id": str(claim_id),
                "source_id": str(source_id),
                "stance": "asserts",
                "published_at": "2024-03-12T10:00:00Z",
                "idempotency_key": f"import-{n}",
            }
            for n in range(2500)
        ),
        {"type": "withdrawal", "idempotency_key": "import-7", "reason": "duplicate"},
    ]
    file = ndjson(tmp_path / "ledger.ndjson", lines)
    env = environment(DATABASE_URL=database_url)
    done = await anyio.run_process(
        [sys.executable, "-m", "claimledger.cli", "import", str(file)], env=env, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    assert b"imported 2504 records" in done.stdout
    assert await event_count(database_url) == 2504

    broken = ndjson(
        tmp_path / "broken.ndjson",
        [lines[0] | {"id": str(uuid4())}, {"type": "claim", "text": "no incident"}],
    )
    failed = await anyio.run_process(
        [sys.executable, "-m", "claimledger.cli", "import", str(broken)], env=env, check=False
    )
    assert failed.returncode == 1
    assert b"line 2" in failed.stderr


async def test_an_import_saves_batches_in_order_while_reading_the_next(
    database_url: str, tmp_path: Path
) -> None:
    # A key on the last line of one batch and again on the first of the next: a retry there,
    # though the second batch is read and built while the first is being saved.
    source_id, incident_id, claim_id = uuid4(), uuid4(), uuid4()
    entities: list[dict[str, Any]] = [
        {"type": "source", "id": str(source_id), "name": "Observers", "kind": "osint"},
        {"type": "incident", "id": str(incident_id), "title": "Shelling"},
        {"type": "claim", "id": str(claim_id), "incident_id": str(incident_id), "text": "It"},
    ]

    def statement(n: int, key: str | None = None) -> dict[str, Any]:
        line: dict[str, Any] = {
            "type": "statement",
            "claim_id": str(claim_id),
            "source_id": str(source_id),
            "stance": "asserts",
            "published_at": "2024-03-12T10:00:00Z",
            "quote": f"line {n}",
        }
        return line | ({"idempotency_key": key} if key else {})

    statements = [statement(n) for n in range(999)]
    statements += [statement(999, "edge"), statement(999, "edge")]
    statements += [statement(n) for n in range(1001, 2100)]
    env = environment(DATABASE_URL=database_url)
    file = ndjson(tmp_path / "edge.ndjson", [*entities, *statements])
    done = await anyio.run_process(
        [sys.executable, "-m", "claimledger.cli", "import", str(file)], env=env, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    assert await event_count(database_url) == 3 + len(statements) - 1

    # A bad line in the third batch: the two before it are saved, and the error names its lines.
    before = await event_count(database_url)
    bad = [statement(n) for n in range(3000, 5000)] + [statement(5000) | {"stance": "maybe"}]
    failed = await anyio.run_process(
        [
            sys.executable,
            "-m",
            "claimledger.cli",
            "import",
            str(ndjson(tmp_path / "bad.ndjson", bad)),
        ],
        env=env,
        check=False,
    )
    assert failed.returncode == 1
    assert b"line 2001" in failed.stderr
    assert await event_count(database_url) == before + 2000
