"""Incidents and the claims made about them: writing and reading them."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Annotated, Any
from uuid import UUID

from litestar import Response, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from claimledger.api.auth import KEY_OPTIONAL, Role
from claimledger.api.deps import PrincipalDep, ReadDep, WriterDep
from claimledger.api.geojson import feature_collection, next_href
from claimledger.api.idempotency import IdempotencyKey, create_once, id_for, same, written
from claimledger.api.negotiation import CSV, GEOJSON, JSON, IncidentFormat, choose
from claimledger.api.paging import Cursor, Limit, decode_cursor, page_of
from claimledger.api.problems import READ_PROBLEMS, WRITE_PROBLEMS, problem_responses
from claimledger.api.public_url import public_base
from claimledger.api.reads import BadParameter
from claimledger.api.routes.timeline import (
    TIMELINE_FILTERS,
    TIMELINE_FORMATS,
    TimelineFilterDep,
    TimelineFormatParameter,
    timeline_csv,
    timeline_page,
)
from claimledger.api.schemas.claims import ClaimCreate
from claimledger.api.schemas.common import Written
from claimledger.api.schemas.incidents import (
    Incident,
    IncidentCreate,
    IncidentPage,
    IncidentRevision,
)
from claimledger.api.schemas.statements import TimelinePage
from claimledger.domain.claim import Claim as ClaimAggregate
from claimledger.domain.errors import NotFound
from claimledger.domain.incident import Incident as IncidentAggregate
from claimledger.domain.values import Status
from claimledger.projections.queries import claims as claim_queries
from claimledger.projections.queries import incidents as incident_queries
from claimledger.store.db import session


@post(
    "/incidents",
    operation_id="openIncident",
    summary="Open an incident",
    tags=["incidents"],
    responses=problem_responses(*WRITE_PROBLEMS),
    opt={"role": Role.EDITOR},
)
async def open_incident(
    data: JSONBody[IncidentCreate],
    writer: WriterDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> Response[Written]:
    """Open an incident: what happened, where and when, as far as it is known. Answers 201 with
    the new incident's `id`; `Location` is its URL (`/v1/incidents/{id}`)."""
    draft = data.draft()
    if idempotency_key is None:
        receipt = await writer.run(writer.ledger.open_incident, draft, recorded_by=principal.key_id)
    else:
        incident_id = id_for("incident", idempotency_key)
        receipt = await writer.run(
            create_once,
            writer.ledger,
            IncidentAggregate,
            incident_id,
            lambda incident: same(incident.draft, draft),
            partial(
                writer.ledger.open_incident,
                draft,
                recorded_by=principal.key_id,
                incident_id=incident_id,
            ),
        )
    return await written(writer, receipt, f"/v1/incidents/{receipt.id}")


@patch(
    "/incidents/{incident_id:uuid}",
    operation_id="reviseIncident",
    summary="Revise an incident",
    tags=["incidents"],
    responses=problem_responses(*WRITE_PROBLEMS, 404, 409),
    opt={"role": Role.EDITOR},
    status_code=200,
)
async def revise_incident(
    incident_id: FromPath[UUID],
    data: JSONBody[IncidentRevision],
    writer: WriterDep,
    principal: PrincipalDep,
) -> Written:
    """Change an incident's description; fields left out keep their value, `null` clears an
    optional one. Reads as known at an earlier moment still show the description of then.
    Answers 200 with the incident's `id` and the revision's `position`."""
    receipt = await writer.run(
        writer.ledger.revise_incident, incident_id, data.apply, recorded_by=principal.key_id
    )
    return Written.of(await writer.positioned(receipt))


@post(
    "/incidents/{incident_id:uuid}/claims",
    operation_id="addClaim",
    summary="Add a claim to an incident",
    tags=["claims"],
    responses=problem_responses(*WRITE_PROBLEMS, 404),
    opt={"role": Role.EDITOR},
)
async def add_claim(
    incident_id: FromPath[UUID],
    data: JSONBody[ClaimCreate],
    writer: WriterDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> Response[Written]:
    """Add one checkable proposition about the incident. It starts `unverified`. Answers 201
    with the new claim's `id`; `Location` is its URL (`/v1/claims/{id}`)."""
    add = partial(
        writer.ledger.add_claim, incident_id, text=data.text, recorded_by=principal.key_id
    )
    if idempotency_key is None:
        receipt = await writer.run(add)
    else:
        claim_id = id_for("claim", idempotency_key)
        receipt = await writer.run(
            create_once,
            writer.ledger,
            ClaimAggregate,
            claim_id,
            lambda claim: same((claim.incident_id, claim.text), (incident_id, data.text)),
            partial(add, claim_id=claim_id),
        )
    return await written(writer, receipt, f"/v1/claims/{receipt.id}")


StatusFilter = Annotated[
    list[Status] | None,
    QueryParameter(description="Incidents with at least one claim in any of these statuses"),
]
TagFilter = Annotated[
    list[str] | None, QueryParameter(description="Incidents carrying every one of these tags")
]
CountryFilter = Annotated[
    str | None, QueryParameter(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
]
BboxFilter = Annotated[
    str | None,
    QueryParameter(
        description="min_lon,min_lat,max_lon,max_lat: incidents placed inside this box",
        pattern=r"^-?[0-9]+(\.[0-9]+)?(,-?[0-9]+(\.[0-9]+)?){3}$",
        examples=[],
    ),
]


def parse_bbox(value: str | None) -> tuple[float, float, float, float] | None:
    if value is None:
        return None
    try:
        min_lon, min_lat, max_lon, max_lat = (float(part) for part in value.split(","))
    except ValueError:
        raise BadParameter(
            "bbox", "expected four numbers: min_lon,min_lat,max_lon,max_lat"
        ) from None
    if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise BadParameter("bbox", "the box must lie within -180..180, -90..90, min before max")
    return (min_lon, min_lat, max_lon, max_lat)


INCIDENT_FORMATS = (JSON, GEOJSON)
IncidentFormatParameter = Annotated[
    IncidentFormat | None,
    QueryParameter(
        description="`geojson` for a GeoJSON FeatureCollection (as `Accept: "
        "application/geo+json` asks). Wins over `Accept`."
    ),
]


@get(
    "/incidents",
    operation_id="listIncidents",
    summary="List incidents",
    tags=["incidents"],
    responses=problem_responses(*READ_PROBLEMS, 406),
    opt={"role": Role.READER, "formats": INCIDENT_FORMATS},
    security=KEY_OPTIONAL,
)
async def list_incidents(
    read: ReadDep,
    status: StatusFilter = None,
    tag: TagFilter = None,
    country: CountryFilter = None,
    bbox: BboxFilter = None,
    cursor: Cursor = None,
    limit: Limit = 50,
    format: IncidentFormatParameter = None,
) -> Response[IncidentPage]:
    """Incidents, newest first, with claim counts and a headline status (as known at `known_at`).

    The headline is the first status any claim holds in the order contested, disputed,
    refuted, confirmed, denied, claimed, retracted, unverified; `status_counts` has them all.
    With `Accept: application/geo+json` or `format=geojson`, the same page as a GeoJSON
    FeatureCollection (longitude first; `geometry` null for an incident placed without
    coordinates), with `next_cursor` and a `next` link.
    """
    chosen = choose(read.request.headers.get("accept"), INCIDENT_FORMATS, format)
    before = decode_cursor(cursor, "incidents", tuple[int])
    filters = incident_queries.IncidentFilter(
        statuses=[s.value for s in status or ()],
        tags=tag or (),
        country=country,
        bbox=parse_bbox(bbox),
    )
    rows = await incident_queries.listing(
        read.db,
        filters,
        known_at=read.known_at,
        before_position=before[0] if before else None,
        limit=limit + 1,
    )
    page, next_cursor = page_of(rows, limit, "incidents", lambda row: (row["position"],))
    if chosen == GEOJSON:
        link = next_href(read.request, next_cursor, public_base(read.settings, read.request))
        collection: Response[Any] = read.respond(
            feature_collection(page, next_cursor, link), GEOJSON.media_type, vary=True
        )
        return collection
    return read.respond(
        IncidentPage(items=[Incident.of(row) for row in page], next_cursor=next_cursor), vary=True
    )


@get(
    "/incidents/{incident_id:uuid}",
    operation_id="getIncident",
    summary="One incident with its claims",
    tags=["incidents"],
    responses=problem_responses(*READ_PROBLEMS, 404),
    opt={"role": Role.READER},
    security=KEY_OPTIONAL,
)
async def get_incident(incident_id: FromPath[UUID], bitemporal_read: ReadDep) -> Response[Incident]:
    """The incident and each of its claims with its status, as known at `known_at` and from
    what was published before `published_before`."""
    read = bitemporal_read
    async with session(read.db) as db:
        row = await incident_queries.get(db, incident_id, known_at=read.known_at)
        if row is None:
            raise NotFound("incident", incident_id)
        claims = await claim_queries.of_incident(db, incident_id, read.moment)
    return read.respond(Incident.of(row, claims))


@get(
    "/incidents/{incident_id:uuid}/timeline",
    operation_id="getIncidentTimeline",
    summary="An incident's statements in order of publication",
    tags=["timelines"],
    responses=problem_responses(*READ_PROBLEMS, 404, 406),
    opt={"role": Role.READER, "formats": TIMELINE_FORMATS},
    security=KEY_OPTIONAL,
    dependencies=TIMELINE_FILTERS,
)
async def incident_timeline(
    incident_id: FromPath[UUID],
    bitemporal_read: ReadDep,
    filters: TimelineFilterDep,
    cursor: Cursor = None,
    limit: Limit = 50,
    format: TimelineFormatParameter = None,
) -> Response[TimelinePage]:
    """Statements on the incident's claims, ordered by `published_at`, as known at `known_at`;
    as CSV with `Accept: text/csv` or `format=csv`."""
    read = bitemporal_read
    filters = replace(filters, incident_id=incident_id)
    if choose(read.request.headers.get("accept"), TIMELINE_FORMATS, format) == CSV:
        if not await incident_queries.exists(read.db, incident_id, read.known_at):
            raise NotFound("incident", incident_id)
        return timeline_csv(read, filters, f"timeline-{incident_id}")
    async with session(read.db) as db:
        in_one = replace(read, db=db)
        page = await timeline_page(in_one, filters, cursor, limit)
        # A statement found says the incident was there; only an empty page needs to ask.
        if page.items or await incident_queries.exists(db, incident_id, read.known_at):
            return read.respond(page, vary=True)
        raise NotFound("incident", incident_id)
