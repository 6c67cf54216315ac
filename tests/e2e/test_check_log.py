"""The newsroom's check, as the README tells it: keep today's checkpoint, and later have
``claimledger check-log`` prove over HTTP that the ledger's log only grew; a log that signs a
different past is caught. ``serve`` runs the log in its projector's process, signing with the
configured key.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import anyio
import httpx

from claimledger.runtime.demo import load_scenario
from claimledger.transparency import merkle
from claimledger.transparency.notes import NoteSigner, checkpoint_body, parse_checkpoint
from tests.e2e.processes import (
    claimledger,
    completed,
    environment,
    free_port,
    post,
    serving,
    signed_checkpoint,
)

SEED = hashlib.sha256(b"newsroom test key").digest()
ORIGIN = "ledger.example/log"


def latest(base: str, larger_than: int = 0) -> str:
    """The ledger's latest checkpoint note, once it covers more than ``larger_than`` leaves."""
    return anyio.from_thread.run(signed_checkpoint, base, larger_than)


async def test_a_kept_checkpoint_proves_the_log_only_grew(
    database_url: str, tmp_path: Path
) -> None:
    await anyio.to_thread.run_sync(newsroom, database_url, tmp_path)


def newsroom(database_url: str, tmp_path: Path) -> None:
    env = environment(
        DATABASE_URL=database_url,
        CLAIMLEDGER_LOG_KEY_SEED=base64.b64encode(SEED).decode(),
        CLAIMLEDGER_LOG_KEY_FILE=None,
        CLAIMLEDGER_LOG_ORIGIN=ORIGIN,
        CLAIMLEDGER_CHECKPOINT_SECONDS="0.2",
    )
    editor = claimledger(["keys", "create", "--role", "editor", "--name", "e2e"], env=env)
    editor = editor.strip().splitlines()[-1]
    signer = NoteSigner.from_seed(ORIGIN, SEED)
    with serving(["--demo"], env=env, port=free_port()) as base:
        kept = tmp_path / "checkpoint.txt"
        kept.write_text(latest(base))
        # Published by the log's worker when it started, before its first checkpoint.
        vkey = httpx.get(f"{base}/v1/log/key", timeout=10).text.strip()
        assert vkey == signer.verifier_key
        size = parse_checkpoint(kept.read_text().split("\n\n")[0] + "\n").size
        scenario = load_scenario()
        written = post(
            base,
            f"/v1/claims/{scenario.claim_id('raid', 'entered')}/statements",
            {
                "source_id": str(scenario.source_id("svoboda")),
                "stance": "confirms",
                "quote": "Geolocated footage shows the vehicles inside the village.",
                "language": "en",
                "published_at": "2024-03-12T20:00:00Z",
            },
            editor,
        )
        latest(base, larger_than=size)
        check = ["check-log", str(kept), "--url", base, "--key", vkey]
        done = completed([*check, "--statement", str(written["id"]), "--save"], env=env)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"the saved tree of {size} leaves is the start of" in done.stdout
        assert f"statement {written['id']} is leaf" in done.stdout
        assert parse_checkpoint(kept.read_text().split("\n\n")[0] + "\n").size > size
        # A log showing this newsroom another past, signed with the same key, is caught.
        forged = tmp_path / "forged.txt"
        forged.write_text(signer.sign(checkpoint_body(ORIGIN, size, merkle.leaf_hash(b"x"))))
        done = completed([*check[:1], str(forged), *check[2:]], env=env)
        assert done.returncode == 1, done.stdout + done.stderr
        assert "the log rewrote what it had signed" in done.stdout
        # A checkpoint not signed by the log's key proves nothing.
        stranger = NoteSigner.from_seed(ORIGIN, bytes(32))
        forged.write_text(stranger.sign(checkpoint_body(ORIGIN, size, merkle.leaf_hash(b"x"))))
        done = completed([*check[:1], str(forged), *check[2:]], env=env)
        assert done.returncode == 1
        assert "the saved checkpoint is not a checkpoint signed by" in done.stdout
    done = completed([*check[:1], str(kept), *check[2:]], env=env)
    assert done.returncode == 2, "the ledger is gone: the check could not run"
    assert "cannot ask" in done.stderr
