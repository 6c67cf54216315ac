"""The search page: hits of every kind, best first, with their snippets, as known at the page's
moment (the API's search query, ``projections.queries.search``)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get
from litestar.params import QueryParameter
from litestar.response import Redirect, Template

from claimledger.api.deps import ServicesDep
from claimledger.api.reads import BadParameter
from claimledger.api.web.moment import moment_params, url_with
from claimledger.api.web.pages import At, Axis, KnownAt, PublishedBefore
from claimledger.api.web.reading import start
from claimledger.projections.queries import search as search_queries
from claimledger.projections.queries.moment import Moment
from claimledger.projections.queries.snippets import snippet_parts

MAX_QUERY = 300
HITS = 50
KINDS = search_queries.KINDS


def _href(row: Any, moment: Moment) -> str:
    """Where a hit leads: its own page, or for a statement its place in the incident's timeline."""
    kept = list(moment_params(moment).items())
    kind = row["kind"]
    if kind == "incident":
        return url_with(f"/incidents/{row['id']}", kept)
    if kind == "claim":
        return url_with(f"/claims/{row['id']}", kept)
    if kind == "source":
        return url_with(f"/sources/{row['id']}", kept)
    return url_with(f"/incidents/{row['incident_id']}", kept) + f"#statement-{row['id']}"


@get("/search", name="web-search", include_in_schema=False)
async def search_page(
    request: Request[Any, Any, Any],
    services: ServicesDep,
    q: Annotated[str | None, QueryParameter(description="what to look for")] = None,
    kind: Annotated[str | None, QueryParameter(description="kind of hit")] = None,
    known_at: KnownAt = None,
    published_before: PublishedBefore = None,
    at: At = None,
    axis: Axis = None,
) -> Template | Redirect:
    """Incidents, claims, statements and sources whose texts match ``q``."""
    read = start(request, services, known_at, published_before, at, axis)
    if isinstance(read, Redirect):
        return read
    text = (q or "").strip()
    if not text:
        raise BadParameter("q", "is required: what to search for")
    if len(text) > MAX_QUERY:
        raise BadParameter("q", f"is longer than {MAX_QUERY} characters")
    if kind and kind not in KINDS:
        raise BadParameter("kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    filters = search_queries.SearchFilter(kinds=[kind] if kind else [])
    try:
        rows = await search_queries.search(
            read.source.searches,
            text,
            filters,
            known_at=read.moment.known_at,
            after=None,
            limit=HITS,
        )
    except search_queries.NoWords as error:
        raise BadParameter("q", str(error)) from None
    hits = [
        {
            **dict(row),
            "href": _href(row, read.moment),
            "parts": snippet_parts(row["marked"] or ""),
        }
        for row in rows
    ]
    return read.render(
        "search.html",
        live=False,
        q=text,
        kind=kind or "",
        kinds=KINDS,
        hits=hits,
        limit=HITS,
        incident_id=None,
    )
