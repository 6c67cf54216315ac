"""The bridge from async handlers to the synchronous ledger application.

Commands run in worker threads behind a limiter sized to the event store's connection pool, so no
thread ever waits for a connection while holding a slot.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import timedelta
from functools import partial
from typing import Any, TypeVar
from uuid import UUID

import anyio
from anyio import CapacityLimiter

from claimledger.api.schemas import Written
from claimledger.domain.claim import ClaimAdded
from claimledger.domain.errors import UnknownReference
from claimledger.domain.incident import IncidentOpened
from claimledger.domain.ledger import EVENT_SCHEMA, EVENT_TABLE, Ledger, Receipt, StatementRequest
from claimledger.domain.source import SourceRegistered
from claimledger.domain.statement import statement_id_for
from claimledger.store.codec import stored_topic
from claimledger.store.db import DatabaseUnavailable
from claimledger.store.eventstore import Pool, event_store_env

T = TypeVar("T")
log = logging.getLogger("claimledger.writer")
# A replaced ledger is closed this much later, when the commands that were using it are done.
_RETIRE_AFTER_SECONDS = 30.0
CLAIM_ADDED = stored_topic(ClaimAdded)
INCIDENT_OPENED = stored_topic(IncidentOpened)
SOURCE_REGISTERED = stored_topic(SourceRegistered)


def open_ledger(url: str, *, pool_size: int, clock_skew_seconds: float) -> Ledger:
    return Ledger(
        event_store_env(url, pool_size=pool_size),
        clock_skew=timedelta(seconds=clock_skew_seconds),
    )


class Writer:
    """Runs ledger commands off the event loop and completes their receipts.

    ``available`` says whether the database answers (a watcher's view); while it does not,
    commands fail at once with ``DatabaseUnavailable`` instead of waiting for connections.
    """

    def __init__(
        self,
        ledger: Ledger,
        pool: Pool,
        *,
        threads: int,
        available: Callable[[], bool] = lambda: True,
        reopen: Callable[[], Ledger] | None = None,
    ) -> None:
        self.ledger = ledger
        self._pool = pool
        self._limiter = CapacityLimiter(threads)
        self._available = available
        self._reopen = reopen

    async def run(self, command: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if not self._available():
            raise DatabaseUnavailable("the database is out of reach; retry shortly")
        return await anyio.to_thread.run_sync(
            partial(command, *args, **kwargs), limiter=self._limiter
        )

    async def reopen(self) -> None:
        """A fresh ledger (with a fresh connection pool) after the database came back.

        The event store's pool waits longer and longer between attempts while the server is
        away; a new one connects at once. The old ledger is closed once its commands are done.
        """
        if self._reopen is None:
            return
        old, self.ledger = self.ledger, await anyio.to_thread.run_sync(self._reopen)
        log.info("the event store's connections were renewed")
        closing = threading.Timer(_RETIRE_AFTER_SECONDS, old.close)
        closing.daemon = True
        closing.start()

    async def close(self) -> None:
        await anyio.to_thread.run_sync(self.ledger.close)

    async def written(self, receipt: Receipt) -> Written:
        return Written(
            id=receipt.id, position=await self.position(receipt), recorded_at=receipt.recorded_at
        )

    async def position(self, receipt: Receipt) -> int:
        """The position of a receipt; a replayed write looks up the one its first attempt got."""
        if receipt.position is not None:
            return receipt.position
        return await self.position_of(receipt.id)

    async def warm(self, claim_ids: set[UUID], source_ids: set[UUID]) -> None:
        """Tell the ledger which of these ids exist, in one query instead of one per id."""
        if not claim_ids and not source_ids:
            return
        rows = await self._pool.fetch(
            "SELECT originator_id, topic,"  # noqa: S608
            " (convert_from(state, 'UTF8')::jsonb ->> 'incident_id')::uuid AS incident_id"
            f" FROM {EVENT_SCHEMA}.{EVENT_TABLE}"
            " WHERE originator_id = ANY($1::uuid[]) AND originator_version = 1",
            list(claim_ids | source_ids),
        )
        self.ledger.remember(
            claims={
                r["originator_id"]: r["incident_id"] for r in rows if r["topic"] == CLAIM_ADDED
            },
            sources={r["originator_id"] for r in rows if r["topic"] == SOURCE_REGISTERED},
        )

    async def unrecorded(self, requests: list[StatementRequest]) -> set[UUID]:
        """The ids of keyed statements not in the store yet, found in one query."""
        ids = {
            statement_id_for(r.idempotency_key) for r in requests if r.idempotency_key is not None
        }
        if not ids:
            return set()
        found = await self._pool.fetch(
            f"SELECT originator_id FROM {EVENT_SCHEMA}.{EVENT_TABLE}"  # noqa: S608
            " WHERE originator_id = ANY($1::uuid[]) AND originator_version = 1",
            list(ids),
        )
        return ids - {row["originator_id"] for row in found}

    async def record_statements(
        self, requests: list[StatementRequest], *, recorded_by: UUID
    ) -> list[Receipt]:
        """Record a batch, with the lookups it needs made first, each in one query."""
        await self.warm(
            {r.claim_id for r in requests},
            {r.draft.source_id for r in requests}
            | {r.draft.via_source_id for r in requests if r.draft.via_source_id},
        )
        unrecorded = await self.unrecorded(requests)
        return await self.run(
            self.ledger.record_statements, requests, recorded_by=recorded_by, unrecorded=unrecorded
        )

    async def require_incidents(self, incident_ids: Sequence[UUID], *, field: str) -> None:
        """Refuse the first of these ids that names no incident in the ledger."""
        found = {
            row["originator_id"]
            for row in await self._pool.fetch(
                f"SELECT originator_id FROM {EVENT_SCHEMA}.{EVENT_TABLE}"  # noqa: S608
                " WHERE originator_id = ANY($1::uuid[]) AND originator_version = 1"
                " AND topic = $2",
                list(incident_ids),
                INCIDENT_OPENED,
            )
        }
        for index, incident_id in enumerate(incident_ids):
            if incident_id not in found:
                raise UnknownReference("incident", incident_id, field=f"{field}[{index}]")

    async def written_all(self, receipts: list[Receipt]) -> list[Written]:
        return [await self.written(receipt) for receipt in receipts]

    async def position_of(self, aggregate_id: UUID, version: int = 1) -> int:
        position = await self._pool.fetchval(
            f"SELECT notification_id FROM {EVENT_SCHEMA}.{EVENT_TABLE}"  # noqa: S608
            " WHERE originator_id = $1 AND originator_version = $2",
            aggregate_id,
            version,
        )
        assert isinstance(position, int)
        return position
