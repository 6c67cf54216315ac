"""The status rule: the derived status of one claim from the statements in view, with its reasons.

A pure function. The projector, the as-of reads and the tests all call ``derive_status``; nothing
else decides a claim's status.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple
from uuid import UUID

from claimledger.domain.values import Stance, Status


class StanceRecord(NamedTuple):
    """What the rule needs to know of one statement."""

    statement_id: UUID
    source_id: UUID
    source_name: str
    stance: Stance
    published_at: datetime
    position: int
    withdrawn: bool = False
    evidence_kinds: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DerivedStatus:
    """A claim's status, the statements that decided it and one readable sentence."""

    status: Status
    statement_ids: tuple[UUID, ...]
    reason: str


UNVERIFIED = DerivedStatus(Status.UNVERIFIED, (), "unverified: no statement on this claim yet")

_VERB = {
    Stance.ASSERTS: "asserted",
    Stance.DENIES: "denied",
    Stance.CONFIRMS: "confirmed",
    Stance.REFUTES: "refuted",
    Stance.RETRACTS: "retracted",
}
_PARTY_STANCES = frozenset({Stance.ASSERTS, Stance.DENIES})


def _order(record: StanceRecord) -> tuple[datetime, int]:
    return (record.published_at, record.position)


def decide(records: Iterable[StanceRecord]) -> tuple[Status, list[StanceRecord]]:
    """The status rule's decision: the status and the statements that decided it."""
    in_view = [r for r in records if not r.withdrawn]
    if not in_view:
        return Status.UNVERIFIED, []
    in_view.sort(key=_order)

    # Rule 2: a retraction cancels its source's stances published before it.
    standing: dict[UUID, list[StanceRecord]] = {}
    parties: set[UUID] = set()
    retractions: list[StanceRecord] = []
    for record in in_view:
        if record.stance == Stance.RETRACTS:
            standing[record.source_id] = []
            retractions.append(record)
        else:
            standing.setdefault(record.source_id, []).append(record)
            if record.stance in _PARTY_STANCES:
                parties.add(record.source_id)

    # Rule 3: a confirmation or refutation counts only from a source not party to the claim.
    by_stance: dict[Stance, list[StanceRecord]] = defaultdict(list)
    for record in sorted((r for kept in standing.values() for r in kept), key=_order):
        if record.stance in _PARTY_STANCES or record.source_id not in parties:
            by_stance[record.stance].append(record)

    return _choose(by_stance, retractions)


def _choose(
    by_stance: dict[Stance, list[StanceRecord]], retractions: list[StanceRecord]
) -> tuple[Status, list[StanceRecord]]:
    """Rule 4: which sets are non-empty decides the status."""
    confirming, refuting = by_stance[Stance.CONFIRMS], by_stance[Stance.REFUTES]
    asserting, denying = by_stance[Stance.ASSERTS], by_stance[Stance.DENIES]
    if confirming and refuting:
        return Status.CONTESTED, confirming + refuting
    if confirming:
        return Status.CONFIRMED, confirming
    if refuting:
        return Status.REFUTED, refuting
    if asserting and denying:
        return Status.DISPUTED, asserting + denying
    if asserting:
        return Status.CLAIMED, asserting
    if denying:
        return Status.DENIED, denying
    if retractions:
        return Status.RETRACTED, retractions
    return Status.UNVERIFIED, []


def derive_status(records: Iterable[StanceRecord]) -> DerivedStatus:
    """Apply the status rule to the statements in view of one claim, with its reasons."""
    return explain(*decide(records))


def explain(status: Status, deciding: list[StanceRecord]) -> DerivedStatus:
    """A decided status with its reasons: the deciding statements and one sentence."""
    if status == Status.UNVERIFIED:
        return UNVERIFIED
    parts: list[str] = []
    for stance in (Stance.CONFIRMS, Stance.REFUTES, Stance.ASSERTS, Stance.DENIES, Stance.RETRACTS):
        group = [r for r in deciding if r.stance == stance]
        if not group:
            continue
        if stance in (Stance.CONFIRMS, Stance.REFUTES):
            parts.extend(_verification(r) for r in group)
        else:
            names = ", ".join(dict.fromkeys(r.source_name for r in group))
            parts.append(f"{_VERB[stance]} by {names}")
    return DerivedStatus(
        status=status,
        statement_ids=tuple(r.statement_id for r in deciding),
        reason=f"{status.value}: " + "; ".join(parts),
    )


def _verification(record: StanceRecord) -> str:
    how = ", ".join(dict.fromkeys(record.evidence_kinds)) or f"{_VERB[record.stance]}"
    return f"{how} by {record.source_name}, statement {record.statement_id}"
