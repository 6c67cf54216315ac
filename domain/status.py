"""The status rule: the derived status of one claim from the statements in view, with its reasons.

Pure: no clock, no database. ``Tally`` keeps the rule's sets for a changing set of statements,
source by source, so a statement added or withdrawn costs the work of its own source's
statements; ``decide`` and ``derive_status`` apply it to a set given at once. The projector, the
as-of reads and the tests all go through them; nothing else decides a claim's status.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, Protocol
from uuid import UUID

from claimledger.domain.values import Stance, Status


class Stanced(Protocol):
    """What the rule reads of a statement in view (``StanceRecord`` or any object with these)."""

    @property
    def statement_id(self) -> UUID: ...
    @property
    def source_id(self) -> UUID: ...
    @property
    def source_name(self) -> str: ...
    @property
    def stance(self) -> Stance: ...
    @property
    def published_at(self) -> datetime: ...
    @property
    def position(self) -> int: ...
    @property
    def evidence_kinds(self) -> tuple[str, ...]: ...


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
    """A claim's status, the statements that decided it, those against them, and one readable
    sentence that names both sides."""

    status: Status
    statement_ids: tuple[UUID, ...]
    reason: str
    # Counted statements on the other side of the deciding ones: the denials of a confirmed
    # claim, the assertions of a refuted one.
    opposing_ids: tuple[UUID, ...] = ()


UNVERIFIED = DerivedStatus(Status.UNVERIFIED, (), "unverified: no statement on this claim yet")
ALL_WITHDRAWN = DerivedStatus(
    Status.UNVERIFIED, (), "unverified: every statement on this claim was withdrawn"
)

_VERB = {
    Stance.ASSERTS: "asserted",
    Stance.DENIES: "denied",
    Stance.CONFIRMS: "confirmed",
    Stance.REFUTES: "refuted",
    Stance.RETRACTS: "retracted",
}
_PARTY_STANCES = frozenset({Stance.ASSERTS, Stance.DENIES})
_STANCES = tuple(Stance)
# Rule 4: the first row whose stances all have a counted statement decides, and those
# statements are the reasons, in this order.
_CHOICES: tuple[tuple[Status, tuple[Stance, ...]], ...] = (
    (Status.CONTESTED, (Stance.CONFIRMS, Stance.REFUTES)),
    (Status.CONFIRMED, (Stance.CONFIRMS,)),
    (Status.REFUTED, (Stance.REFUTES,)),
    (Status.DISPUTED, (Stance.ASSERTS, Stance.DENIES)),
    (Status.CLAIMED, (Stance.ASSERTS,)),
    (Status.DENIED, (Stance.DENIES,)),
    (Status.RETRACTED, (Stance.RETRACTS,)),
)
_DECIDED_BY = dict(_CHOICES)
# The counted stances that stand against a status's deciding ones without changing it. (In
# ``contested`` and ``disputed`` the deciding statements already hold both sides; in the others
# nothing counted stands against them.)
_OPPOSED_BY: dict[Status, tuple[Stance, ...]] = {
    Status.CONFIRMED: (Stance.DENIES,),
    Status.REFUTED: (Stance.ASSERTS,),
}
# How a reason lists the statements of each stance.
_PHRASE_ORDER = (Stance.CONFIRMS, Stance.REFUTES, Stance.ASSERTS, Stance.DENIES, Stance.RETRACTS)


def _order(record: Stanced) -> tuple[datetime, int]:
    return (record.published_at, record.position)


class _Source:
    """One source's statements on a claim and what they count for under rules 2 and 3."""

    __slots__ = ("counted", "party", "records")

    def __init__(self) -> None:
        # In order of publication (then position).
        self.records: list[Stanced] = []
        # The statements that count: its stances standing since its last retraction (rule 2),
        # a confirmation or refutation only if the source is no party (rule 3); and every
        # retraction, which counts for ``retracted``.
        self.counted: list[Stanced] = []
        # Whether the source asserted or denied the claim: a party (rule 3).
        self.party = False

    def refresh(self) -> None:
        self.records.sort(key=_order)
        party = self.party = any(r.stance in _PARTY_STANCES for r in self.records)
        counted: list[Stanced] = []
        for record in self.records:
            if record.stance == Stance.RETRACTS:
                counted = [r for r in counted if r.stance == Stance.RETRACTS]
                counted.append(record)
            elif record.stance in _PARTY_STANCES or not party:
                counted.append(record)
        self.counted = counted

    def follows(self, record: Stanced) -> bool:
        """Whether ``record`` comes after every statement of the source and leaves what counted
        before it counting (so that it can be added without going through them all again)."""
        records = self.records
        if not records:
            return True
        return _order(record) >= _order(records[-1]) and (
            self.party or record.stance not in _PARTY_STANCES
        )


class Tally:
    """The rule's sets for the statements in view of one claim, kept as statements come and go.

    Withdrawn statements are not in view: give only statements in view, and ``remove`` one when
    it is withdrawn.
    """

    __slots__ = ("_counts", "_sources")

    def __init__(self, records: Iterable[Stanced] = ()) -> None:
        self._sources: dict[UUID, _Source] = {}
        self._counts = dict.fromkeys(_STANCES, 0)
        for record in records:
            self._sources.setdefault(record.source_id, _Source()).records.append(record)
        for source in self._sources.values():
            source.refresh()
            self._count(source, 1)

    def add(self, record: Stanced) -> None:
        source = self._sources.get(record.source_id)
        if source is None:
            source = self._sources[record.source_id] = _Source()
        if not source.follows(record):
            self._count(source, -1)
            source.records.append(record)
            source.refresh()
            self._count(source, 1)
            return
        # The usual case, a statement later than the source's others: rules 2 and 3 by hand.
        counts = self._counts
        stance = record.stance
        source.records.append(record)
        if stance == Stance.RETRACTS:
            for earlier in source.counted:
                if earlier.stance != Stance.RETRACTS:
                    counts[earlier.stance] -= 1
            source.counted = [r for r in source.counted if r.stance == Stance.RETRACTS]
        elif stance in _PARTY_STANCES:
            source.party = True
        elif source.party:
            return
        source.counted.append(record)
        counts[stance] += 1

    def remove(self, record: Stanced) -> None:
        source = self._sources[record.source_id]
        self._count(source, -1)
        source.records = [r for r in source.records if r.statement_id != record.statement_id]
        source.refresh()
        self._count(source, 1)

    def _count(self, source: _Source, sign: int) -> None:
        counts = self._counts
        for record in source.counted:
            counts[record.stance] += sign

    @property
    def status(self) -> Status:
        """Rule 4: which sets are non-empty decides the status."""
        counts = self._counts
        confirmed, refuted = counts[Stance.CONFIRMS], counts[Stance.REFUTES]
        if confirmed or refuted:
            if confirmed and refuted:
                return Status.CONTESTED
            return Status.CONFIRMED if confirmed else Status.REFUTED
        asserted, denied = counts[Stance.ASSERTS], counts[Stance.DENIES]
        if asserted and denied:
            return Status.DISPUTED
        if asserted:
            return Status.CLAIMED
        if denied:
            return Status.DENIED
        return Status.RETRACTED if counts[Stance.RETRACTS] else Status.UNVERIFIED

    def deciding(self, status: Status | None = None) -> list[Stanced]:
        """The statements that decided ``status`` (the current one by default), as rule 6 lists
        them: by stance, each stance's in order of publication."""
        return self._counted(_DECIDED_BY.get(self.status if status is None else status, ()))

    def opposing(self, status: Status | None = None) -> list[Stanced]:
        """The counted statements that stand against those deciding ``status`` (the current
        one by default): a confirmed claim's denials, a refuted one's assertions."""
        return self._counted(_OPPOSED_BY.get(self.status if status is None else status, ()))

    def _counted(self, stances: tuple[Stance, ...]) -> list[Stanced]:
        chosen: list[Stanced] = []
        for stance in stances:
            chosen.extend(
                sorted(
                    (r for s in self._sources.values() for r in s.counted if r.stance == stance),
                    key=_order,
                )
            )
        return chosen

    def explain(self, *, withdrawn: bool = False) -> DerivedStatus:
        """The current status with its reasons; ``withdrawn``: some statement on the claim was
        withdrawn (said when none is left in view)."""
        status = self.status
        return explain(status, self.deciding(status), self.opposing(status), withdrawn=withdrawn)


def decide(records: Iterable[StanceRecord]) -> tuple[Status, list[Stanced]]:
    """The status rule's decision: the status and the statements that decided it."""
    tally = Tally(r for r in records if not r.withdrawn)
    status = tally.status
    return status, tally.deciding(status)


def derive_status(records: Iterable[StanceRecord]) -> DerivedStatus:
    """Apply the status rule to the statements in view of one claim, with its reasons."""
    records = list(records)
    tally = Tally(r for r in records if not r.withdrawn)
    return tally.explain(withdrawn=any(r.withdrawn for r in records))


def explain(
    status: Status,
    deciding: list[Stanced],
    opposing: list[Stanced] | None = None,
    *,
    withdrawn: bool = False,
) -> DerivedStatus:
    """A decided status with its reasons: the deciding statements, those against them, and one
    sentence ("confirmed: geolocation by …, statement …; against it: denied by …").

    ``withdrawn`` tells an ``unverified`` claim whose statements were all withdrawn from one
    that has none yet.
    """
    if status == Status.UNVERIFIED:
        return ALL_WITHDRAWN if withdrawn else UNVERIFIED
    reason = f"{status.value}: " + "; ".join(_phrases(deciding))
    if opposing:
        reason += "; against it: " + "; ".join(_phrases(opposing))
    return DerivedStatus(
        status=status,
        statement_ids=tuple(r.statement_id for r in deciding),
        reason=reason,
        opposing_ids=tuple(r.statement_id for r in opposing or ()),
    )


def _phrases(records: list[Stanced]) -> list[str]:
    """Who said what: each verification with its evidence and statement, each party stance with
    the names of its sources."""
    parts: list[str] = []
    for stance in _PHRASE_ORDER:
        group = [r for r in records if r.stance == stance]
        if not group:
            continue
        if stance in (Stance.CONFIRMS, Stance.REFUTES):
            parts.extend(_verification(r) for r in group)
        else:
            names = ", ".join(dict.fromkeys(r.source_name for r in group))
            parts.append(f"{_VERB[stance]} by {names}")
    return parts


def _verification(record: Stanced) -> str:
    how = ", ".join(dict.fromkeys(record.evidence_kinds)) or f"{_VERB[record.stance]}"
    return f"{how} by {record.source_name}, statement {record.statement_id}"
