"""The bridge from async handlers to the synchronous ledger.

Commands run in worker threads behind a limiter sized to the event store's connection pool, so no
thread ever waits for a connection while holding a slot. The lookups a command needs first are
made here, each in one query, on the asyncpg pool.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from typing import Any, TypeVar
from uuid import UUID

import anyio
from anyio import CapacityLimiter

from claimledger.domain.errors import UnknownReference
from claimledger.domain.ledger import Ledger
from claimledger.domain.receipts import Receipt, StatementRequest
from claimledger.domain.statement import Statement, statement_id_for
from claimledger.runtime.group_commit import GroupCommit
from claimledger.store import events
from claimledger.store.db import DatabaseUnavailable, Pool

T = TypeVar("T")
log = logging.getLogger("claimledger.writer")
# A replaced ledger is closed this much later, when the commands that were using it are done.
_RETIRE_AFTER_SECONDS = 30.0


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
        self.group = GroupCommit(self._save_apart)

    async def run(self, command: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if not self._available():
            raise DatabaseUnavailable("the database is out of reach; retry shortly")
        return await anyio.to_thread.run_sync(
            partial(command, *args, **kwargs), limiter=self._limiter
        )

    async def record_statement(self, request: StatementRequest, *, recorded_by: UUID) -> Receipt:
        """Record one statement, saved together with those recorded at the same time (see
        ``runtime.group_commit``); its receipt, with its position."""
        prepared = await self._prepared_here(request, recorded_by)
        if prepared is None:
            prepared = await self.run(
                self.ledger.prepare_statement, request, recorded_by=recorded_by
            )
        if isinstance(prepared, Receipt):
            return await self.positioned(prepared)
        return await self.positioned(await self.group.save(request, prepared))

    async def _prepared_here(
        self, request: StatementRequest, recorded_by: UUID
    ) -> Receipt | Statement | None:
        """The statement, built on the event loop when that needs no database but the lookup
        made here: without an Idempotency-Key, a statement needs only its claim's incident and
        its sources known to exist. None when the ledger's own lookups are needed (in a thread):
        a key to look up, or an id not found."""
        if request.idempotency_key is not None or not self._available():
            return None
        draft = request.draft
        sources = {s for s in (draft.source_id, draft.via_source_id) if s is not None}
        known = self.ledger.known
        claims, unknown_sources = known.unknown(request.claim_id, sources)
        if claims or unknown_sources:
            await self.warm(claims, unknown_sources)
            if any(known.unknown(request.claim_id, sources)):
                return None
        # (Were the ledger's memory of ids emptied just now, as it is once it holds 200,000, the
        # ledger would look the id up itself, here: correct, once in a long while slower.)
        return self.ledger.prepare_statement(request, recorded_by=recorded_by)

    async def _save_apart(
        self, prepared: list[tuple[StatementRequest, Statement]]
    ) -> list[Receipt | Exception]:
        return await self.run(self.ledger.save_statements_apart, prepared)

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

    async def positioned(self, receipt: Receipt) -> Receipt:
        """The receipt with its position; a replayed write's is the one its first attempt got."""
        if receipt.position is not None:
            return receipt
        return replace(receipt, position=await events.position_of(self._pool, receipt.id))

    async def warm(self, claim_ids: set[UUID], source_ids: set[UUID]) -> None:
        """Tell the ledger which of these ids exist, in one query instead of one per id."""
        if not claim_ids and not source_ids:
            return
        claims, sources = await events.claims_and_sources(self._pool, claim_ids | source_ids)
        self.ledger.known.remember(claims=claims, sources=sources)

    async def unrecorded(self, requests: list[StatementRequest]) -> set[UUID]:
        """The ids of keyed statements not in the store yet, found in one query."""
        ids = {
            statement_id_for(r.idempotency_key) for r in requests if r.idempotency_key is not None
        }
        return ids - await events.existing(self._pool, ids)

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
        receipts = await self.run(
            self.ledger.record_statements, requests, recorded_by=recorded_by, unrecorded=unrecorded
        )
        return [await self.positioned(receipt) for receipt in receipts]

    async def require_incidents(self, incident_ids: Sequence[UUID], *, field: str) -> None:
        """Refuse the first of these ids that names no incident in the ledger."""
        found = await events.existing(self._pool, incident_ids, topic=events.INCIDENT_OPENED)
        for index, incident_id in enumerate(incident_ids):
            if incident_id not in found:
                raise UnknownReference("incident", incident_id, field=f"{field}[{index}]")
