"""``Idempotency-Key`` on every creating POST, and what a 201 answers (``Location`` with it).

The rules are those of statements: the same key with the same request answers the first result
again, with ``Idempotent-Replayed: true``, and writes nothing; the same key with another request
is a 422 problem. Each kind keeps its keys its own way:

- statements keep a digest of their request in their first event (``domain.receipts``);
- sources, incidents and claims are created with an id derived from the key, so no second one
  can be made, and what their first event stored is compared with what is asked;
- ratings, verdicts and withdrawals add an event to an aggregate that exists already; their keys
  are kept in ``ledger.idempotency_keys`` (``store.idempotency``) with a digest of the request;
- webhook subscriptions keep the key and a digest in their own row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields, is_dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar
from uuid import UUID, uuid5

import msgspec
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError
from litestar import Response
from litestar.params import HeaderParameter

from claimledger.api.schemas.common import Written
from claimledger.domain.errors import IdempotencyConflict
from claimledger.domain.ledger import Ledger
from claimledger.domain.receipts import Receipt
from claimledger.runtime.writer import Writer
from claimledger.store import idempotency
from claimledger.store.db import Pool

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")
REPLAYED_HEADER = "Idempotent-Replayed"

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Makes a retry safe: the same key with the same request answers the first "
        "result again (with `Idempotent-Replayed: true`) and writes nothing; the same key with "
        "another request is refused with a 422 problem `idempotency-key-reused`.",
    ),
]

# Ids of what is created with an Idempotency-Key, one namespace a kind: a retry of the same key
# finds the aggregate its first attempt created.
_NAMESPACES = {
    "source": UUID("0c5a2f5e-3d1b-5a0e-8f4c-1b7d6e2a9c31"),
    "incident": UUID("5e8d7c1a-2b4f-5c6e-9a0d-3f1e2b4c6d82"),
    "claim": UUID("a3c1e5f7-9b2d-5e4f-8a6c-7d9e1f3a5b64"),
}


def id_for(kind: str, key: str) -> UUID:
    """The id of the ``kind`` (source, incident, claim) that the key ``key`` creates."""
    return uuid5(_NAMESPACES[kind], key)


def digest(operation: str, target: UUID | None, body: msgspec.Struct) -> str:
    """What a request asked, to tell a retry from a key used again for something else."""
    encoded = msgspec.json.encode(body, order="sorted")
    text = f"{operation}\x00{target or ''}\x00".encode()
    return hashlib.sha256(text + encoded).hexdigest()


def reused() -> IdempotencyConflict:
    """The 422 problem of a key used before for another request."""
    return IdempotencyConflict(
        "this Idempotency-Key was used before for a different request", field="Idempotency-Key"
    )


def _plain(value: Any) -> Any:
    """A value as compared: sequences as lists, instants in UTC, dataclasses field by field."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return value


def same(stored: Any, asked: Any) -> bool:
    """Whether what an event stored is what a request asks (as values, not as types)."""
    return bool(_plain(stored) == _plain(asked))


def _first_version(ledger: Ledger, kind: type[A], aggregate_id: UUID) -> A | None:
    try:
        found: Aggregate = ledger.repository.get(aggregate_id, version=1)
    except AggregateNotFoundError:
        return None
    if not isinstance(found, kind):
        raise reused()
    return found


def create_once(
    ledger: Ledger,
    kind: type[A],
    aggregate_id: UUID,
    matches: Callable[[A], bool],
    create: Callable[[], Receipt],
) -> Receipt:
    """Create an aggregate with an id derived from a key, or answer the one created before.

    Runs in a worker thread (``Writer.run``). ``matches`` says whether the aggregate as first
    created is what this request asks; when it is not, the key was used for another request.
    """
    existing = _first_version(ledger, kind, aggregate_id)
    if existing is None:
        try:
            return create()
        except IntegrityError:
            # A concurrent request with the same key won.
            existing = _first_version(ledger, kind, aggregate_id)
            if existing is None:
                raise
    if not matches(existing):
        raise reused()
    return Receipt(id=existing.id, recorded_at=existing.created_on, position=None, replayed=True)


@dataclass(frozen=True, slots=True)
class Asked:
    """A request that adds an event: its operation, the id in its path, its body and its key."""

    operation: str
    target: UUID
    body: msgspec.Struct
    key: str | None


async def append_once(
    db: Pool, asked: Asked, write: Callable[[], Awaitable[tuple[Receipt, str]]]
) -> tuple[Receipt, str]:
    """Add an event (``write`` answers its receipt and the URL to show) once for a key.

    A key is one operation's: the same key on another operation is another request.
    """
    if asked.key is None:
        return await write()
    request_digest = digest(asked.operation, asked.target, asked.body)
    async with idempotency.turn(db, f"{asked.operation}:{asked.key}") as turn:
        if turn.found is not None:
            if turn.found.digest != request_digest:
                raise reused()
            first = turn.found
            receipt = Receipt(first.id, first.recorded_at, first.position, replayed=True)
            return receipt, first.location
        receipt, location = await write()
        assert receipt.position is not None
        answer = idempotency.Remembered(
            request_digest, receipt.id, receipt.position, receipt.recorded_at, location
        )
        await turn.remember(request_digest, answer)
        return receipt, location


async def written(writer: Writer, receipt: Receipt, location: str) -> Response[Written]:
    """A 201 with the receipt (and its position), ``Location``, and whether it was replayed."""
    positioned = await writer.positioned(receipt)
    return created(Written.of(positioned), location, replayed=receipt.replayed)


def created(body: T, location: str, *, replayed: bool = False) -> Response[T]:
    """A 201 answer: ``Location`` is the URL of what was made (or of the resource it changed)."""
    headers = {"Location": location}
    if replayed:
        headers[REPLAYED_HEADER] = "true"
    return Response(body, status_code=201, headers=headers)
