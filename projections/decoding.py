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

from domain.codec import MsgspecMapper

REPLACEMENT = "\ufffd"
_NUL_ESCAPE = b"\\u0000"
# The instants a client chooses; the others are stamped by the server.
_INSTANT_FIELDS = ("published_at", "occurred_from", "occurred_to")
_EARLIEST = datetime.min.replace(tzinfo=UTC)
_LATEST = datetime.max.replace(tzinfo=UTC)


def _fits(value: object) -> bool:
    """Whether an instant can be turned to UTC (only the calendar's first and last year can't)."""
    if not isinstance(value, datetime) or 1 < value.year < 9999:
        return True
    try:
        value.astimezone(UTC)
    except OverflowError:
        return False
    return True


def _clamped(text: str) -> str:
    instant = msgspec.convert(text, datetime)
    if _fits(instant):
        return text
    return (_EARLIEST if instant.year == 1 else _LATEST).isoformat()


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
