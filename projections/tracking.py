"""The projection's tracking row: the position the views hold, and who may move it.

``views.tracking`` holds one row per projection: the position of the last event the views
hold, and when the projector last found nothing left behind it. Every batch locks the row, and
moving it notifies the API's watchers. The advisory lock ``LOCK_KEY`` keeps one projector (or
rebuild) active per database.
"""

from __future__ import annotations

import logging
from datetime import datetime

from claimledger.projections.schema import REBUILT_TABLES
from claimledger.store.db import Connection

log = logging.getLogger("claimledger.projector")

PROJECTION = "views"
PROJECTED_CHANNEL = "claimledger_projected"
LOCK_KEY = 0x636C_7072  # "clpr": one active projector per database


async def move_position(
    connection: Connection, position: int, *, caught_up_at: datetime | None = None
) -> None:
    """The views now hold every event up to ``position`` (in the caller's transaction), and,
    when given, every event committed before ``caught_up_at``; the API's watchers are told."""
    await connection.execute(
        "WITH moved AS (UPDATE views.tracking SET position = $2, updated_at = now(),"
        " last_error = NULL, last_error_at = NULL, caught_up_at = coalesce($3, caught_up_at)"
        " WHERE projection = $1 RETURNING position)"
        " SELECT pg_notify($4, position::text) FROM moved",
        PROJECTION,
        position,
        caught_up_at,
        PROJECTED_CHANNEL,
    )


async def reset_views(connection: Connection) -> None:
    """Empty every view and move the projection back to position 0, in one transaction.

    A running projector's next batch waits on the tracking row, then starts again from 0.
    """
    async with connection.transaction():
        await connection.execute(
            "SELECT position FROM views.tracking WHERE projection = $1 FOR UPDATE", PROJECTION
        )
        await connection.execute(f"TRUNCATE {', '.join(REBUILT_TABLES)}")
        await connection.execute(
            "UPDATE views.tracking SET position = 0, caught_up_at = NULL, updated_at = now()"
            " WHERE projection = $1",
            PROJECTION,
        )
        # Position 0 tells the API's watchers that the views went back: see PositionWatcher.
        await connection.execute("SELECT pg_notify($1, '0')", PROJECTED_CHANNEL)


async def empty_views_at_0(connection: Connection) -> None:
    """If the position is 0 and the views hold rows anyway (left by a replay in parts that
    died), empty them. The tracking row's lock waits for a part's transaction under way, and
    keeps the parts from starting another (they stop at their next one)."""
    async with connection.transaction():
        position = await connection.fetchval(
            "SELECT position FROM views.tracking WHERE projection = $1 FOR UPDATE", PROJECTION
        )
        if position != 0 or not await connection.fetchval(_ANY_ROW):
            return
        await connection.execute(f"TRUNCATE {', '.join(REBUILT_TABLES)}")
    log.warning("the views held rows at position 0 (a replay that died): emptied")


# The views' names are the module's own constants.
_ANY_ROW = "SELECT " + " OR ".join(f"EXISTS (SELECT FROM {t})" for t in REBUILT_TABLES)  # noqa: S608


async def projected_position(connection: Connection) -> int:
    position = await connection.fetchval(
        "SELECT position FROM views.tracking WHERE projection = $1", PROJECTION
    )
    assert isinstance(position, int)
    return position


async def try_lock(connection: Connection) -> bool:
    """Take the active projector's lock if nobody holds it."""
    taken = await connection.fetchval("SELECT pg_try_advisory_lock($1)", LOCK_KEY)
    return bool(taken)
