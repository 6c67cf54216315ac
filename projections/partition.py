"""One part of a parallel rebuild: the events of the incidents whose id falls in this part.

The views of different incidents are independent: an incident's revisions, claims, verdicts,
statements, withdrawals, status history, headline and outbox entries depend on nothing of
another incident's. What they share are sources: every part learns every source's name (the
reasons quote it), and part 0 alone writes the sources and their ratings. A verdict goes to the
part of its claim's incident, a withdrawal to the part of its statement's.

Each part reads the whole store in position order and applies its own events in transactions
of its own, without moving the tracking position: the caller sets it once every part is done
(``projections.parts``). Each transaction first checks that the caller still holds the
projector's lock. Run as ``python -m claimledger.projections.partition URL PART PARTS HEAD BATCH
OWNER`` (OWNER: the server process id of the lock's holder); it prints the position
it has reached after each batch, one line each.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from functools import partial
from typing import Any
from uuid import UUID

import anyio

from claimledger.projections import garbage
from claimledger.projections.batch import Positioned, apply_batch
from claimledger.projections.decoding import (
    ClaimAdded,
    ClaimVerdictGiven,
    EventDecoder,
    IncidentOpened,
    IncidentRevised,
    SourceRated,
    SourceRegistered,
    StatementRecorded,
    StatementWithdrawn,
)
from claimledger.projections.memory import Memory
from claimledger.projections.parts import still_held_by
from claimledger.projections.skipped import record_skipped
from claimledger.store.db import CONNECTION_ERRORS, Connection, close, connect, is_deterministic
from claimledger.store.events import EVENTS_BETWEEN

log = logging.getLogger("claimledger.rebuild")


def part_of(incident_id: UUID, parts: int) -> int:
    return incident_id.int % parts


class Partition:
    """Which events belong to one part, and what later events are routed by."""

    def __init__(self, part: int, parts: int) -> None:
        self.part = part
        self.parts = parts
        # All the claims of this part, kept: reading one back would read the sources' rows,
        # which part 0 writes, and which may not be there yet.
        self.memory = Memory()
        self.sources: dict[UUID, tuple[UUID, str]] = {}
        self._claim_part: dict[UUID, int] = {}
        # The statements of this part (as integers: a rebuild may hold millions).
        self._statements: set[int] = set()

    def takes(self, event: Any) -> bool:
        match event:
            case SourceRegistered():
                self.memory.name_source(event.originator_id, event.name)
                self.sources[event.originator_id] = self.memory.source(event.originator_id)
                return self.part == 0
            case IncidentOpened() | IncidentRevised():
                return part_of(event.originator_id, self.parts) == self.part
            case ClaimAdded():
                part = self._claim_part[event.originator_id] = part_of(
                    event.incident_id, self.parts
                )
                return part == self.part
            case ClaimVerdictGiven():
                return self._claim_part.get(event.originator_id) == self.part
            case StatementRecorded():
                if part_of(event.incident_id, self.parts) != self.part:
                    return False
                self._statements.add(event.originator_id.int)
                return True
            case StatementWithdrawn():
                return event.originator_id.int in self._statements
            case SourceRated():
                return self.part == 0
        return self.part == 0

    def forget(self) -> None:
        """Drop the states a failed transaction changed; the sources' names stay known."""
        self.memory.forget()
        self.memory.sources.update(self.sources)


class Abandoned(Exception):
    """The caller no longer holds the projector's lock: this part must not write."""


async def rebuild_part(
    url: str,
    part: int,
    parts: int,
    head: int,
    batch_size: int,
    report: Callable[[int], None],
    *,
    owner: int,
) -> None:
    """Apply this part's events up to ``head``, reporting the position after each batch, while
    the connection ``owner`` holds the projector's lock."""
    db = await connect(url)
    try:
        # A replay that dies is run again: its batches need not wait for the disk.
        await db.execute("SET synchronous_commit = off")
        partition = Partition(part, parts)
        decode = EventDecoder().decode
        position = 0
        while position < head:
            rows = await db.fetch(EVENTS_BETWEEN, position, head, batch_size)
            if not rows:
                break
            mine = [
                (row, Positioned(row[0], event))
                for row in rows
                if partition.takes(event := decode(row[1], row[2], row[3], row[4]))
            ]
            await _apply(db, partition, mine, owner)
            garbage.between_batches()
            position = rows[-1][0]
            report(position)
    finally:
        await close(db)


async def _apply(
    db: Connection, partition: Partition, mine: list[tuple[Any, Positioned]], owner: int
) -> None:
    """One transaction; when it fails, one event a transaction, setting aside any that fails
    for a reason that would fail it again."""
    if not mine:
        return
    try:
        async with db.transaction():
            await _owned(db, owner)
            await apply_batch(db, partition.memory, [item for _, item in mine])
        return
    except (Abandoned, *CONNECTION_ERRORS):
        raise
    except Exception as error:
        partition.forget()
        log.warning("a batch of events failed (%s); applying them one by one", error)
    for row, item in mine:
        try:
            async with db.transaction():
                await _owned(db, owner)
                await apply_batch(db, partition.memory, [item])
        except (Abandoned, *CONNECTION_ERRORS):
            raise
        except Exception as error:
            partition.forget()
            if not is_deterministic(error):
                raise
            async with db.transaction():
                await _owned(db, owner)
                await record_skipped(db, row, error)


async def _owned(db: Connection, owner: int) -> None:
    if not await still_held_by(db, owner):
        raise Abandoned(f"the replay's caller (server process {owner}) no longer holds the lock")


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(name)s: %(message)s")
    url, part, parts, head, batch_size, owner = argv
    garbage.take_over()

    def report(position: int) -> None:
        sys.stdout.write(f"{position}\n")
        sys.stdout.flush()

    job = partial(rebuild_part, owner=int(owner))
    try:
        anyio.run(
            job,
            url,
            int(part),
            int(parts),
            int(head),
            int(batch_size),
            report,
            backend_options={"use_uvloop": True},
        )
    except Abandoned as error:
        log.warning("part %s stops: %s", part, error)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
