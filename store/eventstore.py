"""The event store: the ledger application configured for PostgreSQL.

The domain's ``Ledger`` says nothing of where its events go; this is where it is told: the
library's PostgreSQL module on the event table of ``store.events``, our msgspec mapper and our
recorder, a connection pool, and tables made by our migrations, never by the library.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from psycopg.conninfo import conninfo_to_dict

from claimledger.domain.ledger import Ledger
from claimledger.store.events import EVENT_SCHEMA
from claimledger.store.metrics import watch_pool


def event_store_env(url: str, *, pool_size: int) -> dict[str, str]:
    """The eventsourcing library's settings for the PostgreSQL database at ``url``."""
    info = conninfo_to_dict(url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_SCHEMA": EVENT_SCHEMA,
        # Tables are created by our own migrations, never implicitly.
        "CREATE_TABLE": "n",
        "MAPPER_TOPIC": "claimledger.store.codec:MsgspecMapper",
        "APPLICATION_RECORDER_TOPIC": "claimledger.store.recorder:ChunkedApplicationRecorder",
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
    }


def open_ledger(url: str, *, pool_size: int, clock_skew_seconds: float) -> Ledger:
    """A ledger whose events are kept in the PostgreSQL database at ``url``; its connection
    pool is reported in ``/metrics`` as ``events``."""
    ledger = Ledger(
        event_store_env(url, pool_size=pool_size),
        clock_skew=timedelta(seconds=clock_skew_seconds),
    )
    factory: Any = ledger.factory  # the PostgreSQL module's, which has a datastore
    watch_pool(factory.datastore.pool, "events", _psycopg_use)
    return ledger


def _psycopg_use(pool: Any) -> tuple[int, int] | None:
    if pool.closed:
        return None
    stats = pool.get_stats()
    return stats["pool_size"] - stats["pool_available"], pool.max_size
