"""Events the views cannot take: set aside in ``views.skipped_events`` with the error, and
logged, so that they never stop the ledger (``claimledger rebuild`` tries them again)."""

from __future__ import annotations

import logging
from typing import Any

from claimledger.store.db import Connection

log = logging.getLogger("claimledger.projector")

_ERROR_TEXT_MAX = 2000


def error_text(error: BaseException) -> str:
    """An error as one line the views can keep (no NUL, bounded)."""
    text = f"{type(error).__name__}: {error}".replace("\x00", "\ufffd")
    return text[:_ERROR_TEXT_MAX]


def describe(row: Any) -> str:
    """A stored event (a row of the event table) in a few words."""
    return (
        f"event {row['notification_id']} ({row['topic']} of {row['originator_id']}"
        f" v{row['originator_version']})"
    )


async def record_skipped(db: Connection, row: Any, error: BaseException) -> None:
    """Log the event and keep why it was set aside."""
    log.error("skipped %s, which the views cannot take: %s", describe(row), error_text(error))
    await db.execute(
        "INSERT INTO views.skipped_events"
        " (position, topic, originator_id, originator_version, error)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (position) DO NOTHING",
        row["notification_id"],
        row["topic"],
        row["originator_id"],
        row["originator_version"],
        error_text(error),
    )
