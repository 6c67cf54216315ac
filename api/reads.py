"""What every read shares: read-your-writes waits, time parameters, cursors and HTTP caching.

A GET with ``min_position=N`` waits (bounded) until the projector has passed N, else answers 503
with ``Retry-After``. Every answer carries the projector's position and a strong ETag; an answer
as known at a moment before the settled horizon can never change, so it is cacheable forever.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Request, Response
from litestar.datastructures import State
from litestar.exceptions import HTTPException, ValidationException
from litestar.params import QueryParameter

from api.settings import Settings
from projections.db import Db
from projections.queries import Moment
from projections.watcher import PositionWatcher

T = TypeVar("T")

POSITION_HEADER = "X-Projection-Position"
IMMUTABLE = "max-age=31536000, immutable"

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
    return moment


KnownAt = Annotated[
    str | None,
    QueryParameter(
        description="Answer as the ledger knew it at this instant (RFC 3339, with offset): only "
        "what was recorded at or before it, without later withdrawals or revisions.",
        examples=[],
    ),
]
PublishedBefore = Annotated[
    str | None,
    QueryParameter(
        description="Only statements their sources had published strictly before this instant, "
        "including ones the ledger recorded later.",
    ),
]
MinPosition = Annotated[
    int | None,
    QueryParameter(
        ge=0,
        description="Wait (up to 5 s) until the read model has applied this position; "
        "pass a write's `position` to read your own write.",
    ),
]
Cursor = Annotated[
    str | None,
    QueryParameter(max_length=512, description="`next_cursor` from the previous page."),
]
Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Items per page (1-200).")]


def encode_cursor(kind: str, *values: Any) -> str:
    raw = _encoder.encode([kind, *values])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(value: str | None, kind: str, shape: type[T]) -> T | None:
    """The values a cursor of ``kind`` holds, typed as ``shape``; a 400 when it is not one."""
    if value is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        tagged = msgspec.json.decode(raw, type=list[Any])
        if not tagged or tagged[0] != kind:
            raise ValueError(kind)
        return msgspec.convert(list(tagged[1:]), type=shape)
    except (ValueError, msgspec.DecodeError, msgspec.ValidationError, TypeError):
        raise BadParameter("cursor", "not a cursor this list gave out") from None


@dataclass
class View:
    """One read: the pool to query, the moment asked about, and how to answer."""

    request: Request[Any, Any, Any]
    db: Db
    watcher: PositionWatcher
    settings: Settings
    moment: Moment

    @property
    def known_at(self) -> datetime | None:
        return self.moment.known_at

    def respond(self, data: T) -> Response[T]:
        """Encode ``data`` with an ETag and cache headers; 304 when the client has it already."""
        body = _encoder.encode(data)
        etag = '"' + hashlib.sha256(body).hexdigest()[:40] + '"'
        headers = {
            "ETag": etag,
            POSITION_HEADER: str(self.watcher.position),
            "Cache-Control": self._cache_control(),
        }
        if etag in _etags(self.request.headers.get("if-none-match")):
            response: Response[Any] = Response(content=b"", status_code=304, headers=headers)
        else:
            response = Response(content=body, media_type="application/json", headers=headers)
        return response

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


async def _ready(state: State, min_position: int | None) -> PositionWatcher:
    watcher: PositionWatcher = state.watcher
    settings: Settings = state.settings
    if min_position is not None and not await watcher.wait_for(
        min_position, settings.min_position_wait_seconds
    ):
        raise NotReady(
            detail=f"the read model is at position {watcher.position}, not yet {min_position}",
            headers={"Retry-After": "1", POSITION_HEADER: str(watcher.position)},
        )
    return watcher


async def provide_view(
    request: Request[Any, Any, Any],
    state: State,
    known_at: KnownAt = None,
    min_position: MinPosition = None,
) -> View:
    """A read as known at ``known_at`` (or now), once the views have passed ``min_position``."""
    moment = Moment(known_at=parse_instant("known_at", known_at))
    watcher = await _ready(state, min_position)
    return View(request, state.read_pool, watcher, state.settings, moment)


async def provide_bitemporal_view(
    request: Request[Any, Any, Any],
    state: State,
    known_at: KnownAt = None,
    published_before: PublishedBefore = None,
    min_position: MinPosition = None,
) -> View:
    """A read on both time axes: recorded by ``known_at``, published before ``published_before``."""
    moment = Moment(
        known_at=parse_instant("known_at", known_at),
        published_before=parse_instant("published_before", published_before),
    )
    watcher = await _ready(state, min_position)
    return View(request, state.read_pool, watcher, state.settings, moment)
