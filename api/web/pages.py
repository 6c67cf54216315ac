"""The home page (incidents, filters, map) and the incident page (claims, timeline, map).

Both read the views through the same queries as the API (``projections.queries``), as known at
the page's moment.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from litestar import Request, get
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from claimledger.api.deps import ServicesDep
from claimledger.api.reads import BadParameter
from claimledger.api.schemas.changes import Change
from claimledger.api.schemas.claims import Claim
from claimledger.api.schemas.incidents import Incident
from claimledger.api.schemas.statements import TimelineItem
from claimledger.api.web import maps
from claimledger.api.web.moment import field_instant
from claimledger.api.web.reading import PageRead, start
from claimledger.domain.errors import NotFound
from claimledger.domain.headline import headline
from claimledger.domain.values import Reliability, Status, reliability_label
from claimledger.projections.queries import changes as change_queries
from claimledger.projections.queries import claims as claim_queries
from claimledger.projections.queries import incidents as incident_queries
from claimledger.projections.queries import sources as source_queries
from claimledger.projections.queries import timelines, withdrawals
from claimledger.projections.queries.moment import Moment
from claimledger.store.db import Db, session

HOME_LIMIT = 100
TIMELINE_LIMIT = 100
# The changes a comparison lists at most (the API's changes read pages through them all).
CHANGES_LIMIT = 500
_COUNTRY = re.compile(r"^[A-Z]{2}$")

# The parameters of every page: the moment in its canonical form, and the control's form.
KnownAt = Annotated[str | None, QueryParameter(description="as known at (RFC 3339)")]
PublishedBefore = Annotated[str | None, QueryParameter(description="published before (RFC 3339)")]
At = Annotated[str | None, QueryParameter(description="the control's date-time (UTC)")]
Axis = Annotated[str | None, QueryParameter(description="'published': the other time axis")]


def filters_of(
    status: list[str] | None, country: str | None, tag: list[str] | None
) -> incident_queries.IncidentFilter:
    """The home page's filters; an empty field (a form's "any") filters nothing."""
    statuses = [s for s in status or () if s]
    allowed = [s.value for s in Status]
    for value in statuses:
        if value not in allowed:
            raise BadParameter("status", f"{value!r} is not one of {', '.join(allowed)}")
    country = (country or "").strip().upper() or None
    if country is not None and not _COUNTRY.match(country):
        raise BadParameter("country", f"{country!r} is not an ISO 3166-1 alpha-2 code")
    return incident_queries.IncidentFilter(
        statuses=statuses, tags=[t.strip() for t in tag or () if t.strip()], country=country
    )


async def _published_before(
    db: Db, rows: list[dict[str, Any]], moment: Moment, statuses: list[str]
) -> list[dict[str, Any]]:
    """Each incident's claims and headline from what had been published before the moment."""
    kept = []
    for row in rows:
        seen = await claim_queries.of_incident(db, row["id"], moment)
        counts = Counter(found.status.status.value for found in seen)
        if statuses and not counts.keys() & set(statuses):
            continue
        row.update(status_counts=dict(counts), claim_count=len(seen))
        row["headline_status"] = headline(counts).value
        kept.append(row)
    return kept[:HOME_LIMIT]


@get("/", name="web-home", include_in_schema=False)
async def home(
    request: Request[Any, Any, Any],
    services: ServicesDep,
    status: Annotated[list[str] | None, QueryParameter(description="claim status")] = None,
    country: Annotated[str | None, QueryParameter(description="ISO 3166-1 alpha-2")] = None,
    tag: Annotated[list[str] | None, QueryParameter(description="tag")] = None,
    known_at: KnownAt = None,
    published_before: PublishedBefore = None,
    at: At = None,
    axis: Axis = None,
) -> Template | Redirect:
    """Incidents newest first with their headline status, filterable, and their map."""
    read = start(request, services, known_at, published_before, at, axis)
    if isinstance(read, Redirect):
        return read
    filters = filters_of(status, country, tag)
    moment = read.moment
    async with session(read.db) as db:
        if moment.published_before is None:
            rows = await incident_queries.listing(
                db, filters, known_at=moment.known_at, before_position=None, limit=HOME_LIMIT
            )
        else:
            unfiltered = incident_queries.IncidentFilter(tags=filters.tags, country=filters.country)
            rows = await incident_queries.listing(
                db, unfiltered, known_at=moment.known_at, before_position=None, limit=HOME_LIMIT
            )
            rows = await _published_before(db, rows, moment, list(filters.statuses))
    incidents = [Incident.of(row) for row in rows]
    places = [
        maps.Place(i.place.lat, i.place.lon, i.title, f"/incidents/{i.id}")
        for i in incidents
        if i.place is not None and i.place.lat is not None and i.place.lon is not None
    ]
    return read.render(
        "home.html",
        incidents=incidents,
        map=maps.draw(places, services.settings.map_tiles_url),
        statuses=[s.value for s in Status],
        chosen={"status": filters.statuses, "country": filters.country or "", "tag": filters.tags},
        incident_id=None,
    )


@dataclass(frozen=True, slots=True)
class Grade:
    """What a timeline shows of a statement's source: its reliability grade and its words."""

    reliability: str
    reliability_label: str


# One per grade, shared by every source that has it.
_GRADES = {grade.value: Grade(grade.value, reliability_label(grade)) for grade in Reliability}


async def _grades(db: Db, items: list[TimelineItem], read: PageRead) -> dict[UUID, Grade]:
    ids = list(dict.fromkeys(item.source_id for item in items))
    rows = await source_queries.of_ids(db, ids, known_at=read.moment.known_at)
    return {row["id"]: _GRADES[row["reliability"]] for row in rows}


def _places(incident: Incident, items: list[TimelineItem]) -> list[maps.Place]:
    places = []
    place = incident.place
    if place is not None and place.lat is not None and place.lon is not None:
        places.append(maps.Place(place.lat, place.lon, place.name, None, "incident"))
    for item in items:
        for evidence in item.evidence:
            if evidence.lat is not None and evidence.lon is not None:
                label = f"{evidence.kind} by {item.source_name}"
                href = f"#statement-{item.id}"
                places.append(maps.Place(evidence.lat, evidence.lon, label, href, "evidence"))
    return places


@get("/incidents/{incident_id:uuid}", name="web-incident", include_in_schema=False)
async def incident_page(
    request: Request[Any, Any, Any],
    services: ServicesDep,
    incident_id: FromPath[UUID],
    known_at: KnownAt = None,
    published_before: PublishedBefore = None,
    at: At = None,
    axis: Axis = None,
    since: Annotated[str | None, QueryParameter(description="compare with (UTC)")] = None,
) -> Template | Redirect:
    """The incident: place and map, every claim with its status and reasons, the timeline, and
    what changed since the moment it is compared with."""
    read = start(request, services, known_at, published_before, at, axis)
    if isinstance(read, Redirect):
        return read
    moment = read.moment
    after = field_instant("since", since)
    # Moving the moment shown before the one compared with leaves nothing to compare.
    later = after is not None and moment.known_at is not None and after > moment.known_at
    async with session(read.db) as db:
        row = await incident_queries.get(db, incident_id, known_at=moment.known_at)
        if row is None:
            raise NotFound("incident", incident_id)
        seen = await claim_queries.of_incident(db, incident_id, moment)
        rows = await timelines.statements(
            db,
            timelines.TimelineFilter(incident_id=incident_id),
            moment,
            after=None,
            limit=TIMELINE_LIMIT,
        )
        items = [TimelineItem.of(r) for r in rows]
        withdrawn = [i.id for i in items if i.withdrawn_at]
        # (Most timelines hold no withdrawn statement: nothing to ask then.)
        reasons = (
            await withdrawals.reasons(db, withdrawn, known_at=moment.known_at) if withdrawn else {}
        )
        sources = await _grades(db, items, read) if items else {}
        changed = None
        if after is not None and not later:
            changed = await change_queries.between(
                db,
                incident_id,
                after=after,
                until=moment.known_at,
                resume_after=None,
                limit=CHANGES_LIMIT,
            )
    claims = [Claim.of(found) for found in seen]
    incident = Incident.of(row)
    return read.render(
        "incident.html",
        incident=incident,
        headline=headline(Counter(c.status.value for c in claims)).value,
        claims=claims,
        items=items,
        by_id={item.id: item for item in items},
        withdrawals=reasons,
        sources=sources,
        map=maps.draw(_places(incident, items), services.settings.map_tiles_url),
        incident_id=incident_id,
        limit=TIMELINE_LIMIT,
        changes_limit=CHANGES_LIMIT,
        since=after,
        since_is_later=later,
        changes=None if changed is None else [Change.of(row) for row in changed],
    )
