"""What every resource's bodies share: the strict base, the bounded texts, instants, URLs and
positions, and what every write answers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Self, TypeAlias
from uuid import UUID

import asyncpg
import msgspec
from msgspec import Meta, Struct

from claimledger.domain.receipts import Receipt

# A row of a view as a read body is built from: an asyncpg Record or a dict (jsonb comes as
# dicts and lists), read by column name.
Row: TypeAlias = asyncpg.Record | Mapping[str, Any]

Aware = Annotated[
    datetime,
    Meta(
        tz=True,
        description="RFC 3339 date-time with an offset, e.g. 2024-03-12T06:10:00Z, from "
        "1900-01-01 up to (not including) 2200-01-01",
    ),
]
# Every free text refuses NUL (U+0000), which PostgreSQL cannot keep in text or jsonb.
NO_NUL = r"^[^\x00]*$"
# An absolute http(s) URL with a host: no space or control character anywhere, and no bracket in
# the host (an IPv6 literal, or half of one, which URL parsers refuse or read differently).
URL_PATTERN = r"^https?://[^\x00-\x20\x7f/?#\[\]]+(?:[/?#][^\x00-\x20\x7f]*)?$"
Url = Annotated[str, Meta(max_length=2048, pattern=URL_PATTERN)]
Name = Annotated[str, Meta(min_length=1, max_length=300, pattern=NO_NUL)]
ShortText = Annotated[str, Meta(min_length=1, max_length=2000, pattern=NO_NUL)]
LongText = Annotated[str, Meta(min_length=1, max_length=20_000, pattern=NO_NUL)]
Latitude = Annotated[float, Meta(ge=-90, le=90)]
Longitude = Annotated[float, Meta(ge=-180, le=180)]
Channel = Annotated[str, Meta(min_length=1, max_length=64, pattern=NO_NUL)]
# A position in the ledger: strictly increasing with every event, but not gap-free (a failed or
# concurrent write may use up a number), so nothing may count on consecutive numbers.
Position = Annotated[
    int,
    Meta(
        description="The event's position in the ledger: increasing, may skip numbers "
        "(a failed or concurrent write can use one up)."
    ),
]


class Strict(Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of every request body: unknown fields are an error, not silently dropped."""


class FromRow(Struct):
    """Base of a read body that is a view's row as it is: ``X.of(row)`` builds one."""

    @classmethod
    def of(cls, row: Row) -> Self:
        """The body of ``row``, a column to a field of the same name (other columns ignored)."""
        return msgspec.convert(row, cls)


class Written(Struct, kw_only=True):
    """What every write answers."""

    id: UUID
    position: Position
    recorded_at: datetime

    @classmethod
    def of(cls, receipt: Receipt) -> Written:
        """A receipt with its position (``Writer.positioned``), as the API answers it."""
        return msgspec.convert(receipt, cls, from_attributes=True)


class WrittenBatch(Struct, kw_only=True):
    """What a batch answers: one receipt per statement, in the order they were sent."""

    items: list[Written]
