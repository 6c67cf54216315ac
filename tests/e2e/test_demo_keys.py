"""The demo's keys: the same editor and admin key at every start of one data directory, kept in a
file only its owner can read, and never revoked by a start, not even one that cannot bind its
port (which fails in one line before it touches the ledger or its keys)."""

from __future__ import annotations

import socket
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio
import asyncpg
import httpx

from claimledger.transparency.notes import NoteVerifier, parse_checkpoint
from tests.e2e.processes import (
    completed,
    environment,
    free_port,
    printed,
    running,
    signed_checkpoint,
    wait_until_healthy,
)


@dataclass(frozen=True)
class Printed:
    editor: str
    admin: str


def _printed_keys(output: str) -> Printed:
    found = {}
    for line in output.splitlines():
        label, _, value = line.strip().partition(":")
        if label in ("editor key", "admin key"):
            found[label] = value.strip()
    assert set(found) == {"editor key", "admin key"}, output
    return Printed(editor=found["editor key"], admin=found["admin key"])


@contextmanager
def demo(env: dict[str, str], port: int) -> Iterator[tuple[str, Printed]]:
    """``serve --demo`` until the block ends: its base URL and the keys it printed."""
    with running(["serve", "--demo", "--port", str(port)], env=env) as child:
        base = wait_until_healthy(child, port)
        yield base, _printed_keys(printed(child))


def _works(base: str, keys: Printed) -> None:
    """The editor key writes, the admin key does what only an admin may, the editor may not."""
    editor = {"Authorization": f"Bearer {keys.editor}"}
    admin = {"Authorization": f"Bearer {keys.admin}"}
    wrote = httpx.post(
        f"{base}/v1/sources", json={"name": "Observers", "kind": "osint"}, headers=editor
    )
    assert wrote.status_code == 201, wrote.text
    assert httpx.get(f"{base}/v1/webhooks", headers=admin).status_code == 200
    assert httpx.get(f"{base}/v1/webhooks", headers=editor).status_code == 403


def _only_file(directory: Path, pattern: str) -> Path:
    found = sorted(directory.glob(pattern))
    assert len(found) == 1, found
    return found[0]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _busy_start(env: dict[str, str], port: int) -> subprocess.CompletedProcess[str]:
    return completed(["serve", "--demo", "--port", str(port)], env=env)


def _fails_in_one_line(done: subprocess.CompletedProcess[str], port: int) -> None:
    assert done.returncode == 2, done
    assert "serving on" not in done.stdout
    assert "key" not in done.stdout, done.stdout
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert f"cannot listen on 127.0.0.1:{port}: the address is in use" in done.stderr


async def _keys_in(database_url: str) -> list[tuple[str, str, bool]]:
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT name, role, revoked_at IS NOT NULL AS revoked FROM ledger.api_keys"
            " WHERE key_hash IS NOT NULL ORDER BY created_at"
        )
    finally:
        await connection.close()
    return [(row["name"], row["role"], row["revoked"]) for row in rows]


async def test_demo_keys_work_across_restarts_and_a_busy_port(
    database_url: str, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    env = environment(DATABASE_URL=database_url, CLAIMLEDGER_DATA_DIR=str(data_dir))
    port = free_port()

    with demo(env, port) as (base, first):
        _works(base, first)
        # The file sits beside the data directory, never in it (PostgreSQL initialises only an
        # empty directory there): one file per database address.
        kept = _only_file(tmp_path, "demo-keys-*.json")
        assert _mode(kept) == 0o600
        assert first.editor in kept.read_text()
        assert first.admin in kept.read_text()
        assert not data_dir.exists()
        before = kept.read_bytes()

        busy = _busy_start(env, port)
        _fails_in_one_line(busy, port)
        assert kept.read_bytes() == before
        assert await _keys_in(database_url) == [
            ("demo editor (make run)", "editor", False),
            ("demo admin (make run)", "admin", False),
        ]
        _works(base, first)

    for _ in range(2):
        with demo(env, port) as (base, again):
            assert again == first
            _works(base, again)
    assert _mode(kept) == 0o600
    assert len(await _keys_in(database_url)) == 2


async def test_a_revoked_demo_key_is_replaced_and_the_other_kept(
    database_url: str, tmp_path: Path
) -> None:
    env = environment(DATABASE_URL=database_url, CLAIMLEDGER_DATA_DIR=str(tmp_path / "data"))
    port = free_port()
    with demo(env, port) as (base, first):
        _works(base, first)
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            "UPDATE ledger.api_keys SET revoked_at = now() WHERE name = 'demo admin (make run)'"
        )
    finally:
        await connection.close()
    kept = _only_file(tmp_path, "demo-keys-*.json")
    kept.chmod(0o644)

    with demo(env, port) as (base, second):
        assert second.editor == first.editor
        assert second.admin != first.admin
        _works(base, second)
    assert second.admin in kept.read_text()
    assert first.admin not in kept.read_text()
    assert _mode(kept) == 0o600


def _log_key(base: str) -> str:
    """The transparency log's verifier key, once it has signed a checkpoint with it."""
    checkpoint = anyio.from_thread.run(signed_checkpoint, base)
    key = httpx.get(f"{base}/v1/log/key", timeout=10)
    assert key.status_code == 200, key.text
    verifier = NoteVerifier.parse(key.text.strip())
    assert parse_checkpoint(verifier.verify(checkpoint)).size > 0
    return verifier.verifier_key


async def test_demo_keys_with_the_embedded_server(tmp_path: Path) -> None:
    # A coroutine driving the processes from a thread, so that the thread may wait on the loop.
    await anyio.to_thread.run_sync(_with_the_embedded_server, tmp_path)


def _with_the_embedded_server(tmp_path: Path) -> None:
    data_dir = tmp_path / "ledger-data"
    env = environment(
        DATABASE_URL=None,
        CLAIMLEDGER_DATA_DIR=str(data_dir),
        CLAIMLEDGER_LOG_KEY_FILE=None,
        CLAIMLEDGER_LOG_KEY_SEED=None,
        CLAIMLEDGER_CHECKPOINT_SECONDS="0.5",
    )
    port = free_port()

    with demo(env, port) as (base, first):
        _works(base, first)
        kept = data_dir / "demo-keys.json"
        assert _mode(kept) == 0o600
        # The log's key is made at the first start, kept beside them, and signs checkpoints.
        assert _mode(data_dir / "log-key.pem") == 0o600
        log_key = _log_key(base)
        # A second start on the busy port joins the embedded server and leaves it running.
        _fails_in_one_line(_busy_start(env, port), port)
        _works(base, first)

    for _ in range(2):
        with demo(env, port) as (base, again):
            assert again == first
            _works(base, again)
            assert _log_key(base) == log_key
    assert _mode(kept) == 0o600


def test_a_busy_port_fails_before_the_database_is_asked(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        # Nothing answers there: a start that asked the database first would fail otherwise.
        env = environment(
            DATABASE_URL=f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere",
            CLAIMLEDGER_DATA_DIR=str(tmp_path / "data"),
        )
        _fails_in_one_line(_busy_start(env, port), port)
    assert not tmp_path.joinpath("data").exists()
    assert not list(tmp_path.glob("demo-keys*"))


def test_a_busy_port_leaves_a_new_embedded_data_directory_untouched(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        env = environment(DATABASE_URL=None, CLAIMLEDGER_DATA_DIR=str(tmp_path / "data"))
        _fails_in_one_line(_busy_start(env, port), port)
    assert not tmp_path.joinpath("data").exists()
