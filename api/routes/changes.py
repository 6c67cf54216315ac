"""What the ledger learned about an incident between two moments of recorded time."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Request, Response, get
from litestar.params import FromPath, QueryParameter

from claimledger.api.auth import KEY_OPTIONAL, Role
from claimledger.api.deps import ServicesDep
from claimledger.api.paging import Cursor, Limit, decode_cursor, page_of
from claimledger.api.problems import READ_PROBLEMS, problem_responses
from claimledger.api.reads import INSTANT, BadParameter, MinPosition, parse_instant, provide_read
from claimledger.api.schemas.changes import Change, ChangePage
from claimledger.domain.errors import NotFound
from claimledger.projections.queries import changes as change_queries
from claimledger.projections.queries import incidents as incident_queries
from claimledger.store.db import session

# Optional to Litestar, so that a missing `from` is this API's problem naming it; the document
# says it is required.
WindowFrom = Annotated[
    str | None,
    QueryParameter(
        name="from",
        required=True,
        description="The window's start, exclusive: changes recorded after this instant "
        "(RFC 3339, with offset).",
        schema_extra=INSTANT,
    ),
]
WindowTo = Annotated[
    str | None,
    QueryParameter(
        description="The window's end, inclusive: changes recorded at or before this instant "
        "(RFC 3339, with offset); now when left out. The answer is the record as known at `to`.",
        schema_extra=INSTANT,
    ),
]


@get(
    "/incidents/{incident_id:uuid}/changes",
    operation_id="getIncidentChanges",
    summary="What the ledger learned about an incident between two moments",
    tags=["incidents"],
    responses=problem_responses(*READ_PROBLEMS, 404),
    opt={"role": Role.READER},
    security=KEY_OPTIONAL,
)
async def incident_changes(
    request: Request[Any, Any, Any],
    incident_id: FromPath[UUID],
    services: ServicesDep,
    window_from: WindowFrom = None,
    to: WindowTo = None,
    min_position: MinPosition = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> Response[ChangePage]:
    """Everything recorded about the incident in the window `(from, to]` of recorded time, in
    the order the ledger recorded it (by `position`): revisions of its description, claims
    added, statements recorded, withdrawals (with their reason), verdicts (with their rationale)
    and the status changes of its claims (`from`, `to`, the reason and the statements that
    decided it, right after the statement recorded or withdrawn that caused them). "What did we
    learn since this morning's briefing?" in one request. An incident the ledger did not yet
    have at `to` is a 404; a `from` after `to` is a 400."""
    after = parse_instant("from", window_from)
    if after is None:
        raise BadParameter("from", "is required: the instant the window starts after")
    until = parse_instant("to", to)
    if until is not None and after > until:
        raise BadParameter("from", "must not be after to")
    # The answer is the record as known at `to`: cached like any read as known at a moment.
    read = await provide_read(request, services, to, min_position)
    resume_after = decode_cursor(cursor, "changes", tuple[int, int])
    async with session(read.db) as db:
        if not await incident_queries.exists(db, incident_id, until):
            raise NotFound("incident", incident_id)
        rows = await change_queries.between(
            db, incident_id, after=after, until=until, resume_after=resume_after, limit=limit + 1
        )
    page, next_cursor = page_of(rows, limit, "changes", lambda row: (row["position"], row["rank"]))
    return read.respond(
        ChangePage(
            incident_id=incident_id,
            from_=after,
            to=until,
            items=[Change.of(row) for row in page],
            next_cursor=next_cursor,
        )
    )
