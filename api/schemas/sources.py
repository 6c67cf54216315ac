"""Sources: registering one, rating its reliability, and reading them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta, Struct

from claimledger.api.schemas.common import (
    Channel,
    Name,
    Position,
    Row,
    ShortText,
    Strict,
    Url,
)
from claimledger.domain.values import RELIABILITY_LABELS, Reliability, SourceKind, reliability_label

ReliabilityLabel = Annotated[
    str,
    Meta(
        description="The Admiralty words of the grade: "
        + "; ".join(f"{grade.value} {words}" for grade, words in RELIABILITY_LABELS.items()),
        examples=["cannot be judged"],
    ),
]


class SourceCreate(Strict):
    """Who speaks: a name, a kind, an affiliation and channels."""

    name: Name
    kind: SourceKind
    affiliation: Name | None = None
    channels: Annotated[list[Channel], Meta(max_length=32)] = []  # noqa: RUF012 - a Struct gives each instance its own
    url: Url | None = None


class Source(Struct, kw_only=True):
    """A source with its reliability grade (as it was at ``known_at``, if asked) and the
    grade's words."""

    id: UUID
    name: str
    kind: SourceKind
    affiliation: str | None
    channels: list[str]
    url: str | None
    reliability: Reliability
    reliability_label: ReliabilityLabel
    recorded_at: datetime
    position: Position

    @classmethod
    def of(cls, row: Row) -> Source:
        """A row of the sources' read query, with the words of its grade."""
        return msgspec.convert(
            {**row, "reliability_label": reliability_label(row["reliability"])}, cls
        )


class SourcePage(Struct, kw_only=True):
    """A page of sources; ``next_cursor`` asks for the next (None on the last page)."""

    items: list[Source]
    next_cursor: str | None


class SourceRatingCreate(Strict):
    """A grade, A to F (Admiralty code), with its rationale."""

    reliability: Reliability
    rationale: ShortText | None = None
