"""Stored events as the projector reads them: decoded, and made fit for the views.

The write side refuses what PostgreSQL cannot keep, but an event stored by an older version may
still hold it: a NUL character in a text (shown as U+FFFD in the views) or an instant whose UTC
form lies outside the calendar (moved to the nearest instant that has one). Such an event takes a
slower path that mends it; every other event is decoded by the mapper alone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from eventsourcing.persistence import StoredEvent

from claimledger.store.codec import MsgspecMapper

REPLACEMENT = "\ufffd"
_NUL_ESCAPE = b"\\u0000"
# The instants a client chooses; the others are stamped by the server.
_INSTANT_FIELDS = ("published_at", "occurred_from", "occurred_to")
# A day inside the calendar's ends: the driver reads its very ends back as "infinity" (naive),
# and an instant a day inside them has a form in every offset.
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)


def _fits(value: object) -> bool:
    """Whether an instant lies within [EARLIEST, LATEST] (only the first and last year may not)."""
    if not isinstance(value, datetime) or 1 < value.year < 9999:
        return True
    try:
        return EARLIEST <= value.astimezone(UTC) <= LATEST
    except OverflowError:
        return False


def _clamped(text: str) -> str:
    instant = msgspec.convert(text, datetime)
    if _fits(instant):
        return text
    return (EARLIEST if instant.year == 1 else LATEST).isoformat()


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", REPLACEMENT)
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {key: _without_nul(item) for key, item in value.items()}
    return value


def mended(state: bytes) -> bytes:
    """An event's stored state with NUL replaced and out-of-calendar instants clamped."""
    fields = _without_nul(msgspec.json.decode(state))
    for name in _INSTANT_FIELDS:
        if isinstance(fields.get(name), str):
            fields[name] = _clamped(fields[name])
    return msgspec.json.encode(fields)


class EventDecoder:
    """Decodes stored events with the ledger's own mapper, mending what the views cannot take."""

    def __init__(self) -> None:
        self.mapper = MsgspecMapper()

    def decode(self, stored: StoredEvent) -> Any:
        if _NUL_ESCAPE not in stored.state:
            event = self.mapper.to_domain_event(stored)
            if all(_fits(getattr(event, name, None)) for name in _INSTANT_FIELDS):
                return event
        return self.mapper.to_domain_event(
            StoredEvent(
                originator_id=stored.originator_id,
                originator_version=stored.originator_version,
                topic=stored.topic,
                state=mended(stored.state),
            )
        )
