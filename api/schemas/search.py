"""Search: what a hit shows, and the page of hits."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from msgspec import Meta, Struct

from claimledger.api.schemas.common import Row
from claimledger.domain.values import Stance
from claimledger.projections.queries.snippets import snippet_parts


class HitKind(StrEnum):
    """What a hit is: an incident (title, summary, place name), a claim (its text), a
    statement (its quote) or a source (its name)."""

    INCIDENT = "incident"
    CLAIM = "claim"
    STATEMENT = "statement"
    SOURCE = "source"


class SnippetPart(Struct, kw_only=True):
    """A piece of a snippet: plain text (never HTML: show it as text), and whether it is a
    word the search matched."""

    text: str
    match: bool


class SearchHit(Struct, kw_only=True):
    """One text that matches, with where it belongs.

    ``title`` is what to head the hit with: the incident's title, the claim's text, the source's
    name, or for a statement its source's name. ``snippet`` is the matching text (whole, or
    around its matches when long) in parts, matches marked: join the parts' texts for the plain
    text. ``rank`` orders hits of every kind together; it means nothing across searches.
    """

    kind: HitKind
    id: UUID
    rank: Annotated[float, Meta(ge=0)]
    title: str
    snippet: list[SnippetPart]
    incident_id: UUID | None
    claim_id: UUID | None
    source_id: UUID | None
    stance: Stance | None
    language: str | None
    published_at: datetime | None
    recorded_at: datetime
    withdrawn_at: datetime | None

    @classmethod
    def of(cls, row: Row) -> SearchHit:
        """A row of the search query, its marked snippet in parts."""
        return cls(
            kind=HitKind(row["kind"]),
            id=row["id"],
            rank=row["rank"],
            title=row["title"],
            snippet=[SnippetPart(text=t, match=m) for t, m in snippet_parts(row["marked"])],
            incident_id=row["incident_id"],
            claim_id=row["claim_id"],
            source_id=row["source_id"],
            stance=None if row["stance"] is None else Stance(row["stance"]),
            language=row["language"],
            published_at=row["published_at"],
            recorded_at=row["recorded_at"],
            withdrawn_at=row["withdrawn_at"],
        )


class SearchPage(Struct, kw_only=True):
    """A page of hits, best first; ``next_cursor`` asks for the next (None on the last page)."""

    items: list[SearchHit]
    next_cursor: str | None
