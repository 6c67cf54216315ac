"""Search over the record's texts: incidents, claims, statements' quotes and sources' names."""

from __future__ import annotations

import math
from typing import Annotated
from uuid import UUID

from litestar import Response, get
from litestar.params import QueryParameter

from claimledger.api.auth import KEY_OPTIONAL, Role
from claimledger.api.deps import ReadDep
from claimledger.api.paging import Cursor, Limit, decode_cursor, page_of
from claimledger.api.problems import READ_PROBLEMS, problem_responses
from claimledger.api.reads import BadParameter
from claimledger.api.routes.incidents import CountryFilter
from claimledger.api.schemas.search import HitKind, SearchHit, SearchPage
from claimledger.domain.values import Stance
from claimledger.projections.queries import search as search_queries

MAX_QUERY = 300

# Optional to Litestar only so that a search without it is refused here, naming it.
Query = Annotated[
    str | None,
    QueryParameter(
        required=True,
        min_length=1,
        max_length=MAX_QUERY,
        description="What to look for, as in a web search engine: words (all must occur, in any "
        'inflection Russian or English stemming knows), `"a phrase"`, `or`, `-word` to '
        f"exclude. 1-{MAX_QUERY} characters, with at least one word that is not as common as "
        "`the`.",
        examples=[],
    ),
]


@get(
    "/search",
    operation_id="search",
    summary="Search incidents, claims, statements and sources",
    tags=["search"],
    responses=problem_responses(*READ_PROBLEMS),
    opt={"role": Role.READER},
    security=KEY_OPTIONAL,
)
async def search(
    read: ReadDep,
    q: Query = None,
    kind: Annotated[
        list[HitKind] | None, QueryParameter(description="Only hits of these kinds")
    ] = None,
    incident_id: Annotated[
        UUID | None,
        QueryParameter(description="Only this incident, its claims and their statements"),
    ] = None,
    country: CountryFilter = None,
    stance: Annotated[
        list[Stance] | None, QueryParameter(description="Only statements of these stances")
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> Response[SearchPage]:
    """Incident titles, summaries and place names, claim texts, statement quotes and source
    names that match `q`, best first, each with a snippet, as known at `known_at`.

    Of each kind, the 200 most recently recorded matches are ranked (all of them when there are
    fewer): narrow the search (a word, a filter, `known_at`) to reach older ones.

    Words match by their stem (Russian for Cyrillic, English for Latin script), the text's and
    the query's alike: "Тёткина" finds "Тёткино", "destroying" finds "destroyed", and a word of
    Ukrainian or any other language finds itself. Ranking puts a title above a summary, a short
    text that is all match above a long one that mentions it.

    `snippet` is plain text in parts, the matched words marked `"match": true`; it is never
    HTML. Filters narrow the hits: `incident_id` and `country` (the incident's, as described
    at `known_at`) keep incidents, claims and statements, `stance` keeps statements. As known at
    `known_at`, only what the ledger had recorded by then is found, incidents by the description
    they had then, statements withdrawn later as they were (not withdrawn).
    """
    if q is None:
        raise BadParameter("q", "is required: what to search for")
    text = q.strip()
    if not text:
        raise BadParameter("q", "must hold at least one word")
    after = decode_cursor(cursor, "search", tuple[float, int, UUID])
    if after is not None and not (0 <= after[0] < math.inf and 0 <= after[1] < len(HitKind)):
        raise BadParameter("cursor", "not a cursor this list gave out")
    filters = search_queries.SearchFilter(
        kinds=[k.value for k in kind or ()],
        incident_id=incident_id,
        country=country,
        stances=[s.value for s in stance or ()],
    )
    try:
        rows = await search_queries.search(
            read.searches, text, filters, known_at=read.known_at, after=after, limit=limit + 1
        )
    except search_queries.NoWords as error:
        raise BadParameter("q", str(error)) from None
    page, next_cursor = page_of(
        rows, limit, "search", lambda row: (row["rank"], row["kind_order"], row["id"])
    )
    return read.respond(
        SearchPage(items=[SearchHit.of(row) for row in page], next_cursor=next_cursor)
    )
