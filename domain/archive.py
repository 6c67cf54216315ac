"""Records that keep when they were learned: what an archive import needs of the ledger.

An archive gives each record the moment the ledger learned it (its ``recorded_at``, the event's
timestamp). Recording it again must change nothing a reader was already told: a record is new
only when the ledger holds no event with its content, and a new one may not be recorded before
the latest moment the ledger has learned anything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, DomainEventProtocol
from eventsourcing.persistence import IntegrityError

from claimledger.domain.errors import Conflict, DomainError, InvalidInput, UnknownReference
from claimledger.domain.ledger import Ledger

Event = DomainEventProtocol[UUID]

# The latest moment is looked for among this many of the newest events: concurrent writers can
# commit in the opposite order of their timestamps, by milliseconds, never by this many events.
_NEWEST = 1000


def latest_recorded_at(ledger: Ledger) -> datetime | None:
    """The latest moment the ledger learned anything (None when it holds nothing)."""
    head = ledger.recorder.max_notification_id()
    if head is None:
        return None
    newest = ledger.recorder.select_notifications(start=max(1, head - _NEWEST + 1), limit=_NEWEST)
    stamps = [_timestamp(ledger.mapper.to_domain_event(n)) for n in newest]
    return max(stamps, default=None)


def _timestamp(event: Any) -> datetime:
    stamp: datetime = event.timestamp
    return stamp


def differences(event: Event, expected: Mapping[str, Any]) -> list[str]:
    """The fields of ``expected`` whose value the recorded ``event`` does not have."""
    return [name for name, value in expected.items() if getattr(event, name, None) != value]


class RecordRefused(DomainError):
    """One record of a batch is refused; ``index`` says which."""

    def __init__(self, index: int, detail: str) -> None:
        super().__init__(detail)
        self.index = index


@dataclass(frozen=True)
class Change:
    """A new event on an aggregate that exists: a rating, a revision, a verdict, a withdrawal.

    ``expected`` holds the event's fields as a recorded one would have them; ``apply`` makes
    the change through the aggregate's own command, at ``recorded_at`` when that is kept.
    """

    aggregate_id: UUID
    kind: type[Aggregate]
    event_class: type[Any]
    expected: Mapping[str, Any]
    apply: Callable[[Any], None] = field(compare=False)
    recorded_at: datetime | None = None


def record_changes(
    ledger: Ledger,
    changes: list[Change],
    *,
    matched: set[tuple[UUID, int]],
    not_before: datetime | None = None,
) -> list[bool]:
    """Record in one transaction the changes the ledger does not hold yet; for each, whether it
    was new.

    A change is held when its aggregate has an event of its class with its content that no
    earlier change has matched (``matched`` remembers those across batches): so a file that
    rates a source B, then C, then B again is three ratings, and running it again adds none.
    A new change kept at a moment before ``not_before`` is refused.
    """
    aggregates: dict[UUID, Aggregate] = {}
    recorded: dict[UUID, list[Event]] = {}
    outcomes: list[bool] = []
    for index, change in enumerate(changes):
        aggregate_id = change.aggregate_id
        if aggregate_id not in aggregates:
            aggregates[aggregate_id], recorded[aggregate_id] = _load(ledger, change, index)
        held = _held(change, recorded[aggregate_id], matched)
        if held is not None:
            matched.add((aggregate_id, held.originator_version))
            outcomes.append(False)
            continue
        if not_before is not None and change.recorded_at is not None:
            try:
                refuse_before(change.recorded_at, not_before)
            except DomainError as error:
                raise RecordRefused(index, error.detail) from error
        try:
            change.apply(aggregates[aggregate_id])
        except DomainError as error:
            raise RecordRefused(index, error.detail) from error
        outcomes.append(True)
    changed = [a for a in aggregates.values() if a.pending_events]
    # What this batch writes is matched too: a later batch finds it recorded, and must not
    # take it for the record of one of its own changes.
    written = [(a.id, e.originator_version) for a in changed for e in a.pending_events]
    try:
        ledger.save(*changed)
    except IntegrityError as error:
        raise Conflict(
            "a record of this batch changed concurrently; run the import again"
        ) from error
    matched.update(written)
    return outcomes


def refuse_before(recorded_at: datetime, latest: datetime) -> None:
    """A record learned before the ledger's latest moment would change answers already given."""
    if recorded_at < latest:
        raise InvalidInput(
            f"recorded_at {recorded_at.isoformat()} is before {latest.isoformat()}, the latest"
            " moment this ledger learned something: answers already given as known at that"
            " time would change",
            field="recorded_at",
        )


def _held(change: Change, recorded: list[Event], matched: set[tuple[UUID, int]]) -> Event | None:
    expected = dict(change.expected)
    if change.recorded_at is not None:
        expected["timestamp"] = change.recorded_at
    return next(
        (
            e
            for e in recorded
            if isinstance(e, change.event_class)
            and (change.aggregate_id, e.originator_version) not in matched
            and not differences(e, expected)
        ),
        None,
    )


def _load(ledger: Ledger, change: Change, index: int) -> tuple[Aggregate, list[Event]]:
    kind = change.kind.__name__.lower()
    events = list(ledger.events.get(change.aggregate_id))
    aggregate: Any = None
    for event in events:
        aggregate = event.mutate(aggregate)  # type: ignore[attr-defined]
    if not isinstance(aggregate, change.kind):
        raise RecordRefused(index, UnknownReference(kind, change.aggregate_id).detail)
    return aggregate, events
