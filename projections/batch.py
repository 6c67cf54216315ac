"""One batch of events, turned into view rows and outbox entries, event by event.

``Batch.apply`` matches each event on its type and fills the rows of ``projections.rows``, which
alone writes SQL; a claim's state (``projections.history``) tells which statement changed its
status. The outbox entries are the Structs of ``projections.outbox``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from claimledger.domain.statement import StatementDraft
from claimledger.domain.status import UNVERIFIED, DerivedStatus
from claimledger.domain.values import Status, credibility_label
from claimledger.projections import outbox
from claimledger.projections.decoding import (
    ClaimAdded,
    ClaimVerdictGiven,
    IncidentOpened,
    IncidentRevised,
    SourceRated,
    SourceRegistered,
    StatementRecorded,
    StatementWithdrawn,
)
from claimledger.projections.history import ClaimState, Interval, StatementFact
from claimledger.projections.memory import Memory
from claimledger.projections.rows import (
    ClaimRow,
    ClaimStatus,
    Closed,
    IntervalRow,
    Move,
    OutboxRow,
    RatingRow,
    Revision,
    Rows,
    SourceRow,
    VerdictRow,
    Withdrawal,
    statement_row,
)
from claimledger.store.db import Connection

_Entry = (
    outbox.StatementRecorded
    | outbox.StatementWithdrawn
    | outbox.ClaimStatusChanged
    | outbox.ClaimVerdictChanged
    | outbox.IncidentOpened
)
_TYPE_OF = {struct: kind for kind, struct in outbox.CATALOGUE.items()}

# What a recorded statement says, by the names its event and its outbox entry share.
_SAID = ("claim_id", "incident_id", *StatementDraft.__dataclass_fields__)


@dataclass(frozen=True, slots=True)
class Positioned:
    """A decoded event and its position in the store."""

    position: int
    event: Any


async def apply_batch(db: Connection, memory: Memory, events: Sequence[Positioned]) -> int:
    """Write a batch to the views, inside the caller's transaction; how many outbox entries.

    ``memory`` holds the states the batch changes: when the transaction does not commit, the
    caller must forget it.
    """
    await memory.recall(db, (item.event for item in events))
    batch = Batch(memory)
    for item in events:
        batch.apply(item.position, item.event)
    rows = batch.finish()
    await rows.write(db)
    return len(rows.outbox)


class Batch:
    """The rows and outbox entries of a batch's events, applied in position order."""

    def __init__(self, memory: Memory) -> None:
        self.memory = memory
        self.rows = Rows()
        # Claims whose statements changed in this batch (or that are new): their history is
        # derived again and rewritten.
        self._restatused: set[UUID] = set()
        self._outbox_position = 0
        self._outbox_seq = 0

    def apply(self, position: int, event: object) -> None:
        match event:
            case StatementRecorded():
                self._recorded(position, event)
            case StatementWithdrawn():
                self._withdrawn(position, event)
            case SourceRegistered():
                self.memory.name_source(event.originator_id, event.name)
                self.rows.sources.append(
                    SourceRow(
                        id=event.originator_id,
                        name=event.name,
                        kind=event.kind.value,
                        affiliation=event.affiliation,
                        channels=list(event.channels),
                        url=event.url,
                        reliability="F",
                        recorded_at=event.timestamp,
                        position=position,
                    )
                )
            case SourceRated():
                self.rows.ratings.append(
                    RatingRow(
                        source_id=event.originator_id,
                        position=position,
                        reliability=event.reliability.value,
                        rationale=event.rationale,
                        recorded_at=event.timestamp,
                        recorded_by=event.recorded_by,
                    )
                )
            case IncidentOpened():
                revision = _revision(position, event)
                self.rows.revisions.append(revision)
                self.rows.opened.append(revision)
                # The entry shows the incident as its first revision describes it.
                self._announce(msgspec.convert(revision._asdict(), outbox.IncidentOpened))
            case IncidentRevised():
                self.rows.revisions.append(_revision(position, event))
                self.rows.revised[event.originator_id] = position
            case ClaimAdded():
                self._claim_added(position, event)
            case ClaimVerdictGiven():
                self._verdict(position, event)

    def _claim_added(self, position: int, event: ClaimAdded) -> None:
        claim_id = event.originator_id
        self.rows.claims.append(
            ClaimRow(
                id=claim_id,
                incident_id=event.incident_id,
                text=event.text,
                recorded_at=event.timestamp,
                position=position,
                status=UNVERIFIED.status.value,
                reason=UNVERIFIED.reason,
                deciding_statement_ids=[],
                status_since=event.timestamp,
            )
        )
        self.memory.add_claim(ClaimState(claim_id, event.incident_id, event.timestamp))
        self._restatused.add(claim_id)

    def _verdict(self, position: int, event: ClaimVerdictGiven) -> None:
        claim_id = event.originator_id
        state = self.memory.claims[claim_id]
        previous, state.verdict = state.verdict, event.verdict
        self.rows.verdicts.append(
            VerdictRow(
                claim_id=claim_id,
                position=position,
                verdict=event.verdict.value,
                rationale=event.rationale,
                recorded_at=event.timestamp,
                recorded_by=event.recorded_by,
            )
        )
        self._announce(
            outbox.ClaimVerdictChanged(
                incident_id=state.incident_id,
                claim_id=claim_id,
                from_=previous,
                to=event.verdict,
                rationale=event.rationale,
                recorded_at=event.timestamp,
                position=position,
            )
        )

    def _recorded(self, position: int, event: StatementRecorded) -> None:
        said = {name: getattr(event, name) for name in _SAID}
        said.update(
            id=event.originator_id,
            source_name=self.memory.source(event.source_id)[1],
            credibility_label=credibility_label(event.credibility),
            recorded_at=event.timestamp,
            withdrawn_at=None,
            position=position,
        )
        shown = msgspec.convert(said, outbox.StatementRecorded, from_attributes=True)
        self.rows.statements.append(statement_row(shown, event.recorded_by))
        self._announce(shown)
        state = self.memory.claims[event.claim_id]
        self.memory.add_statement(shown.id, state.claim_id)
        before = state.decided
        changed = state.record(
            StatementFact(
                id=shown.id,
                source_id=self.memory.source(shown.source_id)[0],
                source_name=shown.source_name,
                stance=shown.stance,
                published_at=shown.published_at,
                recorded_at=shown.recorded_at,
                position=position,
                evidence_kinds=tuple(e.kind for e in event.evidence),
            )
        )
        self._status_changed(position, state, before, changed, shown.id, shown.recorded_at)

    def _withdrawn(self, position: int, event: StatementWithdrawn) -> None:
        statement_id = event.originator_id
        state = self.memory.claims[self.memory.statement_claim[statement_id]]
        self.rows.withdrawals.append(
            Withdrawal(
                id=statement_id,
                withdrawn_at=event.timestamp,
                withdrawal_reason=event.reason,
                withdrawal_position=position,
            )
        )
        self._announce(
            outbox.StatementWithdrawn(
                id=statement_id,
                claim_id=state.claim_id,
                incident_id=state.incident_id,
                reason=event.reason,
                withdrawn_at=event.timestamp,
                position=position,
            )
        )
        before = state.decided
        changed = state.withdraw(statement_id, event.timestamp, position)
        self._status_changed(position, state, before, changed, statement_id, event.timestamp)

    def _status_changed(
        self,
        position: int,
        state: ClaimState,
        before: Status,
        after: DerivedStatus | None,
        statement_id: UUID,
        at: datetime,
    ) -> None:
        """Announce the claim's new status, if the event changed it."""
        self._restatused.add(state.claim_id)
        if after is None:
            return
        self._announce(
            outbox.ClaimStatusChanged(
                incident_id=state.incident_id,
                claim_id=state.claim_id,
                from_=before,
                to=after.status,
                reasons=outbox.Reasons.of(after),
                statement_id=statement_id,
                recorded_at=at,
                position=position,
            )
        )

    def _announce(self, entry: _Entry) -> None:
        """Add an outbox entry; entries of one event are numbered in the order announced."""
        if entry.position == self._outbox_position:
            self._outbox_seq += 1
        else:
            self._outbox_position, self._outbox_seq = entry.position, 0
        if isinstance(entry, outbox.StatementWithdrawn):
            at = entry.withdrawn_at
        else:
            at = entry.recorded_at
        self.rows.outbox.append(
            OutboxRow(
                position=entry.position,
                seq=self._outbox_seq,
                type=_TYPE_OF[type(entry)],
                incident_id=entry.incident_id,
                recorded_at=at,
                payload=entry,
            )
        )

    def finish(self) -> Rows:
        """The rows, with the history and status of every claim the batch changed."""
        rows = self.rows
        self.memory.touched(self._restatused)
        for claim_id in self._restatused:
            state = self.memory.claims[claim_id]
            if state.initial != state.decided:
                rows.moves.append(Move(state.incident_id, state.initial, state.decided))
            change = state.history_change()
            if change.rewrite:
                rows.rewritten.append(claim_id)
            elif change.closed is not None:
                rows.closed.append(Closed(claim_id, change.closed.seq, change.closed.recorded_to))
            rows.intervals.extend(_interval_row(state, interval) for interval in change.intervals)
            status = state.status
            rows.statuses.append(
                ClaimStatus(
                    id=claim_id,
                    status=status.status.value,
                    reason=status.reason,
                    deciding=",".join(map(str, status.statement_ids)),
                    opposing=",".join(map(str, status.opposing_ids)),
                    since=change.current.recorded_from if change.current is not None else None,
                )
            )
        return rows


def _revision(position: int, event: IncidentOpened | IncidentRevised) -> Revision:
    place = event.place
    return Revision(
        incident_id=event.originator_id,
        position=position,
        recorded_at=event.timestamp,
        title=event.title,
        summary=event.summary,
        place=None if place is None else msgspec.to_builtins(place),
        country=place.country if place else None,
        lat=place.lat if place else None,
        lon=place.lon if place else None,
        occurred_from=event.occurred_from,
        occurred_to=event.occurred_to,
        occurred_precision=event.occurred_precision.value if event.occurred_precision else None,
        tags=list(event.tags),
    )


def _interval_row(state: ClaimState, interval: Interval) -> IntervalRow:
    return IntervalRow(
        claim_id=state.claim_id,
        seq=interval.seq,
        incident_id=state.incident_id,
        status=interval.status.status.value,
        reason=interval.status.reason,
        deciding_statement_ids=list(interval.status.statement_ids),
        opposing_statement_ids=list(interval.status.opposing_ids),
        statement_id=interval.statement_id,
        recorded_from=interval.recorded_from,
        recorded_to=interval.recorded_to,
    )
