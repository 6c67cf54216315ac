"""Timelines: statements in order of publication, across incidents or within one."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Response, get
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter
from litestar.response import Stream

from claimledger.api.auth import KEY_OPTIONAL, Role
from claimledger.api.deps import ReadDep
from claimledger.api.negotiation import CSV, JSON, TimelineFormat, choose
from claimledger.api.paging import Cursor, Limit, decode_cursor, page_of
from claimledger.api.problems import READ_PROBLEMS, problem_responses
from claimledger.api.reads import INSTANT, BadParameter, ReadContext, parse_instant
from claimledger.api.schemas.statements import TimelineItem, TimelinePage
from claimledger.api.timeline_csv import stream_rows
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


def _check(read: ReadContext, filters: TimelineFilter) -> None:
    if (
        filters.published_after is not None
        and read.moment.published_before is not None
        and filters.published_after >= read.moment.published_before
    ):
        raise BadParameter("published_after", "must be before published_before")


async def timeline_page(
    read: ReadContext, filters: TimelineFilter, cursor: str | None, limit: int
) -> TimelinePage:
    after = decode_cursor(cursor, "timeline", tuple[datetime, int])
    _check(read, filters)
    rows = await timeline_queries.statements(
        read.db, filters, read.moment, after=after, limit=limit + 1
    )
    page, next_cursor = page_of(
        rows, limit, "timeline", lambda row: (row["published_at"], row["position"])
    )
    return TimelinePage(items=[TimelineItem.of(row) for row in page], next_cursor=next_cursor)


TIMELINE_FORMATS = (JSON, CSV)
TimelineFormatParameter = Annotated[
    TimelineFormat | None,
    QueryParameter(
        description="`csv` for CSV (as `Accept: text/csv` asks): every statement, one a row, "
        "streamed; it takes no `cursor` or `limit`. Wins over `Accept`."
    ),
]


def timeline_csv(read: ReadContext, filters: TimelineFilter, name: str) -> Response[Any]:
    """The whole timeline as a streamed CSV (``api.timeline_csv``).

    Its ETag is weak: it names the request and the read model's position, not the bytes, which
    are not known before they are sent."""
    for parameter in ("cursor", "limit"):
        if parameter in read.request.query_params:
            raise BadParameter(parameter, "the CSV export streams the whole timeline; leave it out")
    _check(read, filters)
    # What the rows depend on: the filters and moments, not how the format or a wait was asked.
    asked = sorted(
        (parameter, value)
        for parameter, value in read.request.query_params.multi_items()
        if parameter not in ("format", "min_position")
    )
    key = f"csv {read.request.url.path} {asked} {read.watcher.position}".encode()
    etag = 'W/"' + hashlib.sha256(key).hexdigest()[:40] + '"'
    headers = read.headers(etag, vary=True)
    if read.has(etag):
        return Response(content=b"", status_code=304, headers=headers)
    return Stream(
        stream_rows(read, filters),
        media_type="text/csv",  # Litestar adds "; charset=utf-8"
        headers={**headers, "Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


async def timeline_answer(
    read: ReadContext,
    filters: TimelineFilter,
    cursor: str | None,
    limit: int,
    format: TimelineFormat | None,
    name: str,
) -> Response[Any]:
    """A timeline as the client asked for it: a JSON page or the whole of it as CSV."""
    if choose(read.request.headers.get("accept"), TIMELINE_FORMATS, format) == CSV:
        return timeline_csv(read, filters, name)
    return read.respond(await timeline_page(read, filters, cursor, limit), vary=True)


@get(
    "/timeline",
    operation_id="getTimeline",
    summary="Statements across incidents in order of publication",
    tags=["timelines"],
    responses=problem_responses(*READ_PROBLEMS, 406),
    opt={"role": Role.READER, "formats": TIMELINE_FORMATS},
    security=KEY_OPTIONAL,
    dependencies=TIMELINE_FILTERS,
)
async def timeline(
    bitemporal_read: ReadDep,
    filters: TimelineFilterDep,
    incident_id: Annotated[UUID | None, QueryParameter(description="Only this incident")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
    format: TimelineFormatParameter = None,
) -> Response[TimelinePage]:
    """Every statement, ordered by `published_at`, as known at `known_at`, with filters; as
    CSV with `Accept: text/csv` or `format=csv`."""
    if incident_id is not None:
        filters = replace(filters, incident_id=incident_id)
    return await timeline_answer(bitemporal_read, filters, cursor, limit, format, "timeline")
