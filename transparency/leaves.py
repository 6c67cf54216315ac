"""A leaf of the log: the canonical bytes of one event.

Leaf ``i`` is the ``i``-th event of the event table in position order. Its bytes, all integers
big-endian:

====== ======== ==============================================================
offset  length   field
====== ======== ==============================================================
0       1        format, 1
1       8        position (the event's ``notification_id``), unsigned
9       16       aggregate id (a UUID's 16 bytes)
25      8        aggregate version, unsigned
33      8        ``recorded_at``: microseconds since 1970-01-01T00:00:00Z, signed
                 (the state's ``timestamp``; -2**63 when the state has none)
41      2        topic length ``T``
43      T        topic, UTF-8
43+T    4        state length ``S``
47+T    S        state: the event's JSON, UTF-8, byte for byte as stored
====== ======== ==============================================================

A client holding a leaf can read every field back (``decode_leaf``) and check that the JSON
says what the fields say.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import msgspec

FORMAT = 1
NO_TIME = -(2**63)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_HEAD = struct.Struct(">BQ16sQq")
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")


class _Stamp(msgspec.Struct):
    timestamp: datetime | None = None


_stamp = msgspec.json.Decoder(_Stamp)


def recorded_micros(state: bytes) -> int:
    """When the event was recorded, in microseconds since the epoch, from its JSON."""
    try:
        stamp = _stamp.decode(state).timestamp
    except msgspec.MsgspecError:
        return NO_TIME
    if stamp is None or stamp.tzinfo is None:
        return NO_TIME
    delta = stamp - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def encode_leaf(position: int, aggregate_id: UUID, version: int, topic: str, state: bytes) -> bytes:
    """The leaf bytes of one event, as the module's table lays them out."""
    name = topic.encode()
    return b"".join(
        (
            _HEAD.pack(FORMAT, position, aggregate_id.bytes, version, recorded_micros(state)),
            _U16.pack(len(name)),
            name,
            _U32.pack(len(state)),
            state,
        )
    )


@dataclass(frozen=True)
class Leaf:
    """The fields of a leaf, read back."""

    position: int
    aggregate_id: UUID
    version: int
    recorded_at: datetime | None
    topic: str
    state: bytes


def decode_leaf(data: bytes) -> Leaf:
    """Read a leaf's fields; ValueError when the bytes are not a leaf of format 1."""
    try:
        form, position, aggregate_id, version, micros = _HEAD.unpack_from(data)
        offset = _HEAD.size
        (topic_length,) = _U16.unpack_from(data, offset)
        offset += _U16.size
        topic = data[offset : offset + topic_length].decode()
        offset += topic_length
        (state_length,) = _U32.unpack_from(data, offset)
        offset += _U32.size
    except (struct.error, UnicodeDecodeError) as error:
        msg = f"not a leaf: {error}"
        raise ValueError(msg) from error
    if form != FORMAT:
        msg = f"not a leaf of format {FORMAT}: {form}"
        raise ValueError(msg)
    if offset + state_length != len(data):
        msg = f"not a leaf: {len(data) - offset} bytes of state where {state_length} were said"
        raise ValueError(msg)
    recorded_at = None if micros == NO_TIME else _EPOCH + timedelta(microseconds=micros)
    return Leaf(position, UUID(bytes=aggregate_id), version, recorded_at, topic, data[offset:])
