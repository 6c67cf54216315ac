"""Group commit: single statements that wait for the event store at the same time are saved
together, in one transaction, each still answered with its own receipt or error.

The event store appends under a table lock, one transaction at a time, so concurrent requests
saved one by one queue behind each other. Here the first to arrive saves at once; those that
arrive while a save is under way are saved together by the next one, whatever their number.
A lone request waits for nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio

from claimledger.domain.receipts import Receipt, StatementRequest
from claimledger.domain.statement import Statement

Prepared = list[tuple[StatementRequest, Statement]]
SaveApart = Callable[[Prepared], Awaitable[list[Receipt | Exception]]]


@dataclass(eq=False, slots=True)
class _Waiting:
    request: StatementRequest
    statement: Statement
    outcome: Receipt | Exception | None = None


class GroupCommit:
    """Saves prepared statements in groups with ``save_apart`` (see
    ``Ledger.save_statements_apart``), one group at a time."""

    def __init__(self, save_apart: SaveApart) -> None:
        self._save_apart = save_apart
        self._pending: list[_Waiting] = []
        self._saving = False
        self._saved = anyio.Event()
        # The size of every group saved so far, newest last (a few hundred kept).
        self.group_sizes: list[int] = []

    async def save(self, request: StatementRequest, statement: Statement) -> Receipt:
        waiting = _Waiting(request, statement)
        self._pending.append(waiting)
        while waiting.outcome is None:
            if self._saving:
                await self._saved.wait()
            else:
                await self._save_pending()
        if isinstance(waiting.outcome, Exception):
            raise waiting.outcome
        return waiting.outcome

    async def _save_pending(self) -> None:
        group, self._pending = self._pending, []
        self._saving = True
        try:
            # Shielded: once saved, every request of the group must learn its outcome, even
            # when the one that saved it is being cancelled.
            with anyio.CancelScope(shield=True):
                try:
                    outcomes = await self._save_apart([(w.request, w.statement) for w in group])
                except Exception as error:
                    outcomes = [error] * len(group)
            for waiting, outcome in zip(group, outcomes, strict=True):
                waiting.outcome = outcome
            self.group_sizes.append(len(group))
            if len(self.group_sizes) > 500:
                del self.group_sizes[:250]
        finally:
            self._saving = False
            saved, self._saved = self._saved, anyio.Event()
            saved.set()
