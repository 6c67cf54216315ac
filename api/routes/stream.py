"""The live stream: the outbox as Server-Sent Events, resumable from ``Last-Event-ID``.

A replay from an old ``Last-Event-ID`` reads the outbox a page at a time, each entry's JSON as
the database's text (never decoded), and sends each page framed as one chunk: an open stream
holds one small page, and a replay costs one write per page rather than one per event. A comment
line alone (no blank line after it, which some clients would take for an empty event) keeps idle
connections open; a lost database pauses a stream (with keep-alives) instead of ending it. Each
process serves at most ``max_streams`` streams at once.
"""

from __future__ import annotations

import logging
import re
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Annotated, Any

import anyio
import asyncpg
from litestar import Request, Response, get
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.exceptions import HTTPException, ValidationException
from litestar.params import HeaderParameter, QueryParameter
from litestar.response import ServerSentEvent, Stream

from claimledger.api.auth import KEY_OPTIONAL, Role
from claimledger.api.deps import ServicesDep
from claimledger.api.problems import READ_PROBLEMS, problem, problem_responses
from claimledger.api.reads import INT64_MAX
from claimledger.projections.outbox import EventType
from claimledger.projections.projector import RECONNECT_SECONDS
from claimledger.projections.schema import LAST_SEQ
from claimledger.runtime.bootstrap import ReadSource
from claimledger.store.db import CONNECTION_ERRORS
from claimledger.store.metrics import STREAMS_OPEN

log = logging.getLogger("claimledger.stream")

PAGE = 100

_FEED = """
SELECT position, seq, type, payload::text AS data FROM views.outbox
WHERE (position, seq) > ($1, $2::int) AND ($3::text[] IS NULL OR type = ANY($3::text[]))
ORDER BY position, seq LIMIT $4
"""


class StreamsFull(HTTPException):
    """This process has as many streams open as it may."""

    status_code = 503


def _streams_full(request: Request[Any, Any, Any], error: StreamsFull) -> Response[Any]:
    # "unavailable", not the 503 "not-ready" every other HTTP error gets: nothing is behind.
    return problem(request, "unavailable", str(error.detail), headers=dict(error.headers or {}))


class BadEventId(ValidationException):
    """A ``Last-Event-ID`` this stream never sent: a 400 problem naming the header."""

    def __init__(self, value: str) -> None:
        message = f"{value!r} is not an event id of this stream"
        super().__init__(
            detail=f"Last-Event-ID: {message}",
            extra=[{"key": "Last-Event-ID", "message": message, "source": "header"}],
        )


class StreamCount:
    """The streams this process has open, up to a limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open = 0

    def take(self) -> Callable[[], None]:
        """A place, or ``StreamsFull``; calling what it answers gives the place back (once,
        however often it is called)."""
        if self.open >= self.limit:
            raise StreamsFull(
                detail=f"this server has {self.open} streams open, its limit; retry later",
                headers={"Retry-After": "5"},
            )
        self.open += 1
        STREAMS_OPEN.inc()
        given_back = False

        def give_back() -> None:
            nonlocal given_back
            if not given_back:
                given_back = True
                self.open -= 1
                STREAMS_OPEN.dec()

        return give_back


def provide_streams(state: State) -> StreamCount:
    """This process's count of open streams (made with the app)."""
    streams: StreamCount = state.streams
    return streams


def event_id(position: int, seq: int) -> str:
    """The position; a second entry from the same event gets ``position.seq``."""
    return str(position) if seq == 0 else f"{position}.{seq}"


_EVENT_ID = re.compile(r"([0-9]+)(?:\.([0-9]+))?")
_EVENT_ID_MAX = 64


def parse_event_id(value: str) -> tuple[int, int]:
    """``position`` or ``position.seq`` in ASCII digits (``int`` alone would also take ``+1``,
    ``1_0`` or other scripts' digits)."""
    match = _EVENT_ID.fullmatch(value.strip()) if len(value) <= _EVENT_ID_MAX else None
    if match is None:
        raise BadEventId(value)
    parsed = (int(match[1]), int(match[2] or 0))
    if not (parsed[0] <= INT64_MAX and parsed[1] <= LAST_SEQ):
        raise BadEventId(value)
    return parsed


# A comment line and nothing more: a blank line after it would end an event with no data, which
# the spec ignores but clients such as httpx-sse deliver as an empty event.
KEEP_ALIVE = b": keep-alive\r\n"
RETRY_MILLISECONDS = 2000
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def frame(identifier: str, kind: str, data: str) -> str:
    """One event as text/event-stream lines, ended by the blank line that dispatches it."""
    # The database's JSON text is one line; the split only guards the framing.
    if "\n" in data or "\r" in data:
        data = "\r\ndata: ".join(_LINE_BREAK.split(data))
    return f"id: {identifier}\r\nevent: {kind}\r\ndata: {data}\r\n\r\n"


def _page(rows: list[asyncpg.Record]) -> bytes:
    """Rows of ``_FEED`` as one chunk of events."""
    return "".join(
        [frame(event_id(position, seq), kind, data) for position, seq, kind, data in rows]
    ).encode()


async def _events(
    source: ReadSource,
    after: tuple[int, int],
    types: list[str] | None,
    heartbeat: float,
    give_back: Callable[[], None],
) -> AsyncGenerator[bytes, None]:
    position, seq = after
    watcher = source.watcher
    try:
        yield f"retry: {RETRY_MILLISECONDS}\r\n".encode()
        while True:
            # Everything up to here is in the rows the query below can see.
            visible = watcher.position
            try:
                rows = await source.pool.fetch(_FEED, position, seq, types, PAGE)
            except CONNECTION_ERRORS as error:
                log.warning("a stream lost the database (%s); it waits", error)
                yield KEEP_ALIVE
                await anyio.sleep(RECONNECT_SECONDS)
                continue
            full = len(rows) == PAGE
            if rows:
                page = _page(rows)
                position, seq = rows[-1]["position"], rows[-1]["seq"]
                del rows
                yield page
                del page  # not held while the next page is read
            if not full and not await watcher.wait_for(max(position, visible) + 1, heartbeat):
                yield KEEP_ALIVE
    finally:
        # At once when the client goes while the stream waits (the wait is cancelled), rather
        # than when the generator is collected, which a reference cycle can put off for long.
        give_back()


class EventStream(ServerSentEvent):
    """A ``text/event-stream`` of chunks framed already (Litestar's own frames one message per
    chunk, and cannot send a comment line without a blank line after it)."""

    def __init__(self, chunks: AsyncIterator[bytes], *, background: BackgroundTask) -> None:
        Stream.__init__(
            self,
            content=chunks,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            background=background,
        )


@get(
    "/stream",
    operation_id="stream",
    summary="Live events as Server-Sent Events",
    tags=["stream"],
    responses=problem_responses(*READ_PROBLEMS),
    opt={"role": Role.READER},
    security=KEY_OPTIONAL,
    exception_handlers={StreamsFull: _streams_full},
    dependencies={"streams": Provide(provide_streams, sync_to_thread=False)},
)
async def stream(
    services: ServicesDep,
    streams: NamedDependency[StreamCount],
    types: Annotated[
        list[EventType] | None, QueryParameter(description="Only these event types")
    ] = None,
    last_event_id: Annotated[
        str | None,
        HeaderParameter(
            name="Last-Event-ID",
            description="Resume after this event: everything after it, nothing twice. "
            "Empty means none.",
        ),
    ] = None,
) -> ServerSentEvent:
    """Every change as it is projected: `event` is its type, `id` its position, `data` its
    JSON. Without `Last-Event-ID` (or with an empty one) the stream starts with what happens
    next. A comment line (`: keep-alive`) is sent every 15 s while nothing happens."""
    source = services.reads
    if last_event_id is not None and last_event_id.strip():
        after = parse_event_id(last_event_id)
    else:
        after = (source.watcher.position, LAST_SEQ)
    wanted = [str(t) for t in types] if types else None
    give_back = streams.take()
    events = _events(source, after, wanted, services.settings.stream_heartbeat_seconds, give_back)

    async def close() -> None:
        # A client that goes while a chunk is being sent leaves the generator at its yield,
        # and one that never started has no finally to run: the response's end closes both.
        await events.aclose()
        give_back()

    # The last resort, should the response never end: when the generator is collected.
    weakref.finalize(events, give_back)
    return EventStream(events, background=BackgroundTask(close))
