"""A claim's status over time, derived from its statements with the domain's one status rule.

Pure: the projector feeds it what the views hold and writes back what it answers; the as-of reads
use the same facts filtered by time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import groupby
from uuid import UUID

from claimledger.domain.status import (
    UNVERIFIED,
    DerivedStatus,
    StanceRecord,
    Tally,
    derive_status,
    explain,
)
from claimledger.domain.values import Stance, Status, Verdict


@dataclass(frozen=True, slots=True)
class StatementFact:
    """A statement as the views know it, with both of its moments on the recorded-time axis."""

    id: UUID
    source_id: UUID
    source_name: str
    stance: Stance
    published_at: datetime
    recorded_at: datetime
    position: int
    withdrawn_at: datetime | None = None
    withdrawal_position: int | None = None
    evidence_kinds: tuple[str, ...] = ()

    @property
    def statement_id(self) -> UUID:
        """The statement's id, as the status rule reads it."""
        return self.id

    def in_view(
        self, *, known_at: datetime | None = None, published_before: datetime | None = None
    ) -> StanceRecord | None:
        """The rule's input for this statement as seen from a moment, or None when unseen."""
        if known_at is not None and self.recorded_at > known_at:
            return None
        if published_before is not None and self.published_at >= published_before:
            return None
        withdrawn = self.withdrawn_at is not None and (
            known_at is None or self.withdrawn_at <= known_at
        )
        return StanceRecord(
            statement_id=self.id,
            source_id=self.source_id,
            source_name=self.source_name,
            stance=self.stance,
            published_at=self.published_at,
            position=self.position,
            withdrawn=withdrawn,
            evidence_kinds=self.evidence_kinds,
        )


def status_seen(
    facts: Iterable[StatementFact],
    *,
    known_at: datetime | None = None,
    published_before: datetime | None = None,
) -> DerivedStatus:
    """A claim's status as known at ``known_at``, from what was published before the other."""
    known = [f for f in facts if known_at is None or f.recorded_at <= known_at]
    records = [f.in_view(known_at=known_at, published_before=published_before) for f in known]
    seen = [r for r in records if r is not None]
    if len(seen) < len(known):
        # Statements published later are out of view, not withdrawn: a claim they speak to is
        # not one whose statements were all withdrawn.
        seen = [r for r in seen if not r.withdrawn]
    return derive_status(seen)


@dataclass(frozen=True, slots=True)
class Interval:
    """The status a claim had from ``recorded_from`` until ``recorded_to`` (None: still)."""

    seq: int
    status: DerivedStatus
    statement_id: UUID | None
    recorded_from: datetime
    recorded_to: datetime | None


@dataclass(frozen=True, slots=True)
class _Moment:
    at: datetime
    position: int
    statement_id: UUID


def _moments(facts: Iterable[StatementFact]) -> list[_Moment]:
    """Every moment a claim's view changed: each statement recorded, each withdrawal."""
    moments = []
    for f in facts:
        moments.append(_Moment(f.recorded_at, f.position, f.id))
        if f.withdrawn_at is not None:
            moments.append(_Moment(f.withdrawn_at, f.withdrawal_position or f.position, f.id))
    return moments


def _extend(
    intervals: list[Interval], facts: Iterable[StatementFact], moments: list[_Moment]
) -> list[Interval]:
    """Apply ``moments`` (all later than the intervals' start) to the intervals, in time order.

    Moments that share a timestamp are applied together, so no interval is empty.
    """
    facts = list(facts)
    moments = sorted(moments, key=lambda m: (m.at, m.position))
    for at, group in groupby(moments, key=lambda m: m.at):
        last_moment = list(group)[-1]
        derived = status_seen(facts, known_at=at)
        if derived.status == intervals[-1].status.status:
            continue
        intervals[-1] = replace(intervals[-1], recorded_to=at)
        intervals.append(
            Interval(intervals[-1].seq + 1, derived, last_moment.statement_id, at, None)
        )
    return intervals


def history(claim_recorded_at: datetime, facts: Iterable[StatementFact]) -> list[Interval]:
    """The claim's status intervals over recorded time.

    Built from every statement sorted by when it was recorded (or withdrawn), not by position:
    concurrent writers may take positions in the opposite order of their timestamps.
    """
    by_id = {f.id: f for f in facts}
    start = [Interval(0, UNVERIFIED, None, claim_recorded_at, None)]
    return _extend(start, by_id.values(), _moments(by_id.values()))


@dataclass(frozen=True, slots=True)
class HistoryChange:
    """What a batch does to a claim's stored intervals."""

    # True: delete every stored interval and write ``intervals``; False: close ``closed`` (if
    # any) and append ``intervals``.
    rewrite: bool
    intervals: list[Interval]
    closed: Interval | None = None

    @property
    def current(self) -> Interval | None:
        return self.intervals[-1] if self.intervals else self.closed


class ClaimState:
    """A claim as the projector keeps it between events: its statements, the rule's tally, its
    status and its open history interval.

    Each event costs the work of its own source's statements (``Tally``); a status is explained
    (its reasons written out) only when it changes and once at the end of a batch. The history's
    intervals are those changes when the batch's events happened in the order of their positions,
    after everything known before, which is all but always; otherwise the history is derived
    again from every statement.
    """

    __slots__ = (
        "_changes",
        "_derived",
        "_in_order",
        "_known_until",
        "_status",
        "claim_id",
        "facts",
        "incident_id",
        "initial",
        "last",
        "recorded_at",
        "tally",
        "verdict",
    )

    def __init__(
        self,
        claim_id: UUID,
        incident_id: UUID,
        recorded_at: datetime,
        facts: Iterable[StatementFact] = (),
        *,
        status: Status = Status.UNVERIFIED,
        last: Interval | None = None,
        verdict: Verdict | None = None,
    ) -> None:
        self.claim_id = claim_id
        self.incident_id = incident_id
        self.recorded_at = recorded_at
        self.verdict = verdict
        self.facts: dict[UUID, StatementFact] = {f.id: f for f in facts}
        self.tally = Tally(f for f in self.facts.values() if f.withdrawn_at is None)
        self._status = status
        self._derived: DerivedStatus | None = None
        # The status before this batch; None for a claim new in it.
        self.initial: Status | None = None if last is None else status
        # The stored interval that is open now; None for a claim new in this batch.
        self.last = last
        self._known_until = max((m.at for m in _moments(self.facts.values())), default=recorded_at)
        self._in_order = True
        self._changes: list[Interval] = []

    @property
    def decided(self) -> Status:
        return self._status

    @property
    def status(self) -> DerivedStatus:
        """The status after the events applied so far, with its reasons."""
        if self._derived is None:
            status = self._status
            withdrawn = status == Status.UNVERIFIED and any(
                f.withdrawn_at is not None for f in self.facts.values()
            )
            self._derived = explain(
                status,
                self.tally.deciding(status),
                self.tally.opposing(status),
                withdrawn=withdrawn,
            )
        return self._derived

    def record(self, fact: StatementFact) -> DerivedStatus | None:
        """Add a statement; the new status when it changed, else None."""
        self.facts[fact.id] = fact
        self.tally.add(fact)
        return self._decide(fact.recorded_at, fact.id)

    def withdraw(self, statement_id: UUID, at: datetime, position: int) -> DerivedStatus | None:
        fact = self.facts[statement_id]
        if fact.withdrawn_at is None:
            self.tally.remove(fact)
        self.facts[statement_id] = replace(fact, withdrawn_at=at, withdrawal_position=position)
        return self._decide(at, statement_id)

    def _decide(self, at: datetime, statement_id: UUID) -> DerivedStatus | None:
        self._derived = None
        if at <= self._known_until:
            self._in_order = False
        self._known_until = max(self._known_until, at)
        status = self.tally.status
        if status == self._status:
            return None
        self._status = status
        derived = self.status
        seq = self._changes[-1].seq if self._changes else self.last.seq if self.last else 0
        self._changes.append(Interval(seq + 1, derived, statement_id, at, None))
        return derived

    def history_change(self) -> HistoryChange:
        """The intervals to write for what this batch changed; the claim is then ready for the
        next batch."""
        change = self._history_change()
        self.last = change.current or self.last
        self.initial = self._status
        self._in_order = True
        self._changes = []
        return change

    def _history_change(self) -> HistoryChange:
        if not self._in_order:
            return HistoryChange(
                rewrite=True, intervals=history(self.recorded_at, self.facts.values())
            )
        fresh = self.last is None
        start = self.last or Interval(0, UNVERIFIED, None, self.recorded_at, None)
        intervals = [start]
        for interval in self._changes:
            intervals[-1] = replace(intervals[-1], recorded_to=interval.recorded_from)
            intervals.append(interval)
        if fresh:
            return HistoryChange(rewrite=False, intervals=intervals)
        if len(intervals) == 1:
            return HistoryChange(rewrite=False, intervals=[])
        return HistoryChange(rewrite=False, intervals=intervals[1:], closed=intervals[0])
