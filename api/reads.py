"""What every read shares: read-your-writes waits, time parameters and HTTP caching.

A GET with ``min_position=N`` waits (bounded) until the projector has passed N, else answers 503
with ``Retry-After``. Every answer carries the projector's position and a strong ETag; an answer
as known at a moment before the settled horizon can never change, so it is cacheable forever.

Reads may go to a replica (``DATABASE_READ_URL``). The position, the horizon and so the cache
headers of an answer are always those of the database it was read from, and a read that asks for
more than the replica has applied is answered from the primary.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Request, Response
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, ValidationException
from litestar.params import QueryParameter

from claimledger.domain.errors import InvalidInput
from claimledger.domain.values import check_instant
from claimledger.projections.queries.moment import Moment
from claimledger.projections.watcher import PositionWatcher
from claimledger.runtime.bootstrap import ReadSource, Services
from claimledger.runtime.settings import Settings
from claimledger.store.db import DatabaseUnavailable, Db
from claimledger.store.events import head_position

T = TypeVar("T")

POSITION_HEADER = "X-Projection-Position"
IMMUTABLE = "max-age=31536000, immutable"
# Positions and other counters are PostgreSQL bigints.
INT64_MAX = 2**63 - 1


_encoder = msgspec.json.Encoder()
# A '+' in an unencoded query string arrives as a space: "...T06:10:00 00:00".
_SPACED_OFFSET = re.compile(r" (\d{2}:?\d{2})$")


class BadParameter(ValidationException):
    """A query parameter that cannot be read; answered as a 400 problem naming it."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(
            detail=f"{name}: {message}",
            extra=[{"key": name, "message": message, "source": "query"}],
        )


class NotReady(HTTPException):
    status_code = 503


def parse_instant(name: str, value: str | None) -> datetime | None:
    """An RFC 3339 instant with an offset, or a 400 naming the parameter."""
    if value is None:
        return None
    text = _SPACED_OFFSET.sub(r"+\1", value.strip())
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise BadParameter(name, f"{value!r} is not an RFC 3339 date-time") from None
    if moment.tzinfo is None:
        raise BadParameter(name, "a date-time needs an offset, e.g. Z or +02:00")
    try:
        check_instant(moment, field=name)
    except InvalidInput as error:
        raise BadParameter(name, error.detail) from None
    return moment


# Instants are read by ``parse_instant`` (which also takes a '+' that arrived as a space).
INSTANT = {"format": "date-time"}
KnownAt = Annotated[
    str | None,
    QueryParameter(
        description="Answer as the ledger knew it at this instant (RFC 3339, with offset, from "
        "1900 up to 2200): only what was recorded at or before it, without later withdrawals or "
        "revisions.",
        examples=[],
        schema_extra=INSTANT,
    ),
]
PublishedBefore = Annotated[
    str | None,
    QueryParameter(
        description="Only statements their sources had published strictly before this instant "
        "(RFC 3339, with offset, from 1900 up to 2200), including ones the ledger recorded later.",
        schema_extra=INSTANT,
    ),
]
MinPosition = Annotated[
    int | None,
    QueryParameter(
        ge=0,
        le=INT64_MAX,
        description="Wait (up to 5 s) until the read model has applied this position; "
        "pass a write's `position` to read your own write. A position no event has yet is a 400.",
        # (Litestar leaves out a lower bound of 0.)
        schema_extra={"minimum": 0},
    ),
]


@dataclass
class ReadContext:
    """One read: the database to query, the moment asked about, and how to answer."""

    request: Request[Any, Any, Any]
    db: Db
    watcher: PositionWatcher
    settings: Settings
    moment: Moment
    # Where a search runs (``ReadSource.searches``).
    searches: Db

    @property
    def known_at(self) -> datetime | None:
        return self.moment.known_at

    def respond(
        self, data: T, media_type: str = "application/json", *, vary: bool = False
    ) -> Response[T]:
        """Encode ``data`` with an ETag and cache headers; 304 when the client has it already.

        ``vary``: the answer was chosen by the ``Accept`` header (caches keep one per type)."""
        body = _encoder.encode(data)
        digest = hashlib.sha256(body)
        if media_type != "application/json":
            # The same bytes as another type are another representation, with a tag of its own.
            digest.update(media_type.encode())
        etag = '"' + digest.hexdigest()[:40] + '"'
        headers = self.headers(etag, vary=vary)
        if self.has(etag):
            response: Response[Any] = Response(content=b"", status_code=304, headers=headers)
        else:
            response = Response(content=body, media_type=media_type, headers=headers)
        return response

    def headers(self, etag: str, *, vary: bool = False) -> dict[str, str]:
        """The headers of an answer with this ETag: position and cache control."""
        headers = {
            "ETag": etag,
            POSITION_HEADER: str(self.watcher.position),
            "Cache-Control": self._cache_control(),
        }
        return {**headers, "Vary": "Accept"} if vary else headers

    def has(self, etag: str) -> bool:
        """Whether the client's ``If-None-Match`` names ``etag`` (it may be answered 304)."""
        return etag.removeprefix("W/") in _etags(self.request.headers.get("if-none-match"))

    def _cache_control(self) -> str:
        horizon = self.watcher.horizon
        known_at = self.moment.known_at
        if known_at is not None and horizon is not None and known_at < horizon:
            scope = "public" if self.settings.public_read else "private"
            return f"{scope}, {IMMUTABLE}"
        return "no-cache"


def _etags(header: str | None) -> set[str]:
    if not header:
        return set()
    return {tag.strip().removeprefix("W/") for tag in header.split(",")}


async def _read_source(services: Services, min_position: int | None) -> ReadSource:
    """Where to read: the read database, or the primary when the read database has not yet
    applied ``min_position``; waiting (bounded) for the primary when it has not either."""
    reads = services.reads
    if min_position is None or reads.watcher.position >= min_position:
        return reads
    primary = services.primary_reads
    if primary.watcher.available is False:
        raise DatabaseUnavailable("the database is out of reach; retry shortly")
    head = await head_position(services.pool)
    if min_position > head:
        raise BadParameter(
            "min_position", f"no event has position {min_position} (the last one is {head})"
        )
    if await primary.watcher.wait_for(min_position, services.settings.min_position_wait_seconds):
        return primary
    raise NotReady(
        detail=f"the read model is at position {primary.watcher.position}, not yet {min_position}",
        headers={"Retry-After": "1", POSITION_HEADER: str(primary.watcher.position)},
    )


async def provide_read(
    request: Request[Any, Any, Any],
    services: NamedDependency[Services],
    known_at: KnownAt = None,
    min_position: MinPosition = None,
) -> ReadContext:
    """A read as known at ``known_at`` (or now), once the views have passed ``min_position``."""
    moment = Moment(known_at=parse_instant("known_at", known_at))
    source = await _read_source(services, min_position)
    return ReadContext(
        request, source.pool, source.watcher, services.settings, moment, source.searches
    )


async def provide_bitemporal_read(
    request: Request[Any, Any, Any],
    services: NamedDependency[Services],
    known_at: KnownAt = None,
    published_before: PublishedBefore = None,
    min_position: MinPosition = None,
) -> ReadContext:
    """A read on both time axes: recorded by ``known_at``, published before ``published_before``."""
    moment = Moment(
        known_at=parse_instant("known_at", known_at),
        published_before=parse_instant("published_before", published_before),
    )
    source = await _read_source(services, min_position)
    return ReadContext(
        request, source.pool, source.watcher, services.settings, moment, source.searches
    )
