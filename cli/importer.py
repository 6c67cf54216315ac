"""``claimledger import FILE.ndjson``: load many records through the application, in batches.

One JSON object per line, told apart by ``type``: ``source``, ``incident``, ``claim``,
``statement`` and ``withdrawal``, each with the fields of its request body plus the ids that tie
them together. Consecutive lines of one type are saved together, up to 1,000 per transaction; a
bad line stops the import there with its line number, after the batches before it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec

from claimledger.api.schemas.claims import ClaimCreate
from claimledger.api.schemas.incidents import IncidentCreate
from claimledger.api.schemas.sources import SourceCreate
from claimledger.api.schemas.statements import (
    IdempotencyKeyText,
    StatementBatchItem,
    WithdrawalCreate,
)
from claimledger.domain.claim import Claim
from claimledger.domain.incident import Incident
from claimledger.domain.source import Source
from claimledger.domain.statement import statement_id_for
from claimledger.runtime.writer import Writer

BATCH = 1000


class SourceLine(SourceCreate, tag="source", tag_field="type"):
    id: UUID | None = None


class IncidentLine(IncidentCreate, tag="incident", tag_field="type"):
    id: UUID | None = None


class ClaimLine(ClaimCreate, tag="claim", tag_field="type", kw_only=True):
    incident_id: UUID
    id: UUID | None = None


class StatementLine(StatementBatchItem, tag="statement", tag_field="type", kw_only=True):
    """A statement and its claim, as in a batch."""


class WithdrawalLine(WithdrawalCreate, tag="withdrawal", tag_field="type"):
    """Names the statement by id or by the idempotency key it was recorded with."""

    statement_id: UUID | None = None
    idempotency_key: IdempotencyKeyText | None = None


Line = SourceLine | IncidentLine | ClaimLine | StatementLine | WithdrawalLine
_decoder = msgspec.json.Decoder(Line)


class ImportFailed(ValueError):
    """A line that cannot be imported; the message names it."""


@dataclass
class Imported:
    records: int = 0
    seconds: float = 0.0
    by_type: dict[str, int] | None = None


def read_lines(path: Path) -> Iterator[tuple[int, Line]]:
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                yield number, _decoder.decode(raw)
            except msgspec.ValidationError as error:
                raise ImportFailed(f"line {number}: {error}") from None
            except msgspec.DecodeError as error:
                raise ImportFailed(f"line {number}: not JSON ({error})") from None


def _chunks(lines: Iterable[tuple[int, Line]]) -> Iterator[list[tuple[int, Line]]]:
    for _, same_type in groupby(lines, key=lambda pair: type(pair[1])):
        chunk: list[tuple[int, Line]] = []
        for pair in same_type:
            chunk.append(pair)
            if len(chunk) == BATCH:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


async def import_file(
    writer: Writer,
    path: Path,
    *,
    recorded_by: UUID,
    progress: Callable[[int], None] | None = None,
) -> Imported:
    started = time.monotonic()
    result = Imported(by_type={})
    assert result.by_type is not None
    for chunk in _chunks(read_lines(path)):
        first_line = chunk[0][0]
        records = [line for _, line in chunk]
        try:
            await _save(writer, records, recorded_by)
        except Exception as error:
            raise ImportFailed(f"lines {first_line}-{chunk[-1][0]}: {error}") from error
        kind = type(records[0]).__struct_config__.tag
        result.by_type[str(kind)] = result.by_type.get(str(kind), 0) + len(records)
        result.records += len(records)
        if progress is not None:
            progress(result.records)
    result.seconds = time.monotonic() - started
    return result


async def _save(writer: Writer, records: list[Any], recorded_by: UUID) -> None:
    ledger = writer.ledger
    first = records[0]
    if isinstance(first, StatementLine):
        await writer.record_statements([r.request() for r in records], recorded_by=recorded_by)
    elif isinstance(first, WithdrawalLine):
        withdrawals = [(_withdrawn_id(r), r.reason) for r in records]
        await writer.run(ledger.withdraw_statements, withdrawals, recorded_by=recorded_by)
    else:
        aggregates = [_aggregate(r, recorded_by) for r in records]
        await writer.run(ledger.create, aggregates)


def _withdrawn_id(line: WithdrawalLine) -> UUID:
    if line.statement_id is not None:
        return line.statement_id
    if line.idempotency_key is not None:
        return statement_id_for(line.idempotency_key)
    raise ImportFailed("a withdrawal needs statement_id or idempotency_key")


def _aggregate(line: Any, recorded_by: UUID) -> Source | Incident | Claim:
    if isinstance(line, SourceLine):
        return Source.register(
            name=line.name,
            kind=line.kind,
            affiliation=line.affiliation,
            channels=tuple(line.channels),
            url=line.url,
            recorded_by=recorded_by,
            source_id=line.id,
        )
    if isinstance(line, IncidentLine):
        return Incident.open(line.draft(), recorded_by=recorded_by, incident_id=line.id)
    assert isinstance(line, ClaimLine)
    return Claim.add(
        incident_id=line.incident_id, text=line.text, recorded_by=recorded_by, claim_id=line.id
    )
