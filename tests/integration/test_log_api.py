"""The log's endpoints: proofs that verify by RFC 9162 against roots computed here from the
events alone, entries that read back as their events, checkpoints as stored, and every odd input a
problem naming the parameter."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from litestar.testing import AsyncTestClient

from claimledger.api.app import create_app
from claimledger.domain.ledger import Ledger
from claimledger.domain.receipts import StatementRequest
from claimledger.domain.statement import StatementDraft
from claimledger.domain.values import Stance
from claimledger.runtime.demo import load_scenario
from claimledger.runtime.settings import Settings
from claimledger.store.db import Connection
from claimledger.transparency import merkle
from claimledger.transparency.leaves import decode_leaf, encode_leaf
from claimledger.transparency.tree import TreeBuilder
from tests.conftest import Keys
from tests.helpers import Client
from tests.ledger_data import WRITER, populate

pytestmark = pytest.mark.anyio
EVENTS = (
    "SELECT notification_id, originator_id, originator_version, topic, state"
    " FROM es.claimledger_events ORDER BY notification_id"
)
ORIGIN = "test.example/log"
INCLUSION = "/v1/log/proofs/inclusion"
CONSISTENCY = "/v1/log/proofs/consistency"


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[Client]:
    """The API without workers (nothing grows the tree but the test)."""
    async with AsyncTestClient(app=create_app(settings)) as client:
        yield client


@pytest.fixture
async def client(quiet: Settings) -> AsyncIterator[Client]:
    async with serving(quiet) as client:
        yield client


@pytest.fixture
async def leaves(ledger: Ledger, db: Connection) -> list[bytes]:
    """The leaf hashes of a varied ledger, computed here; the stored tree grown over them."""
    populate(ledger)
    await TreeBuilder(batch_size=7).catch_up(db)
    rows = await db.fetch(EVENTS)
    return [hashlib.sha256(b"\x00" + encode_leaf(*row)).digest() for row in rows]


def root(hashes: list[bytes], size: int) -> bytes:
    """MTH(D[0:size]) as RFC 9162, 2.1.1 defines it, for a tree of at least one leaf."""
    if size == 1:
        return hashes[0]
    split = 1 << ((size - 1).bit_length() - 1)  # the largest power of two below size
    return hashlib.sha256(
        b"\x01" + root(hashes, split) + root(hashes[split:], size - split)
    ).digest()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


async def checkpoint(db: Connection, hashes: list[bytes], size: int, *, signed: bool) -> str:
    """Store a checkpoint of ``size`` leaves as the signer would; its note."""
    note = f"{ORIGIN}\n{size}\n{b64(root(hashes, size))}\n"
    if signed:
        note += f"\n\u2014 {ORIGIN} {b64(bytes(68))}\n"
    await db.execute(
        "INSERT INTO transparency.checkpoints (size, root, origin, note, verifier_key)"
        " VALUES ($1, $2, $3, $4, $5)",
        size,
        root(hashes, size),
        ORIGIN,
        note,
        f"{ORIGIN}+00000000+{b64(bytes(33))}" if signed else None,
    )
    return note


async def ok(client: Client, path: str, **params: Any) -> Any:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def problem(client: Client, path: str, status: int, field: str | None, **params: Any) -> Any:
    response = await client.get(path, params=params)
    assert response.status_code == status, (path, params, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body.get("field") == field, (path, params, body)
    return body


async def test_inclusion_proofs_verify_against_roots_of_the_leaves(
    client: Client, leaves: list[bytes]
) -> None:
    n = len(leaves)
    assert n > 33
    pairs = [(0, 1), (0, 2), (1, 2), (3, 4), (7, 8), (0, 16), (15, 16), (5, 13), (31, 32)]
    pairs += [(16, 33), (0, n), (n // 2, n), (n - 1, n)]
    for index, size in pairs:
        proof = await ok(client, INCLUSION, index=index, tree_size=size)
        assert (proof["leaf_index"], proof["tree_size"]) == (index, size)
        assert unb64(proof["leaf_hash"]) == leaves[index]
        assert unb64(proof["root_hash"]) == root(leaves, size)
        path = [unb64(h) for h in proof["inclusion_path"]]
        assert merkle.verify_inclusion(leaves[index], index, size, path, root(leaves, size))
        assert proof["checkpoint"] is None
        if path:
            altered = [path[0][:-1] + bytes([path[0][-1] ^ 1]), *path[1:]]
            assert not merkle.verify_inclusion(
                leaves[index], index, size, altered, root(leaves, size)
            )


async def test_consistency_proofs_verify_against_roots_of_the_leaves(
    client: Client, leaves: list[bytes]
) -> None:
    n = len(leaves)
    pairs = [(1, 1), (1, 2), (1, n), (2, 3), (3, 7), (4, 8), (8, 16), (16, 32), (16, n), (n, n)]
    for first, second in pairs:
        proof = await ok(client, CONSISTENCY, first=first, second=second)
        assert (proof["first"], proof["second"]) == (first, second)
        first_root, second_root = root(leaves, first), root(leaves, second)
        assert unb64(proof["first_root"]) == first_root
        assert unb64(proof["second_root"]) == second_root
        path = [unb64(h) for h in proof["consistency_path"]]
        assert merkle.verify_consistency(first, second, path, first_root, second_root)
        assert (path == []) == (first == second)


async def test_proofs_default_to_the_latest_checkpoint_else_the_whole_tree(
    client: Client, db: Connection, leaves: list[bytes]
) -> None:
    n = len(leaves)
    proof = await ok(client, INCLUSION, index=3)
    assert (proof["tree_size"], proof["checkpoint"]) == (n, None)
    assert (await ok(client, CONSISTENCY, first=5))["second"] == n
    await checkpoint(db, leaves, 8, signed=False)
    note = await checkpoint(db, leaves, 20, signed=True)
    proof = await ok(client, INCLUSION, index=3)
    assert (proof["tree_size"], proof["checkpoint"]) == (20, note)
    assert unb64(proof["root_hash"]) == root(leaves, 20)
    earlier = await ok(client, INCLUSION, index=3, tree_size=8)
    assert earlier["checkpoint"].startswith(f"{ORIGIN}\n8\n")
    assert (await ok(client, CONSISTENCY, first=8))["second"] == 20
    await problem(client, INCLUSION, 400, "index", index=20)
    await problem(client, CONSISTENCY, 400, "first", first=21)


async def test_entries_read_back_as_their_events_and_hash_to_their_leaves(
    client: Client, db: Connection, leaves: list[bytes]
) -> None:
    n = len(leaves)
    rows = await db.fetch(EVENTS)
    answer = await ok(client, "/v1/log/entries", start=0, end=n + 50)
    assert answer["tree_size"] == n
    assert [entry["index"] for entry in answer["entries"]] == list(range(n))
    for entry, row in zip(answer["entries"], rows, strict=True):
        leaf = unb64(entry["leaf"])
        assert merkle.leaf_hash(leaf) == unb64(entry["leaf_hash"]) == leaves[entry["index"]]
        fields = decode_leaf(leaf)
        assert fields.position == entry["position"] == row["notification_id"]
        assert fields.aggregate_id == row["originator_id"]
        assert fields.version == row["originator_version"]
        assert (fields.topic, fields.state) == (row["topic"], row["state"])
    tail = await ok(client, "/v1/log/entries", start=n - 2)
    assert [entry["index"] for entry in tail["entries"]] == [n - 2, n - 1]
    assert len((await ok(client, "/v1/log/entries", start=1, end=1001))["entries"]) == n - 1


async def test_a_statement_is_proven_by_its_id(
    client: Client, ledger: Ledger, db: Connection, leaves: list[bytes]
) -> None:
    row = await db.fetchrow(
        "SELECT l.idx, e.originator_id FROM transparency.leaves l"
        " JOIN es.claimledger_events e ON e.notification_id = l.position"
        " WHERE e.topic LIKE '%StatementRecorded' ORDER BY l.idx DESC LIMIT 1"
    )
    assert row is not None
    statement_id, index = row["originator_id"], row["idx"]
    n = len(leaves)
    proof = await ok(client, INCLUSION, statement_id=str(statement_id))
    assert (proof["leaf_index"], proof["tree_size"]) == (index, n)
    path = [unb64(h) for h in proof["inclusion_path"]]
    assert merkle.verify_inclusion(leaves[index], index, n, path, root(leaves, n))
    unknown = await problem(client, INCLUSION, 404, "statement_id", statement_id=str(uuid4()))
    a_claim = await db.fetchval(
        "SELECT originator_id FROM es.claimledger_events WHERE topic LIKE '%ClaimAdded' LIMIT 1"
    )
    await problem(client, INCLUSION, 404, "statement_id", statement_id=str(a_claim))
    await problem(
        client, INCLUSION, 400, "statement_id", statement_id=str(statement_id), tree_size=index
    )
    await checkpoint(db, leaves, index, signed=False)
    await problem(client, INCLUSION, 400, "statement_id", statement_id=str(statement_id))
    scenario, published = load_scenario(), datetime(2024, 3, 12, 18, 0, tzinfo=UTC)
    draft = StatementDraft(scenario.source_id("svoboda"), Stance.CONFIRMS, published)
    claim_id = scenario.claim_id("raid", "vehicle")
    fresh = ledger.record_statement(StatementRequest(claim_id, draft), recorded_by=WRITER)
    not_yet = await problem(client, INCLUSION, 404, "statement_id", statement_id=str(fresh.id))
    assert "not yet" in not_yet["detail"]
    assert not_yet["detail"] != unknown["detail"]


async def test_checkpoints_are_answered_as_stored(
    client: Client, db: Connection, leaves: list[bytes]
) -> None:
    await problem(client, "/v1/log/checkpoint", 404, None)
    assert (await ok(client, "/v1/log/checkpoints")) == {"items": [], "next_cursor": None}
    notes = {size: await checkpoint(db, leaves, size, signed=size > 4) for size in (1, 4, 9)}
    latest = await client.get("/v1/log/checkpoint")
    assert latest.status_code == 200
    assert latest.headers["content-type"] == "text/plain; charset=utf-8"
    assert latest.headers["cache-control"] == "no-cache"
    assert latest.text == notes[9]
    etag = {"If-None-Match": latest.headers["etag"]}
    again = await client.get("/v1/log/checkpoint", headers=etag)
    assert (again.status_code, again.content) == (304, b"")
    kept = await client.get("/v1/log/checkpoints/4")
    assert (kept.status_code, kept.text) == (200, notes[4])
    assert kept.headers["cache-control"] == "public, max-age=31536000, immutable"
    await problem(client, "/v1/log/checkpoints/5", 404, None)
    first = await ok(client, "/v1/log/checkpoints", limit=2)
    assert [c["tree_size"] for c in first["items"]] == [9, 4]
    assert [c["signed"] for c in first["items"]] == [True, False]
    assert unb64(first["items"][0]["root_hash"]) == root(leaves, 9)
    assert first["items"][0]["checkpoint"] == notes[9]
    assert first["items"][0]["origin"] == ORIGIN
    rest = await ok(client, "/v1/log/checkpoints", limit=2, cursor=first["next_cursor"])
    assert ([c["tree_size"] for c in rest["items"]], rest["next_cursor"]) == ([1], None)


async def test_the_verifier_key_is_served_when_the_log_has_one(
    client: Client, db: Connection
) -> None:
    unsigned = await problem(client, "/v1/log/key", 404, None)
    assert unsigned["detail"] == "the log has no signing key: its checkpoints are unsigned"
    key = f"{ORIGIN}+0a1b2c3d+{b64(bytes(33))}"
    # What the active log worker publishes when it starts.
    await db.execute("UPDATE transparency.tree SET origin = $1, verifier_key = $2", ORIGIN, key)
    answer = await client.get("/v1/log/key")
    assert (answer.status_code, answer.text) == (200, key)
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"


ODD = ["1e3", "-1", "1.0", " 1", "+1", "0x1", "1_0", "٣", "nan", str(2**63), str(2**70)]
ODD += ["", "9" * 5000]
INTEGERS = [
    (INCLUSION, {"tree_size": "5"}, "index"),
    (INCLUSION, {"index": "0"}, "tree_size"),
    ("/v1/log/entries", {"end": "5"}, "start"),
    ("/v1/log/entries", {"start": "0"}, "end"),
    (CONSISTENCY, {"second": "5"}, "first"),
    (CONSISTENCY, {"first": "1"}, "second"),
]


async def test_every_odd_value_is_a_400_naming_its_parameter(
    client: Client, leaves: list[bytes]
) -> None:
    for path, others, name in INTEGERS:
        for value in ODD:
            await problem(client, path, 400, name, **others, **{name: value})
    for value in ODD[:-2]:  # (an empty one is the list of checkpoints)
        await problem(client, f"/v1/log/checkpoints/{value}", 400, "tree_size")


BAD: list[tuple[str, dict[str, str], str]] = [
    (INCLUSION, {}, "index"),
    (INCLUSION, {"index": "0", "statement_id": str(uuid4())}, "index"),
    (INCLUSION, {"statement_id": "not-a-uuid"}, "statement_id"),
    (INCLUSION, {"index": "0", "tree_size": "0"}, "tree_size"),
    (INCLUSION, {"index": "5", "tree_size": "5"}, "index"),
    (INCLUSION, {"index": "0", "tree_size": "100000"}, "tree_size"),
    (INCLUSION, {"index": "0", "treesize": "1"}, "treesize"),
    ("/v1/log/entries", {}, "start"),
    ("/v1/log/entries", {"start": "5", "end": "5"}, "end"),
    ("/v1/log/entries", {"start": "0", "end": "1001"}, "end"),
    ("/v1/log/entries", {"start": "100000"}, "start"),
    (CONSISTENCY, {}, "first"),
    (CONSISTENCY, {"first": "0", "second": "3"}, "first"),
    (CONSISTENCY, {"first": "4", "second": "3"}, "second"),
    (CONSISTENCY, {"first": "1", "second": "100000"}, "second"),
    ("/v1/log/checkpoints", {"cursor": "bm90LWEtY3Vyc29y"}, "cursor"),
    ("/v1/log/checkpoints", {"limit": "0"}, "limit"),
]


async def test_bad_requests_are_problems_naming_the_parameter(
    client: Client, leaves: list[bytes]
) -> None:
    for path, params, field in BAD:
        body = await problem(client, path, 400, field, **params)
        if "statement_id" in params and "index" in params:
            assert [e["field"] for e in body["errors"]] == ["index", "statement_id"]


async def test_without_public_reads_the_log_needs_a_key(
    quiet: Settings, keys: Keys, leaves: list[bytes]
) -> None:
    private = replace(quiet, public_read=False)
    paths = [
        "/v1/log/checkpoints",
        "/v1/log/key",
        "/v1/log/entries?start=0",
        f"{INCLUSION}?index=0",
    ]
    async with serving(private) as client:
        for path in [*paths, "/v1/log/checkpoint", f"{CONSISTENCY}?first=1"]:
            refused = await client.get(path)
            assert refused.status_code == 401, (path, refused.text)
        answered = await client.get("/v1/log/entries?start=0", headers=keys.header("reader"))
        assert answered.status_code == 200
        assert (
            await client.get(f"{INCLUSION}?index=0", headers=keys.header("reader"))
        ).status_code == 200


async def test_an_empty_log_refuses_every_proof_and_entry(client: Client) -> None:
    await problem(client, INCLUSION, 400, "index", index=0)
    await problem(client, CONSISTENCY, 400, "first", first=1)
    await problem(client, "/v1/log/entries", 400, "start", start=0)
