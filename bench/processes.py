"""Child processes and the database: a fresh database per run, servers started as a user would.

Every wait here is bounded; every process started is stopped (SIGTERM, then SIGKILL) on the way
out, and the run's database is dropped even when the run fails.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

import anyio
import httpx
import msgspec
import psutil
from psycopg.conninfo import make_conninfo

ROOT = Path(__file__).resolve().parents[1]
LOCAL_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


class BenchError(RuntimeError):
    """A step of the benchmark failed; the message says which and shows its output."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _answers(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError:
        return False
    return True


@contextmanager
def postgres_server(data_dir: Path | None = None) -> Iterator[str]:
    """A URL of a PostgreSQL server's maintenance database: DATABASE_URL, the local server on
    127.0.0.1:5432, or the embedded one (started in a temporary directory)."""
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    if _answers("127.0.0.1", 5432):
        yield LOCAL_URL
        return
    from claimledger.runtime.embedded import embedded_postgres

    with (
        tempfile.TemporaryDirectory(prefix="claimledger-bench-pg-") as scratch,
        embedded_postgres(data_dir or Path(scratch) / "pgdata") as url,
    ):
        yield url


def with_dbname(url: str, dbname: str) -> str:
    """``url`` naming database ``dbname`` instead (a postgresql:// URL or a libpq string)."""
    if "://" in url:
        parts = urlsplit(url)
        return urlunsplit(parts._replace(path="/" + dbname))
    return make_conninfo(url, dbname=dbname)


async def _admin(url: str, sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url, timeout=10)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """Create ``claimledger_bench_<random hex>``; drop it (WITH (FORCE)) when the block ends."""
    name = f"claimledger_bench_{secrets.token_hex(6)}"
    assert re.fullmatch(r"[a-z0-9_]+", name)
    anyio.run(_admin, server_url, f'CREATE DATABASE "{name}"')
    try:
        yield with_dbname(server_url, name)
    finally:
        for _ in range(3):
            try:
                anyio.run(_admin, server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                break
            except Exception as error:  # dropping must not hide the run's own failure
                print(f"bench: dropping {name} failed ({error!r}); retrying", file=sys.stderr)
                time.sleep(1)


def cli(args: Sequence[str], *, timeout: float, env: dict[str, str] | None = None) -> str:
    """Run ``claimledger ARGS`` (``python -m claimledger.cli``) to completion; its output."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "claimledger.cli", *args],
            cwd=ROOT,
            env=env or dict(os.environ),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise BenchError(f"claimledger {args[0]} took over {timeout:.0f} s") from error
    if done.returncode != 0:
        raise BenchError(
            f"claimledger {' '.join(args[:2])} failed ({done.returncode}):\n"
            f"{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
        )
    return done.stdout


def cli_json(
    args: Sequence[str], *, timeout: float, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run a command with ``--json``; the object it reports."""
    out = cli([*args, "--json"], timeout=timeout, env=env)
    try:
        report: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise BenchError(f"cannot read the report of {args[0]}: {out!r}") from None
    return report


def run_module(
    module: str, job: dict[str, Any], *, timeout: float, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run ``python -m MODULE`` with ``job`` as JSON on standard input; its JSON answer."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", module],
            cwd=ROOT,
            input=msgspec.json.encode(job),
            capture_output=True,
            timeout=timeout,
            check=False,
            env=env,
        )
    except subprocess.TimeoutExpired as error:
        raise BenchError(f"{module} {job.get('kind')} took over {timeout:.0f} s") from error
    if done.returncode != 0:
        raise BenchError(
            f"{module} failed ({done.returncode}):\n{done.stderr.decode(errors='replace')[-4000:]}"
        )
    result: dict[str, Any] = msgspec.json.decode(done.stdout)
    return result


class Server:
    """A long-running child process with a log file: ``claimledger serve`` or the bare app."""

    def __init__(self, name: str, argv: Sequence[str], *, env: dict[str, str], log_dir: Path):
        self.name = name
        self.argv = list(argv)
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.argv, cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT
        )

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def wait_healthy(self, port: int, *, timeout: float = 60.0) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.process.poll() is not None:
                raise BenchError(f"{self.name} exited early:\n{self.log_tail()}")
            time.sleep(0.1)
        raise BenchError(f"{self.name} did not answer /health within {timeout:.0f} s")

    def wait_for_log(self, text: str, *, timeout: float = 60.0) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log_tail(100_000):
                return
            if self.process.poll() is not None:
                raise BenchError(f"{self.name} exited early:\n{self.log_tail()}")
            time.sleep(0.1)
        raise BenchError(f"{self.name} did not log {text!r} within {timeout:.0f} s")

    def status(self) -> dict[str, int]:
        """VmRSS and VmHWM in kB, summed over the process and every process it started (``serve``
        runs its projector and dispatcher in processes of their own), how many there are, and
        each one's VmRSS (as ``VmRSS <role>``, the role its command line names, else ``main``)."""
        values = {"VmRSS": 0, "VmHWM": 0, "processes": 0}
        try:
            root = psutil.Process(self.pid)
            tree = [root, *root.children(recursive=True)]
        except psutil.Error:
            return values
        for process in tree:
            try:
                with open(f"/proc/{process.pid}/status") as status:
                    for line in status:
                        name, _, rest = line.partition(":")
                        if name in ("VmRSS", "VmHWM"):
                            values[name] += int(rest.split()[0])
                        if name == "VmRSS":
                            own = f"VmRSS {_role(process)}"
                            values[own] = values.get(own, 0) + int(rest.split()[0])
            except OSError:
                continue
            values["processes"] += 1
        return values

    def stop(self, *, timeout: float = 30.0) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None


def serve_argv(url: str, port: int, role: str = "all") -> list[str]:
    argv = [
        sys.executable,
        "-m",
        "claimledger.cli",
        "serve",
        "--database-url",
        url,
        "--port",
        str(port),
    ]
    if role != "all":
        argv += ["--role", role]
    return argv


def bare_argv(url: str, port: int) -> list[str]:
    return [sys.executable, "-m", "bench.bare", "--database-url", url, "--port", str(port)]


def _role(process: psutil.Process) -> str:
    try:
        argv = process.cmdline()
    except psutil.Error:
        return "main"
    return argv[argv.index("--role") + 1] if "--role" in argv[:-1] else "main"
