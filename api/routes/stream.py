"""The live stream: the feed as Server-Sent Events, resumable from ``Last-Event-ID``.

A replay from an old ``Last-Event-ID`` reads the feed a page at a time, each entry's JSON as
the database's text (never decoded), so an open stream holds one small page. A comment line
keeps idle connections open; a lost database pauses a stream (with keep-alives) instead of
ending it. Each process serves at most ``max_streams`` streams at once.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
from litestar import Request, get
from litestar.datastructures import State
from litestar.params import HeaderParameter, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from api.auth import Role
from api.problems import READ_PROBLEMS, problem_responses
from api.reads import INT64_MAX, BadParameter, NotReady, ReadSource
from api.settings import Settings
from api.webhook_schemas import EventType
from projections.db import CONNECTION_ERRORS
from projections.projector import RECONNECT_SECONDS
from projections.schema import LAST_SEQ

log = logging.getLogger("claimledger.stream")

PAGE = 100

_FEED = """
SELECT position, seq, type, payload::text AS data FROM views.feed
WHERE (position, seq) > ($1, $2::int) AND ($3::text[] IS NULL OR type = ANY($3::text[]))
ORDER BY position, seq LIMIT $4
"""


class StreamCount:
    """The streams this process has open, up to a limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open = 0

    def take(self) -> None:
        if self.open >= self.limit:
            raise NotReady(
                detail=f"this server has {self.open} streams open, its limit; retry later",
                headers={"Retry-After": "5"},
            )
        self.open += 1

    def give_back(self) -> None:
        self.open -= 1


def event_id(position: int, seq: int) -> str:
    """The position; a second entry from the same event gets ``position.seq``."""
    return str(position) if seq == 0 else f"{position}.{seq}"


def parse_event_id(value: str) -> tuple[int, int]:
    position, _, seq = value.strip().partition(".")
    try:
        parsed = (int(position), int(seq or 0))
    except ValueError:
        raise BadParameter(
            "Last-Event-ID", f"{value!r} is not an event id of this stream"
        ) from None
    if not (0 <= parsed[0] <= INT64_MAX and 0 <= parsed[1] <= LAST_SEQ):
        raise BadParameter("Last-Event-ID", f"{value!r} is not an event id of this stream")
    return parsed


KEEP_ALIVE = ServerSentEventMessage(comment="keep-alive", data=None)


async def _events(
    source: ReadSource, after: tuple[int, int], types: list[str] | None, heartbeat: float
) -> AsyncIterator[ServerSentEventMessage]:
    position, seq = after
    watcher = source.watcher
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
        for row in rows:
            position, seq = row["position"], row["seq"]
            yield ServerSentEventMessage(
                data=row["data"], event=row["type"], id=event_id(position, seq)
            )
        del rows
        if not full and not await watcher.wait_for(max(position, visible) + 1, heartbeat):
            yield KEEP_ALIVE


@get(
    "/stream",
    operation_id="stream",
    summary="Live events as Server-Sent Events",
    tags=["stream"],
    responses=problem_responses(*READ_PROBLEMS),
    opt={"role": Role.READER},
)
async def stream(
    request: Request[Any, Any, Any],
    state: State,
    types: Annotated[
        list[EventType] | None, QueryParameter(description="Only these event types")
    ] = None,
    last_event_id: Annotated[
        str | None,
        HeaderParameter(
            name="Last-Event-ID",
            max_length=64,
            description="Resume after this event: everything after it, nothing twice. "
            "Empty means none.",
        ),
    ] = None,
) -> ServerSentEvent:
    """Every change as it is projected: `event` is its type, `id` its position, `data` its
    JSON. Without `Last-Event-ID` (or with an empty one) the stream starts with what happens
    next. A comment line (`: keep-alive`) is sent every 15 s while nothing happens."""
    source: ReadSource = state.reads
    if last_event_id is not None and last_event_id.strip():
        after = parse_event_id(last_event_id)
    else:
        after = (source.watcher.position, LAST_SEQ)
    wanted = [str(t) for t in types] if types else None
    settings: Settings = state.settings
    streams: StreamCount = state.streams
    streams.take()
    events = _events(source, after, wanted, settings.stream_heartbeat_seconds)
    # Given back when the stream is gone, however it ends (even if it never started).
    weakref.finalize(events, streams.give_back)
    return ServerSentEvent(events, retry_duration=2000)
