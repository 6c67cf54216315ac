"""The import and export format: one JSON object per line, told apart by ``type``.

Each line has the fields of its request body plus the ids that tie lines together; ``export``
writes every id, ``recorded_at`` and ``recorded_by`` too. A line without an id gets one derived
from its type, its content and how many identical lines came before it, so the same line names the
same record every time the file is imported.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

import msgspec

from claimledger.api.schemas.claims import ClaimCreate, VerdictCreate
from claimledger.api.schemas.common import Aware
from claimledger.api.schemas.incidents import IncidentCreate
from claimledger.api.schemas.sources import SourceCreate, SourceRatingCreate
from claimledger.api.schemas.statements import (
    IdempotencyKeyText,
    StatementBatchItem,
    WithdrawalCreate,
)
from claimledger.domain.statement import statement_id_for

# Ids derived from a line's content live in their own namespace.
IMPORTED = UUID("3d1c8e52-7f0a-5b6e-a1c4-9e2f6b0d7a13")


class SourceLine(SourceCreate, tag="source", tag_field="type", kw_only=True):
    id: UUID | None = None
    recorded_at: Aware | None = None
    recorded_by: UUID | None = None


class SourceRatingLine(SourceRatingCreate, tag="source_rating", tag_field="type", kw_only=True):
    source_id: UUID
    recorded_at: Aware | None = None
    recorded_by: UUID | None = None


class IncidentLine(IncidentCreate, tag="incident", tag_field="type", kw_only=True):
    id: UUID | None = None
    recorded_at: Aware | None = None
    recorded_by: UUID | None = None


class IncidentRevisionLine(IncidentCreate, tag="incident_revision", tag_field="type", kw_only=True):
    """The whole description an incident has from this revision on."""

    incident_id: UUID
    recorded_at: Aware | None = None
    recorded_by: UUID | None = None


class ClaimLine(ClaimCreate, tag="claim", tag_field="type", kw_only=True):
    incident_id: UUID
    id: UUID | None = None
    recorded_at: Aware | None = None
    recorded_by: UUID | None = None


class VerdictLine(VerdictCreate, tag="verdict", tag_field="type", kw_only=True):
    claim_id: UUID
    recorded_at: Aware | None = None
    recorded_by: UUID | None = None


class StatementLine(StatementBatchItem, tag="statement", tag_field="type", kw_only=True):
    """A statement and its claim, as in a batch; ``request_digest`` (written by ``export``) keeps
    a retry of the request that first recorded it recognised."""

    id: UUID | None = None
    request_digest: str | None = None
    recorded_at: Aware | None = None
    recorded_by: UUID | None = None


class WithdrawalLine(WithdrawalCreate, tag="withdrawal", tag_field="type", kw_only=True):
    """Names the statement by id or by the idempotency key it was recorded with."""

    statement_id: UUID | None = None
    idempotency_key: IdempotencyKeyText | None = None
    recorded_at: Aware | None = None
    recorded_by: UUID | None = None


Line = (
    SourceLine
    | SourceRatingLine
    | IncidentLine
    | IncidentRevisionLine
    | ClaimLine
    | VerdictLine
    | StatementLine
    | WithdrawalLine
)
# Lines that create a source, an incident or a claim are saved together.
ENTITY_LINES = (SourceLine, IncidentLine, ClaimLine)
decoder = msgspec.json.Decoder(Line)


class LineRefused(ValueError):
    """A line that cannot be imported as it is."""


def kind_of(line: Line) -> str:
    return str(type(line).__struct_config__.tag)


def recorded_at_of(line: Line) -> datetime | None:
    return line.recorded_at


_sorted = msgspec.json.Encoder(order="sorted")
_NAMESPACE = IMPORTED.bytes


def derived_id(line: Line) -> UUID:
    """An id from the line's type and content, without when and by whom it was recorded: the
    name-based (version 5) UUID, in ``IMPORTED``, of the line's JSON with its keys sorted."""
    content = msgspec.structs.replace(line, recorded_at=None, recorded_by=None)
    # ``uuid5(IMPORTED, text)`` without decoding the JSON to text and encoding it back.
    digest = hashlib.sha1(_NAMESPACE + _sorted.encode(content), usedforsecurity=False).digest()
    return UUID(bytes=digest[:16], version=5)


class Occurrences:
    """How many lines of each content came before: the n-th of identical lines without an id
    is a record of its own, and the n-th again the next time the file is imported."""

    def __init__(self) -> None:
        self._seen: dict[int, int] = {}

    def id_for(self, base: UUID) -> UUID:
        earlier = self._seen.get(base.int, 0)
        self._seen[base.int] = earlier + 1
        return base if earlier == 0 else uuid5(base, str(earlier))


def record_id(
    line: SourceLine | IncidentLine | ClaimLine | StatementLine, occurrences: Occurrences
) -> UUID:
    """The id of the record a creating line makes."""
    if isinstance(line, StatementLine) and line.idempotency_key is not None:
        by_key = statement_id_for(line.idempotency_key)
        if line.id is not None and line.id != by_key:
            msg = f"id {line.id} is not the id of idempotency_key {line.idempotency_key!r}"
            raise LineRefused(msg)
        return by_key
    return line.id if line.id is not None else occurrences.id_for(derived_id(line))


def withdrawn_id(line: WithdrawalLine) -> UUID:
    if line.statement_id is not None:
        return line.statement_id
    if line.idempotency_key is not None:
        return statement_id_for(line.idempotency_key)
    raise LineRefused("a withdrawal needs statement_id or idempotency_key")


def fields_of(value: Any, names: Any) -> dict[str, Any]:
    return {name: getattr(value, name) for name in names}
