"""The view tables a batch writes: each table's columns, once, and the statements that write it.

A row type's fields are its table's columns in the order COPY takes them, so a row is filled by
name, never by position; a statement's columns are those of its outbox entry. ``Rows`` holds
what a batch collected; ``write`` writes it with COPY and a handful of set-based statements.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from typing import Any, NamedTuple
from uuid import UUID

import msgspec

from claimledger.domain.headline import headline
from claimledger.domain.values import Status
from claimledger.projections import outbox
from claimledger.projections.schema import VIEWS
from claimledger.store.db import Connection


@dataclass(frozen=True, slots=True)
class Table:
    """A view table as COPY fills it: its name, and its columns in the order of a row's values."""

    name: str
    columns: tuple[str, ...]

    async def copy(self, db: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
        if rows:
            await db.copy_records_to_table(
                self.name, schema_name=VIEWS, records=rows, columns=self.columns
            )


class SourceRow(NamedTuple):
    id: UUID
    name: str
    kind: str
    affiliation: str | None
    channels: list[str]
    url: str | None
    reliability: str
    recorded_at: datetime
    position: int


class RatingRow(NamedTuple):
    source_id: UUID
    position: int
    reliability: str
    rationale: str | None
    recorded_at: datetime
    recorded_by: UUID


class Revision(NamedTuple):
    """An incident as one event (opening or revising it) described it."""

    incident_id: UUID
    position: int
    recorded_at: datetime
    title: str
    summary: str | None
    place: dict[str, Any] | None
    country: str | None
    lat: float | None
    lon: float | None
    occurred_from: datetime | None
    occurred_to: datetime | None
    occurred_precision: str | None
    tags: list[str]


# What incidents and their revisions share: every column of a revision but whose and when.
DESCRIPTION = Revision._fields[3:]


class ClaimRow(NamedTuple):
    id: UUID
    incident_id: UUID
    text: str
    recorded_at: datetime
    position: int
    status: str
    reason: str
    deciding_statement_ids: list[UUID]
    status_since: datetime


class VerdictRow(NamedTuple):
    claim_id: UUID
    position: int
    verdict: str
    rationale: str | None
    recorded_at: datetime
    recorded_by: UUID


# A statement's row is the statement as the outbox shows it (but for its source's name, which the
# source's row holds, and the words of its credibility, which its grade gives) and who recorded it.
_NOT_KEPT = ("source_name", "credibility_label")
_SHOWN = tuple(name for name in outbox.StatementRecorded.__struct_fields__ if name not in _NOT_KEPT)
_shown_values = attrgetter(*_SHOWN)


def statement_row(shown: outbox.StatementRecorded, recorded_by: UUID) -> tuple[Any, ...]:
    return (*_shown_values(shown), recorded_by)


class Withdrawal(NamedTuple):
    id: UUID
    withdrawn_at: datetime
    withdrawal_reason: str
    withdrawal_position: int


class IntervalRow(NamedTuple):
    claim_id: UUID
    seq: int
    incident_id: UUID
    status: str
    reason: str
    deciding_statement_ids: list[UUID]
    opposing_statement_ids: list[UUID]
    statement_id: UUID | None
    recorded_from: datetime
    recorded_to: datetime | None


class Closed(NamedTuple):
    """A claim's stored interval that ends now."""

    claim_id: UUID
    seq: int
    recorded_to: datetime | None


class ClaimStatus(NamedTuple):
    """A claim's status after the batch; ``since`` is None when it kept its stored status."""

    id: UUID
    status: str
    reason: str
    # The deciding and the opposing statements' ids joined with commas: unnest cannot take
    # arrays of arrays.
    deciding: str
    opposing: str
    since: datetime | None


class Move(NamedTuple):
    """A claim of an incident that went from one status (None: it is new) to another."""

    incident_id: UUID
    before: Status | None
    after: Status


class OutboxRow(NamedTuple):
    position: int
    seq: int
    type: outbox.EventType
    incident_id: UUID | None
    recorded_at: datetime
    payload: msgspec.Struct


SOURCES = Table("sources", SourceRow._fields)
SOURCE_RATINGS = Table("source_ratings", RatingRow._fields)
# An opened incident's row is its first revision's, its id in the place of ``incident_id``.
INCIDENTS = Table("incidents", ("id", *Revision._fields[1:]))
INCIDENT_REVISIONS = Table("incident_revisions", Revision._fields)
CLAIMS = Table("claims", ClaimRow._fields)
CLAIM_VERDICTS = Table("claim_verdicts", VerdictRow._fields)
STATEMENTS = Table("statements", (*_SHOWN, "recorded_by"))
CLAIM_HISTORY = Table("claim_history", IntervalRow._fields)
OUTBOX = Table("outbox", OutboxRow._fields)


_REVISE = (
    f"UPDATE views.incidents i SET ({', '.join(DESCRIPTION)}, revised_at)"  # noqa: S608
    f" = ({', '.join(f'r.{name}' for name in DESCRIPTION)}, r.recorded_at)"
    " FROM unnest($1::uuid[], $2::bigint[]) AS u(id, position)"
    " JOIN views.incident_revisions r ON r.incident_id = u.id AND r.position = u.position"
    " WHERE i.id = u.id"
)


@dataclass
class Rows:
    """What a batch writes, table by table, in position order."""

    sources: list[SourceRow] = field(default_factory=list)
    ratings: list[RatingRow] = field(default_factory=list)
    opened: list[Revision] = field(default_factory=list)
    revisions: list[Revision] = field(default_factory=list)
    # The latest revision of each incident revised in the batch, by position.
    revised: dict[UUID, int] = field(default_factory=dict)
    claims: list[ClaimRow] = field(default_factory=list)
    verdicts: list[VerdictRow] = field(default_factory=list)
    statements: list[tuple[Any, ...]] = field(default_factory=list)
    withdrawals: list[Withdrawal] = field(default_factory=list)
    # Claims whose stored history is deleted and written again from ``intervals``.
    rewritten: list[UUID] = field(default_factory=list)
    closed: list[Closed] = field(default_factory=list)
    intervals: list[IntervalRow] = field(default_factory=list)
    statuses: list[ClaimStatus] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)
    outbox: list[OutboxRow] = field(default_factory=list)

    async def write(self, db: Connection) -> None:
        await SOURCES.copy(db, self.sources)
        if self.ratings:
            await SOURCE_RATINGS.copy(db, self.ratings)
            reliability = {rating.source_id: rating.reliability for rating in self.ratings}
            await db.executemany(
                "UPDATE views.sources SET reliability = $2 WHERE id = $1", list(reliability.items())
            )
        await INCIDENTS.copy(db, self.opened)
        await INCIDENT_REVISIONS.copy(db, self.revisions)
        if self.revised:
            await db.execute(_REVISE, list(self.revised), list(self.revised.values()))
        await CLAIMS.copy(db, self.claims)
        if self.verdicts:
            await CLAIM_VERDICTS.copy(db, self.verdicts)
            verdict_now = {v.claim_id: v for v in self.verdicts}
            await db.executemany(
                "UPDATE views.claims SET verdict = $2, verdict_rationale = $3, verdict_at = $4"
                " WHERE id = $1",
                [(v.claim_id, v.verdict, v.rationale, v.recorded_at) for v in verdict_now.values()],
            )
        await STATEMENTS.copy(db, self.statements)
        if self.withdrawals:
            await db.executemany(
                "UPDATE views.statements SET withdrawn_at = $2, withdrawal_reason = $3,"
                " withdrawal_position = $4 WHERE id = $1",
                self.withdrawals,
            )
        await self._write_history(db)
        await _move_headlines(db, self.moves)
        await OUTBOX.copy(db, self.outbox)

    async def _write_history(self, db: Connection) -> None:
        if self.rewritten:
            await db.execute(
                "DELETE FROM views.claim_history WHERE claim_id = ANY($1::uuid[])", self.rewritten
            )
        if self.closed:
            await db.execute(
                "UPDATE views.claim_history h SET recorded_to = c.recorded_to"
                " FROM unnest($1::uuid[], $2::int[], $3::timestamptz[])"
                " AS c(claim_id, seq, recorded_to)"
                " WHERE h.claim_id = c.claim_id AND h.seq = c.seq",
                *_columns(self.closed),
            )
        await CLAIM_HISTORY.copy(db, self.intervals)
        if self.statuses:
            await db.execute(
                "UPDATE views.claims c SET status = u.status, reason = u.reason,"
                " deciding_statement_ids = string_to_array(u.deciding, ',')::uuid[],"
                " opposing_statement_ids = string_to_array(u.opposing, ',')::uuid[],"
                " status_since = coalesce(u.since, c.status_since)"
                " FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],"
                "   $6::timestamptz[]) AS u(id, status, reason, deciding, opposing, since)"
                " WHERE c.id = u.id",
                *_columns(self.statuses),
            )


def _columns(rows: Sequence[tuple[Any, ...]]) -> list[list[Any]]:
    """Rows as one list a column, for ``unnest``."""
    return [list(column) for column in zip(*rows, strict=True)]


async def _move_headlines(db: Connection, moves: Sequence[Move]) -> None:
    """Move each incident's status counts, its claim count and its headline by ``moves``."""
    deltas: dict[UUID, Counter[str]] = defaultdict(Counter)
    for move in moves:
        if move.before is not None:
            deltas[move.incident_id][move.before.value] -= 1
        deltas[move.incident_id][move.after.value] += 1
    if not deltas:
        return
    ids, counts, totals, headlines = [], [], [], []
    for row in await db.fetch(
        "SELECT id, status_counts FROM views.incidents WHERE id = ANY($1::uuid[])", list(deltas)
    ):
        merged = Counter(row["status_counts"])
        merged.update(deltas[row["id"]])
        kept = {status: n for status, n in merged.items() if n > 0}
        ids.append(row["id"])
        counts.append(msgspec.json.encode(kept).decode())
        totals.append(sum(kept.values()))
        headlines.append(headline(kept).value)
    await db.execute(
        "UPDATE views.incidents i SET status_counts = u.counts::jsonb, claim_count = u.total,"
        " headline_status = u.headline"
        " FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[])"
        " AS u(id, counts, total, headline) WHERE i.id = u.id",
        ids,
        counts,
        totals,
        headlines,
    )
