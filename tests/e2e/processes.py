"""Run the real command line in child processes, with bounded waits."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from claimledger.transparency.notes import parse_checkpoint
from tests.helpers import eventually

ROOT = Path(__file__).parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def environment(**overrides: str | None) -> dict[str, str]:
    env = dict(os.environ)
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def completed(
    args: Sequence[str],
    *,
    env: dict[str, str],
    timeout: float = 120,
    python: Sequence[str] = ("-m", "claimledger.cli"),
) -> subprocess.CompletedProcess[str]:
    """Run one command to completion (``python`` says how: the command line by default),
    whatever its exit code."""
    return subprocess.run(
        [sys.executable, *python, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def claimledger(args: Sequence[str], *, env: dict[str, str], timeout: float = 120) -> str:
    """Run one command to completion; its standard output, or a failure showing both streams."""
    done = completed(args, env=env, timeout=timeout)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@dataclass
class Running:
    """A child process of the command line; ``output`` is filled in when it has stopped."""

    process: subprocess.Popen[str]
    log: IO[str]
    output: str = ""


@contextmanager
def running(args: Sequence[str], *, env: dict[str, str]) -> Iterator[Running]:
    """``claimledger <args>`` until the block ends; then stopped, with its output kept."""
    with tempfile.TemporaryFile("w+") as log:
        child = Running(
            subprocess.Popen(
                [sys.executable, "-m", "claimledger.cli", *args],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
            ),
            log,
        )
        try:
            yield child
        finally:
            stop(child.process)
            log.seek(0)
            child.output = log.read()


@contextmanager
def serving(args: Sequence[str], *, env: dict[str, str], port: int) -> Iterator[str]:
    """``claimledger serve`` on ``port`` until the block ends; yields its base URL."""
    with running(["serve", "--port", str(port), *args], env=env) as child:
        yield _wait_until_healthy(child.process, port, child.log)


def printed(child: Running) -> str:
    """What a running child has written so far (read without moving the offset it writes at)."""
    log = child.log.fileno()
    return os.pread(log, os.fstat(log).st_size, 0).decode()


def wait_until_healthy(child: Running, port: int) -> str:
    """The base URL of a running ``serve`` once it answers ``/health``."""
    return _wait_until_healthy(child.process, port, child.log)


def _wait_until_healthy(process: subprocess.Popen[str], port: int, log: IO[str]) -> str:
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return base
        except httpx.TransportError:
            pass
        try:
            process.wait(timeout=0.1)
        except subprocess.TimeoutExpired:
            continue
        log.seek(0)
        raise AssertionError(f"serve exited early:\n{log.read()}")
    raise AssertionError("serve did not answer /health within 60 s")


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def post(base: str, path: str, body: dict[str, object], key: str) -> dict[str, object]:
    """A write that must answer 201; its body."""
    response = httpx.post(
        f"{base}{path}", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30
    )
    assert response.status_code == 201, response.text
    answer: dict[str, object] = response.json()
    return answer


async def signed_checkpoint(base: str, larger_than: int = 0) -> str:
    """The latest checkpoint note of the ledger at ``base``, once one covers more than
    ``larger_than`` leaves (30 s at most)."""
    found: list[str] = []

    async def covers() -> bool:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(f"{base}/v1/log/checkpoint")
        if response.status_code != 200:
            return False
        found[:] = [response.text]
        return parse_checkpoint(response.text.split("\n\n")[0] + "\n").size > larger_than

    await eventually(covers, what=f"a checkpoint over {larger_than} leaves")
    return found[0]
