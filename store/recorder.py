"""The event store's PostgreSQL recorder: large batches in several statements, one attempt each.

psycopg's pipeline mode stalls when one statement's parameters outgrow the socket buffer of a
Unix-domain connection (the embedded server's): a batch of about 700 statements never returns.
The library inserts a whole batch as one array parameter; this recorder sends it in chunks, in
the same pipeline and transaction, after the same table lock, so positions stay in commit order.

The library also tries every read and write ten times, each after waiting for a connection as
long as its pool allows: against a lost database a request would hang for minutes. This recorder
tries once; the request answers 503 and its client retries (a write with its Idempotency-Key).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import Cursor
from psycopg.rows import DictRow

CHUNK = 200
# The chunks' cursors, from the insert to the fetch of their positions, in the writing thread.
_pending = threading.local()


def _once(method: Callable[..., Any]) -> Callable[..., Any]:
    """The library's method without its retry decorator."""
    inner: Callable[..., Any] = getattr(method, "__wrapped__", method)
    return inner


class ChunkedApplicationRecorder(PostgresApplicationRecorder):
    """Inserts at most ``CHUNK`` events per statement, one cursor per statement."""

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
        if len(stored_events) <= CHUNK:
            super()._insert_stored_events(curs, stored_events, **kwargs)
            return
        self._lock_table(curs)
        self._notify_channel(curs)
        _pending.cursors = []
        for start in range(0, len(stored_events), CHUNK):
            chunk = stored_events[start : start + CHUNK]
            cursor = curs.connection.cursor()
            cursor.execute(
                self.insert_events_statement,
                (
                    [
                        self.construct_pg_stored_event(
                            e.originator_id, e.originator_version, e.topic, e.state
                        )
                        for e in chunk
                    ],
                ),
            )
            _pending.cursors.append(cursor)

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if len(stored_events) <= CHUNK:
            return super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        ids: list[int] = []
        cursors: list[Cursor[DictRow]] = _pending.cursors
        _pending.cursors = []
        for cursor in cursors:
            ids.extend(row["notification_id"] for row in cursor.fetchall())
            cursor.close()
        return ids
