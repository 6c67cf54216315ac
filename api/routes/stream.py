"""The live stream: the feed as Server-Sent Events, resumable from ``Last-Event-ID``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import msgspec
from litestar import Request, get
from litestar.datastructures import State
from litestar.params import HeaderParameter, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from api.auth import Role
from api.problems import READ_PROBLEMS, problem_responses
from api.reads import BadParameter
from api.webhook_schemas import EventType
from projections.db import Pool
from projections.schema import LAST_SEQ
from projections.watcher import PositionWatcher

HEARTBEAT_SECONDS = 15.0
_BATCH = 500

_FEED = """
SELECT position, seq, type, payload FROM views.feed
WHERE (position, seq) > ($1, $2::int) AND ($3::text[] IS NULL OR type = ANY($3::text[]))
ORDER BY position, seq LIMIT $4
"""


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
    if parsed[0] < 0 or parsed[1] < 0:
        raise BadParameter("Last-Event-ID", "event ids are not negative")
    return parsed


async def _events(
    pool: Pool, watcher: PositionWatcher, after: tuple[int, int], types: list[str] | None
) -> AsyncIterator[ServerSentEventMessage]:
    position, seq = after
    while True:
        rows = await pool.fetch(_FEED, position, seq, types, _BATCH)
        for row in rows:
            position, seq = row["position"], row["seq"]
            yield ServerSentEventMessage(
                data=_json(row["payload"]), event=row["type"], id=event_id(position, seq)
            )
        if len(rows) == _BATCH:
            continue
        if not await watcher.wait_for(max(position, watcher.position) + 1, HEARTBEAT_SECONDS):
            yield ServerSentEventMessage(comment="keep-alive")


def _json(payload: Any) -> str:
    return msgspec.json.encode(payload).decode()


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
            description="Resume after this event: everything after it, nothing twice",
        ),
    ] = None,
) -> ServerSentEvent:
    """Every change as it is projected: `event` is its type, `id` its position, `data` its
    JSON. Without `Last-Event-ID` the stream starts with what happens next."""
    watcher: PositionWatcher = state.watcher
    pool: Pool = state.read_pool
    if last_event_id is not None:
        after = parse_event_id(last_event_id)
    else:
        after = (watcher.position, LAST_SEQ)
    wanted = [str(t) for t in types] if types else None
    return ServerSentEvent(_events(pool, watcher, after, wanted), retry_duration=2000)
