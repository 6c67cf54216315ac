"""The event store's PostgreSQL recorder: events as four plain arrays, large batches in several
statements, one attempt each.

The library inserts a batch as one array of a composite type, which psycopg encodes in Python,
value by value (about 15 % of an import's time); this recorder passes four arrays (ids,
versions, topics, states as bytea) in binary form, which psycopg writes without quoting each
value as text (a fifth of an import's CPU), and the server unnests them side by side.

psycopg's pipeline mode stalls when one statement's parameters outgrow the socket buffer of a
Unix-domain connection (the embedded server's): a batch of about 700 statements never returns.
This recorder sends a large batch in chunks, in the same pipeline and transaction, after the
same table lock, so positions stay in commit order.

The library also tries every read and write ten times, each after waiting for a connection as
long as its pool allows: against a lost database a request would hang for minutes. This recorder
tries once; the request answers 503 and its client retries (a write with its Idempotency-Key).

Within ``keeping_moments()``, a thread's saves refuse, under the table lock, events stamped before
the newest stamp the table holds: an archive import checks that before each batch, and this check
holds it while other writers go on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import msgspec
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from claimledger.domain.archive import refuse_before

CHUNK = 200
# The chunks' cursors, from the insert to the fetch of their positions, in the writing thread.
_pending = threading.local()
# Whether the writing thread's saves keep archive moments (see the module).
_keeping = threading.local()
# The newest stamp is looked for among this many of the newest events (see domain.archive).
_NEWEST = 1000
T = TypeVar("T")


class _Stamp(msgspec.Struct):
    timestamp: datetime


_stamp = msgspec.json.Decoder(_Stamp)


@contextmanager
def keeping_moments() -> Iterator[None]:
    """This thread's saves in the block refuse events stamped before the table's newest."""
    _keeping.on = True
    try:
        yield
    finally:
        _keeping.on = False


def keeping(command: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``command(*args, **kwargs)`` with its saves keeping moments."""
    with keeping_moments():
        return command(*args, **kwargs)


def _once(method: Callable[..., Any]) -> Callable[..., Any]:
    """The library's method without its retry decorator."""
    inner: Callable[..., Any] = getattr(method, "__wrapped__", method)
    return inner


class ChunkedApplicationRecorder(PostgresApplicationRecorder):
    """Inserts at most ``CHUNK`` events per statement, one cursor per statement."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.insert_arrays_statement = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state)"
            " SELECT * FROM unnest(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[])"
            " RETURNING notification_id"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        result: Sequence[int] | None = _once(PostgresApplicationRecorder.insert_events)(
            self, stored_events, **kwargs
        )
        return result

    def select_events(self, originator_id: UUID | str, **kwargs: Any) -> Sequence[StoredEvent]:
        result: Sequence[StoredEvent] = _once(PostgresApplicationRecorder.select_events)(
            self, originator_id, **kwargs
        )
        return result

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        self._lock_table(curs)
        if getattr(_keeping, "on", False) and stored_events:
            self._refuse_earlier(curs, stored_events)
        self._notify_channel(curs)
        _pending.cursors = []
        for start in range(0, len(stored_events), CHUNK):
            chunk = stored_events[start : start + CHUNK]
            cursor = curs.connection.cursor()
            cursor.execute(
                self.insert_arrays_statement,
                (
                    [e.originator_id for e in chunk],
                    [e.originator_version for e in chunk],
                    [e.topic for e in chunk],
                    [e.state for e in chunk],
                ),
                prepare=True,
            )
            _pending.cursors.append(cursor)

    def _refuse_earlier(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent]) -> None:
        curs.execute(
            SQL(
                "SELECT max((convert_from(state, 'UTF8')::jsonb ->> 'timestamp')::timestamptz)"
                " AS latest FROM (SELECT state FROM {schema}.{table}"
                " ORDER BY notification_id DESC LIMIT %s) AS newest"
            ).format(
                schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name)
            ),
            (_NEWEST,),
        )
        row = curs.fetchone()
        latest = None if row is None else row["latest"]
        if latest is not None:
            refuse_before(min(_stamp.decode(e.state).timestamp for e in stored_events), latest)

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids: list[int] = []
        cursors: list[Cursor[DictRow]] = _pending.cursors
        _pending.cursors = []
        for cursor in cursors:
            ids.extend(row["notification_id"] for row in cursor.fetchall())
            cursor.close()
        return ids
