"""The claim page (status history as a band, verdict, statements), the source page (reliability
history, statements) and the moments an "as known at" slider steps through."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, get
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from claimledger.api.claimreview import json_ld_script, load_claim_review, publisher_of
from claimledger.api.deps import ServicesDep
from claimledger.api.public_url import public_base
from claimledger.api.schemas.claims import Claim, HistoryItem
from claimledger.api.schemas.record import SourceRecord
from claimledger.api.schemas.sources import Source
from claimledger.api.schemas.statements import TimelineItem
from claimledger.api.web.moment import rendered
from claimledger.api.web.pages import TIMELINE_LIMIT, At, Axis, KnownAt, PublishedBefore
from claimledger.api.web.reading import start
from claimledger.domain.errors import NotFound
from claimledger.projections.queries import claims as claim_queries
from claimledger.projections.queries import moments, timelines
from claimledger.projections.queries import record as record_queries
from claimledger.projections.queries import sources as source_queries
from claimledger.store.db import session

HISTORY_LIMIT = 500
SLIDER_MOMENTS = 300


class Segment(msgspec.Struct, kw_only=True):
    """One interval of a claim's status history, placed on the band (percentages)."""

    item: HistoryItem
    start: float
    width: float


def band(history: list[HistoryItem], end: datetime) -> list[Segment]:
    """The intervals laid out over recorded time, from the first to ``end``."""
    if not history:
        return []
    first = history[0].recorded_from
    span = max((end - first).total_seconds(), 1.0)
    segments = []
    for item in history:
        stop = item.recorded_to or end
        start = (item.recorded_from - first).total_seconds() / span * 100
        width = max((stop - item.recorded_from).total_seconds() / span * 100, 0.5)
        segments.append(Segment(item=item, start=round(start, 2), width=round(width, 2)))
    return segments


@get("/claims/{claim_id:uuid}", name="web-claim", include_in_schema=False)
async def claim_page(
    request: Request[Any, Any, Any],
    services: ServicesDep,
    claim_id: FromPath[UUID],
    known_at: KnownAt = None,
    published_before: PublishedBefore = None,
    at: At = None,
    axis: Axis = None,
) -> Template | Redirect:
    """The claim: its status and reasons, its verdict (with its ClaimReview, embedded as
    JSON-LD), its status history, its statements."""
    read = start(request, services, known_at, published_before, at, axis)
    if isinstance(read, Redirect):
        return read
    moment = read.moment
    async with session(read.db) as db:
        found = await claim_queries.get(db, claim_id, moment)
        if found is None:
            raise NotFound("claim", claim_id)
        history = [
            HistoryItem.of(row)
            for row in await claim_queries.history(
                db, claim_id, known_at=moment.known_at, after_seq=None, limit=HISTORY_LIMIT
            )
        ]
        on_claim = timelines.TimelineFilter(claim_id=claim_id)
        rows = await timelines.statements(db, on_claim, moment, after=None, limit=TIMELINE_LIMIT)
    claim = Claim.of(found)
    items = [TimelineItem.of(row) for row in rows]
    base = public_base(services.settings, request)
    review = await load_claim_review(
        read.db,
        claim_id,
        known_at=moment.known_at,
        publisher=publisher_of(services.settings, base),
        base_url=base,
    )
    last = history[-1].recorded_from if history else claim.recorded_at
    end = moment.known_at or max(datetime.now(UTC), last)
    return read.render(
        "claim.html",
        claim=claim,
        history=history,
        band=band(history, end),
        items=items,
        by_id={item.id: item for item in items},
        review=review,
        review_block=None if review is None else json_ld_script(review),
        incident_id=claim.incident_id,
    )


@get("/sources/{source_id:uuid}", name="web-source", include_in_schema=False)
async def source_page(
    request: Request[Any, Any, Any],
    services: ServicesDep,
    source_id: FromPath[UUID],
    known_at: KnownAt = None,
    published_before: PublishedBefore = None,
    at: At = None,
    axis: Axis = None,
) -> Template | Redirect:
    """The source: its reliability grade and its history, its track record, its statements."""
    read = start(request, services, known_at, published_before, at, axis)
    if isinstance(read, Redirect):
        return read
    moment = read.moment
    async with session(read.db) as db:
        row = await source_queries.get(db, source_id, known_at=moment.known_at)
        if row is None:
            raise NotFound("source", source_id)
        record = await record_queries.of_source(db, row, moment.known_at)
        rows = await timelines.statements(
            db,
            timelines.TimelineFilter(source_id=source_id),
            moment,
            after=None,
            limit=TIMELINE_LIMIT,
        )
    source = Source.of(row)
    return read.render(
        "source.html",
        source=source,
        record=SourceRecord.of(source, moment.known_at, record),
        items=[TimelineItem.of(r) for r in rows],
        incident_id=None,
    )


@get("/moments", name="web-moments", include_in_schema=False)
async def moments_fragment(
    request: Request[Any, Any, Any],
    services: ServicesDep,
    incident_id: FromQuery[UUID | None] = None,
    known_at: KnownAt = None,
    published_before: PublishedBefore = None,
) -> Template | Redirect:
    """The slider over the moments the record changed (an incident's, or the latest of all),
    loaded into a page after it: the page stays the same while the record grows."""
    read = start(request, services, known_at, published_before, None, None)
    if isinstance(read, Redirect):
        return read
    found = await moments.changes(read.db, incident_id, limit=SLIDER_MOMENTS)
    shown = read.moment.known_at or read.moment.published_before
    index = len(found) - 1
    if shown is not None:
        index = max((i for i, t in enumerate(found) if t <= shown), default=0)
    response = read.render(
        "moments.html", moments=[rendered(t) for t in found], index=index, incident_id=incident_id
    )
    response.headers["Cache-Control"] = "no-cache"
    return response
