"""Timelines: statements in order of publication, across incidents or within one."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated
from uuid import UUID

from litestar import Response, get
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter

from claimledger.api.auth import KEY_OPTIONAL, Role
from claimledger.api.deps import ReadDep
from claimledger.api.paging import Cursor, Limit, decode_cursor, page_of
from claimledger.api.problems import READ_PROBLEMS, problem_responses
from claimledger.api.reads import INSTANT, BadParameter, ReadContext, parse_instant
from claimledger.api.schemas.statements import TimelineItem, TimelinePage
from claimledger.domain.values import Stance
from claimledger.projections.queries import timelines as timeline_queries
from claimledger.projections.queries.timelines import TimelineFilter


def provide_timeline_filter(
    claim_id: Annotated[UUID | None, QueryParameter(description="Only this claim")] = None,
    source_id: Annotated[UUID | None, QueryParameter(description="Only this source")] = None,
    stance: Annotated[list[Stance] | None, QueryParameter(description="Only these stances")] = None,
    published_after: Annotated[
        str | None,
        QueryParameter(
            description="Only statements published at or after this instant",
            schema_extra=INSTANT,
        ),
    ] = None,
    withdrawn: Annotated[
        bool, QueryParameter(description="Include withdrawn statements (marked `withdrawn_at`)")
    ] = True,
) -> TimelineFilter:
    """The filters both timelines take."""
    return TimelineFilter(
        claim_id=claim_id,
        source_id=source_id,
        stances=[s.value for s in stance or ()],
        published_after=parse_instant("published_after", published_after),
        include_withdrawn=withdrawn,
    )


TimelineFilterDep = NamedDependency[TimelineFilter]
TIMELINE_FILTERS = {"filters": Provide(provide_timeline_filter, sync_to_thread=False)}


async def timeline_page(
    read: ReadContext, filters: TimelineFilter, cursor: str | None, limit: int
) -> TimelinePage:
    after = decode_cursor(cursor, "timeline", tuple[datetime, int])
    if (
        filters.published_after is not None
        and read.moment.published_before is not None
        and filters.published_after >= read.moment.published_before
    ):
        raise BadParameter("published_after", "must be before published_before")
    rows = await timeline_queries.statements(
        read.db, filters, read.moment, after=after, limit=limit + 1
    )
    page, next_cursor = page_of(
        rows, limit, "timeline", lambda row: (row["published_at"], row["position"])
    )
    return TimelinePage(items=[TimelineItem.of(row) for row in page], next_cursor=next_cursor)


@get(
    "/timeline",
    operation_id="getTimeline",
    summary="Statements across incidents in order of publication",
    tags=["timelines"],
    responses=problem_responses(*READ_PROBLEMS),
    opt={"role": Role.READER},
    security=KEY_OPTIONAL,
    dependencies=TIMELINE_FILTERS,
)
async def timeline(
    bitemporal_read: ReadDep,
    filters: TimelineFilterDep,
    incident_id: Annotated[UUID | None, QueryParameter(description="Only this incident")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Response[TimelinePage]:
    """Every statement, ordered by `published_at`, as known at `known_at`, with filters."""
    if incident_id is not None:
        filters = replace(filters, incident_id=incident_id)
    return bitemporal_read.respond(await timeline_page(bitemporal_read, filters, cursor, limit))
