"""Connections: the asyncpg pools and the connection settings of the event store."""

from __future__ import annotations

from psycopg.conninfo import conninfo_to_dict

from claimledger.store.db import Connection, Pool, connect, create_pool

__all__ = ["Connection", "Pool", "connect", "create_pool", "event_store_env"]


def event_store_env(url: str, *, pool_size: int) -> dict[str, str]:
    """The eventsourcing library's PostgreSQL settings for the database at ``url``."""
    info = conninfo_to_dict(url)
    return {
        "POSTGRES_DBNAME": str(info.get("dbname") or "postgres"),
        "POSTGRES_HOST": str(info.get("host") or "localhost"),
        "POSTGRES_PORT": str(info.get("port") or "5432"),
        "POSTGRES_USER": str(info.get("user") or "postgres"),
        "POSTGRES_PASSWORD": str(info.get("password") or ""),
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_MAX_OVERFLOW": "0",
        # How long a command waits for a connection. The thread limiter keeps the pool from
        # running short, so this is only ever a wait for a new connection: a second is plenty
        # for a server that answers, and a command against a lost one answers 503 that soon.
        "POSTGRES_CONNECT_TIMEOUT": "1",
        "POSTGRES_PRE_PING": "y",
        "APPLICATION_RECORDER_TOPIC": "claimledger.store.recorder:ChunkedApplicationRecorder",
    }
