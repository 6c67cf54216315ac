"""The log against a rewritten past: an event changed with SQL ``UPDATE``, or deleted, makes
``claimledger verify`` fail naming the leaf, and the signer refuse the next checkpoint, which
``/ready`` and ``/metrics`` report; put back as it was, the log signs again."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

import anyio
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from litestar import Litestar
from litestar.testing import AsyncTestClient

from claimledger.domain.ledger import Ledger
from claimledger.store.db import Connection
from claimledger.transparency import merkle
from claimledger.transparency.notes import NoteSigner, parse_checkpoint
from claimledger.transparency.proofs import StoredCheckpoint, checkpoints
from claimledger.transparency.signer import CheckpointSigner, Refused
from claimledger.transparency.tree import TreeBuilder, stored_root
from tests.e2e.processes import completed, environment
from tests.integration.test_metrics import scrape, value
from tests.ledger_data import populate, populate_incidents

SIGNER = NoteSigner.from_seed("ledger.example/log", hashlib.sha256(b"test log key").digest())
LATER = timedelta(hours=1)


def signer() -> CheckpointSigner:
    return CheckpointSigner(SIGNER.name, SIGNER, interval=10.0)


async def grow_and_sign(db: Connection, *, at: datetime) -> StoredCheckpoint | Refused | None:
    await TreeBuilder().catch_up(db)
    return await signer().sign_if_due(db, now=at)


def verify(database_url: str) -> tuple[int, str]:
    done = completed(
        ["verify", "--database-url", database_url, "--key", SIGNER.verifier_key],
        env=environment(CLAIMLEDGER_LOG_KEY_SEED=None, CLAIMLEDGER_LOG_KEY_FILE=None),
    )
    return done.returncode, done.stdout + done.stderr


async def a_signed_log(ledger: Ledger, db: Connection) -> StoredCheckpoint:
    populate(ledger)
    first = await grow_and_sign(db, at=datetime.now(UTC))
    assert isinstance(first, StoredCheckpoint)
    populate_incidents(ledger, 2)
    second = await grow_and_sign(db, at=datetime.now(UTC) + LATER)
    assert isinstance(second, StoredCheckpoint)
    assert second.size > first.size
    return second


async def both_name(
    rewrite: str, ledger: Ledger, db: Connection, database_url: str, latest: StoredCheckpoint
) -> None:
    """``verify`` fails naming ``rewrite``, and so does the signer once the ledger has grown."""
    code, said = await anyio.to_thread.run_sync(verify, database_url)
    assert code == 1, said
    assert rewrite in said
    populate_incidents(ledger, 1)
    refused = await grow_and_sign(db, at=latest.signed_at + LATER)
    assert isinstance(refused, Refused)
    assert rewrite in refused.reason


async def test_checkpoints_are_signed_notes_over_the_stored_root(
    ledger: Ledger, db: Connection
) -> None:
    latest = await a_signed_log(ledger, db)
    kept = await checkpoints(db)
    assert [checkpoint.size for checkpoint in kept] == sorted(
        (checkpoint.size for checkpoint in kept), reverse=True
    )
    assert len(kept) == 2, "every checkpoint is kept"
    # The signature checks with the published key alone.
    name, key_id, key = SIGNER.verifier_key.split("+", 2)
    raw = base64.b64decode(key)
    assert raw[0] == 1
    text, signature_line = latest.note.split("\n\n")
    dash, signed_by, signature = signature_line.rstrip("\n").split(" ")
    assert (dash, signed_by) == ("\u2014", name)
    blob = base64.b64decode(signature)
    assert blob[:4].hex() == key_id
    Ed25519PublicKey.from_public_bytes(raw[1:]).verify(blob[4:], (text + "\n").encode())
    body = parse_checkpoint(text + "\n")
    assert (body.origin, body.size) == ("ledger.example/log", latest.size)
    assert body.root == await stored_root(db, latest.size) == latest.root


async def test_nothing_is_signed_before_the_interval_or_without_growth(
    ledger: Ledger, db: Connection
) -> None:
    latest = await a_signed_log(ledger, db)
    assert await signer().sign_if_due(db, now=datetime.now(UTC) + 2 * LATER) is None
    populate_incidents(ledger, 1)
    await TreeBuilder().catch_up(db)
    assert await signer().sign_if_due(db, now=latest.signed_at + timedelta(seconds=5)) is None
    grown = await signer().sign_if_due(db, now=latest.signed_at + timedelta(seconds=11))
    assert isinstance(grown, StoredCheckpoint)
    assert grown.size > latest.size


async def test_an_unsigned_log_keeps_bare_checkpoints(ledger: Ledger, db: Connection) -> None:
    populate(ledger)
    await TreeBuilder().catch_up(db)
    made = await CheckpointSigner("ledger.example/log", None, interval=10).sign_if_due(db)
    assert isinstance(made, StoredCheckpoint)
    assert made.verifier_key is None
    assert made.note == f"ledger.example/log\n{made.size}\n{base64.b64encode(made.root).decode()}\n"


async def test_an_updated_event_is_named_by_verify_and_refused_by_the_signer(
    ledger: Ledger, db: Connection, database_url: str, app: Litestar
) -> None:
    latest = await a_signed_log(ledger, db)
    assert verify(database_url)[0] == 0
    leaf, position = (
        17,
        await db.fetchval("SELECT position FROM transparency.leaves WHERE idx = 17"),
    )
    await db.execute(
        "UPDATE es.claimledger_events SET state = convert_to(replace(convert_from(state,"
        " 'UTF8'), '\"recorded_by\"', '\"recorded_by\" '), 'UTF8') WHERE notification_id = $1",
        position,
    )
    await both_name(
        f"leaf {leaf} (position {position}) was changed", ledger, db, database_url, latest
    )
    assert max(checkpoint.size for checkpoint in await checkpoints(db)) == latest.size
    async with AsyncTestClient(app=app) as client:
        ready = await client.get("/ready")
        assert ready.status_code == 503
        assert ready.json()["status"] == "tampered"
        assert f"leaf {leaf}" in ready.json()["log_refusal"]
        assert value(await scrape(client), "claimledger_log_refusing") == 1
        # Put back byte for byte, the past is what it was: the log signs again.
        await db.execute(
            "UPDATE es.claimledger_events SET state = convert_to(replace(convert_from(state,"
            " 'UTF8'), '\"recorded_by\" ', '\"recorded_by\"'), 'UTF8') WHERE notification_id = $1",
            position,
        )
        again = await signer().sign_if_due(db, now=latest.signed_at + 2 * LATER)
        assert isinstance(again, StoredCheckpoint)
        assert (await client.get("/ready")).json()["log_refusal"] is None
        assert value(await scrape(client), "claimledger_log_refusing") == 0
    assert (await anyio.to_thread.run_sync(verify, database_url))[0] == 0


async def test_a_deleted_event_is_named_by_verify_and_refused_by_the_signer(
    ledger: Ledger, db: Connection, database_url: str
) -> None:
    latest = await a_signed_log(ledger, db)
    position = await db.fetchval("SELECT position FROM transparency.leaves WHERE idx = 5")
    await db.execute("DELETE FROM es.claimledger_events WHERE notification_id = $1", position)
    await both_name(f"leaf 5 (position {position}) was deleted", ledger, db, database_url, latest)


async def test_verify_names_a_forged_checkpoint_and_a_wrong_key(
    ledger: Ledger, db: Connection, database_url: str
) -> None:
    latest = await a_signed_log(ledger, db)
    other = NoteSigner.from_seed(SIGNER.name, bytes(32))
    await db.execute(
        "UPDATE transparency.checkpoints SET note = $1 WHERE size = $2",
        other.sign(latest.note.split("\n\n")[0] + "\n"),
        latest.size,
    )
    code, said = await anyio.to_thread.run_sync(verify, database_url)
    assert code == 1
    assert f"the checkpoint of {latest.size} leaves is not signed by the log's key" in said
    forged = merkle.node_hash(latest.root, latest.root)
    await db.execute(
        "UPDATE transparency.checkpoints SET root = $1 WHERE size = $2", forged, latest.size
    )
    code, said = await anyio.to_thread.run_sync(verify, database_url)
    assert code == 1
    assert f"the checkpoint of {latest.size} leaves does not match the event table" in said


async def test_verify_cannot_run_without_its_database() -> None:
    done = await anyio.to_thread.run_sync(
        lambda: completed(
            ["verify", "--database-url", "postgresql://postgres@127.0.0.1:1/none"],
            env=environment(),
        )
    )
    assert done.returncode == 2, done.stderr
    assert "cannot use the database" in done.stderr
