"""Stored events as plain JSON, encoded and decoded with msgspec.

The event table's ``state`` column holds UTF-8 JSON of the event's own fields (everything but the
originator id and version, which have columns of their own), readable with
``convert_from(state, 'UTF8')::jsonb`` in psql.

An event's ``topic`` is part of what is stored, so it does not follow where the code lives: it
is the class's module path inside the ``claimledger`` package (``domain.statement:
StatementRecorded``), as it was before the package had one name, and such topics resolve to the
classes wherever they are now.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    JSONTranscoder,
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    Transcoder,
)
from eventsourcing.utils import get_topic, register_topic, resolve_topic

import claimledger.domain

_PACKAGE = "claimledger."
# "domain.statement:StatementRecorded" (and aggregates' "domain.statement:Statement") resolve to
# the classes in claimledger.domain.
register_topic("domain", claimledger.domain)

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(dict[str, Any])


def stored_topic(cls: type) -> str:
    """The topic an event of ``cls`` is stored under (see the module's docstring)."""
    return get_topic(cls).removeprefix(_PACKAGE)


class MsgspecMapper(Mapper[UUID]):
    """Maps domain events to stored events and back, through msgspec JSON."""

    def __init__(self, transcoder: Transcoder | None = None, **_: Any) -> None:
        # The library hands every mapper a transcoder; this one encodes by itself.
        super().__init__(transcoder=transcoder or JSONTranscoder())

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        state = dict(vars(domain_event))
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        return StoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=stored_topic(type(domain_event)),
            state=_encoder.encode(state),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        cls = resolve_topic(stored_event.topic)
        try:
            state = _decoder.decode(stored_event.state)
            from_version = state.pop("class_version", 1)
            class_version = getattr(cls, "class_version", 1)
            while from_version < class_version:
                getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
                from_version += 1
            state["originator_id"] = stored_event.originator_id
            state["originator_version"] = stored_event.originator_version
            event: DomainEventProtocol[UUID] = msgspec.convert(state, cls)
        except (msgspec.ValidationError, msgspec.DecodeError) as error:
            msg = (
                f"cannot decode event {stored_event.topic} of "
                f"{stored_event.originator_id} v{stored_event.originator_version}: {error}"
            )
            raise MapperDeserialisationError(msg) from error
        return event
