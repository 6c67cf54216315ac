"""Stored events as the projector reads them: decoded, and made fit for the views.

The projector reads each event's stored JSON straight into a Struct with the event's own fields
(generated from the domain's event class, so the two cannot drift apart), about five times
faster than building the domain's event through the library's mapper. The type checker is told
they are the domain's classes: they have the same fields, with the same types.

The write side refuses what PostgreSQL cannot keep, but an event stored by an older version may
still hold it: a NUL character in a text (shown as U+FFFD in the views) or an instant whose UTC
form lies outside the calendar (moved to the nearest instant that has one). Such an event takes a
slower path that mends it, as does an event stored by an older class version (upcast by the
mapper).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, get_type_hints
from uuid import UUID

import msgspec
from eventsourcing.persistence import StoredEvent

from claimledger.domain import claim, incident, source, statement
from claimledger.store.codec import MsgspecMapper, stored_topic

REPLACEMENT = "\ufffd"
_NUL_ESCAPE = b"\\u0000"
_CLASS_VERSION = b'"class_version"'
# The instants a client chooses; the others are stamped by the server.
_INSTANT_FIELDS = ("published_at", "occurred_from", "occurred_to")
# A day inside the calendar's ends: the driver reads its very ends back as "infinity" (naive),
# and an instant a day inside them has a form in every offset.
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)
_ORIGINATOR = ("originator_id", "originator_version")


def _read_as(cls: type) -> type[msgspec.Struct]:
    """A Struct with the fields of the event class ``cls``, decoded from its stored state (which
    holds all but the originator's id and version: those are set from their columns)."""
    hints = get_type_hints(cls)
    fields: list[tuple[str, Any, Any]] = []
    for field in dataclasses.fields(cls):
        if field.name in _ORIGINATOR:
            fields.append((field.name, Any, None))
            continue
        default: Any = msgspec.NODEFAULT
        if field.default is not dataclasses.MISSING:
            default = field.default
        elif field.default_factory is not dataclasses.MISSING:
            default = msgspec.field(default_factory=field.default_factory)
        fields.append((field.name, hints[field.name], default))
    return msgspec.defstruct(cls.__name__, fields, kw_only=True, gc=False, module=__name__)


if TYPE_CHECKING:
    SourceRegistered = source.SourceRegistered
    SourceRated = source.SourceRated
    IncidentOpened = incident.IncidentOpened
    IncidentRevised = incident.IncidentRevised
    ClaimAdded = claim.ClaimAdded
    ClaimVerdictGiven = claim.ClaimVerdictGiven
    StatementRecorded = statement.StatementRecorded
    StatementWithdrawn = statement.StatementWithdrawn
else:
    SourceRegistered = _read_as(source.SourceRegistered)
    SourceRated = _read_as(source.SourceRated)
    IncidentOpened = _read_as(incident.IncidentOpened)
    IncidentRevised = _read_as(incident.IncidentRevised)
    ClaimAdded = _read_as(claim.ClaimAdded)
    ClaimVerdictGiven = _read_as(claim.ClaimVerdictGiven)
    StatementRecorded = _read_as(statement.StatementRecorded)
    StatementWithdrawn = _read_as(statement.StatementWithdrawn)

_READ_AS: dict[str, type[Any]] = {
    stored_topic(domain_class): struct
    for domain_class, struct in (
        (source.SourceRegistered, SourceRegistered),
        (source.SourceRated, SourceRated),
        (incident.IncidentOpened, IncidentOpened),
        (incident.IncidentRevised, IncidentRevised),
        (claim.ClaimAdded, ClaimAdded),
        (claim.ClaimVerdictGiven, ClaimVerdictGiven),
        (statement.StatementRecorded, StatementRecorded),
        (statement.StatementWithdrawn, StatementWithdrawn),
    )
}


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
    """Decodes stored events for the projector, mending what the views cannot take."""

    def __init__(self) -> None:
        self.mapper = MsgspecMapper()
        self._decoders = {topic: msgspec.json.Decoder(cls) for topic, cls in _READ_AS.items()}

    def decode(self, originator_id: UUID, version: int, topic: str, state: bytes) -> Any:
        """The event, as a read Struct for the types the views know, else the domain's event."""
        decoder = self._decoders.get(topic)
        if decoder is not None and _NUL_ESCAPE not in state and _CLASS_VERSION not in state:
            try:
                event = decoder.decode(state)
            except (msgspec.ValidationError, msgspec.DecodeError):
                event = None
            if event is not None and all(
                _fits(getattr(event, name, None)) for name in _INSTANT_FIELDS
            ):
                event.originator_id = originator_id
                event.originator_version = version
                return event
        domain_event = self.mapper.to_domain_event(
            StoredEvent(
                originator_id=originator_id,
                originator_version=version,
                topic=topic,
                state=mended(state),
            )
        )
        read_as = _READ_AS.get(topic)
        if read_as is None:
            return domain_event
        return msgspec.convert(vars(domain_event), read_as, from_attributes=True)
