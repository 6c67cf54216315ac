"""A claim's review as schema.org ClaimReview (JSON-LD), the form fact-check readers take in.

``load_claim_review`` reads what a review says (as known at a moment) and builds it;
``claim_review`` builds it from what was read; ``json_ld_script`` embeds it in a web page. A page
of the claim gets its block so::

    base = public_base(settings, request)  # api.public_url
    review = await load_claim_review(
        db, claim_id, known_at=known_at, publisher=publisher_of(settings, base), base_url=base
    )
    block = None if review is None else json_ld_script(review)

The editors' verdict scale maps onto a five-point rating, 1 the worst and 5 the best:

| verdict | ratingValue | alternateName |
| --- | --- | --- |
| true | 5 | True |
| mostly_true | 4 | Mostly true |
| mixed | 3 | Mixed |
| mostly_false | 2 | Mostly false |
| false | 1 | False |
| unproven | (none) | Unproven |

``unproven`` has no place on a scale of truth: its rating is the name alone, without the numbers
(schema.org's numbers are for numeric ratings).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import msgspec
from markupsafe import Markup
from msgspec import Struct, field

from claimledger.domain.values import SourceKind, Verdict
from claimledger.projections.queries import claims as claim_queries
from claimledger.projections.queries import exports as export_queries
from claimledger.projections.queries.moment import Moment
from claimledger.runtime.settings import Settings
from claimledger.store.db import Db, session

BEST, WORST = 5, 1
RATINGS: dict[Verdict, tuple[int | None, str]] = {
    Verdict.TRUE: (5, "True"),
    Verdict.MOSTLY_TRUE: (4, "Mostly true"),
    Verdict.MIXED: (3, "Mixed"),
    Verdict.MOSTLY_FALSE: (2, "Mostly false"),
    Verdict.FALSE: (1, "False"),
    Verdict.UNPROVEN: (None, "Unproven"),
}
# Sources that are one person speak as a Person; every other kind as an Organization.
PEOPLE = frozenset({SourceKind.INDIVIDUAL})


class Agent(Struct, kw_only=True, omit_defaults=True):
    """Who published something: schema.org Organization or Person."""

    type: Literal["Organization", "Person"] = field(name="@type")
    name: str
    url: str | None = None


class CreativeWork(Struct, kw_only=True, omit_defaults=True):
    """Where a claim appeared: a statement's URL."""

    type: Literal["CreativeWork"] = field(name="@type")
    url: str
    datePublished: datetime | None = None  # noqa: N815 - schema.org's name
    author: Agent | None = None


class ClaimItem(Struct, kw_only=True, omit_defaults=True):
    """The claim reviewed: who asserted it first, when, and where it appeared."""

    type: Literal["Claim"] = field(name="@type")
    author: Agent | None = None
    datePublished: datetime | None = None  # noqa: N815
    firstAppearance: CreativeWork | None = None  # noqa: N815
    appearance: list[CreativeWork] | None = None


class Rating(Struct, kw_only=True, omit_defaults=True):
    """The verdict on the five-point scale (see the module's table)."""

    type: Literal["Rating"] = field(name="@type")
    ratingValue: int | None = None  # noqa: N815
    bestRating: int | None = None  # noqa: N815
    worstRating: int | None = None  # noqa: N815
    alternateName: str  # noqa: N815


class ClaimReview(Struct, kw_only=True, omit_defaults=True):
    """A schema.org ClaimReview of a claim with an editor's verdict."""

    context: Literal["https://schema.org"] = field(name="@context")
    type: Literal["ClaimReview"] = field(name="@type")
    url: str
    claimReviewed: str  # noqa: N815
    reviewRating: Rating  # noqa: N815
    itemReviewed: ClaimItem  # noqa: N815
    author: Agent
    datePublished: datetime  # noqa: N815
    reviewBody: str | None = None  # noqa: N815


@dataclass(frozen=True, slots=True)
class Publisher:
    """Who publishes the reviews (``CLAIMLEDGER_PUBLISHER_NAME`` and ``_URL``)."""

    name: str
    url: str


def publisher_of(settings: Settings, base_url: str) -> Publisher:
    """The publisher named by ``CLAIMLEDGER_PUBLISHER_NAME`` and ``_URL`` (else ``base_url``)."""
    return Publisher(name=settings.publisher_name, url=settings.publisher_url or base_url)


def rating(verdict: Verdict) -> Rating:
    """The verdict as a schema.org Rating."""
    value, name = RATINGS[verdict]
    if value is None:
        return Rating(type="Rating", alternateName=name)
    return Rating(
        type="Rating", ratingValue=value, bestRating=BEST, worstRating=WORST, alternateName=name
    )


def _agent(row: dict[str, Any]) -> Agent:
    if row["source_kind"] in PEOPLE:
        return Agent(type="Person", name=row["source_name"], url=row["source_url"])
    return Agent(type="Organization", name=row["source_name"], url=row["source_url"])


def claim_review(
    claim: dict[str, Any], assertions: list[dict[str, Any]], publisher: Publisher, page_url: str
) -> ClaimReview:
    """The review of ``claim`` (a claim row with ``text``, ``verdict``, ``verdict_rationale``
    and ``verdict_at``), from the statements asserting it in order of publication (rows of
    ``projections.queries.exports.assertions``), published by ``publisher`` at ``page_url``."""
    appearances = [
        CreativeWork(
            type="CreativeWork",
            url=row["url"],
            datePublished=row["published_at"],
            author=_agent(row),
        )
        for row in assertions
        if row["url"]
    ]
    first = assertions[0] if assertions else None
    item = ClaimItem(
        type="Claim",
        author=None if first is None else _agent(first),
        datePublished=None if first is None else first["published_at"],
        firstAppearance=appearances[0] if first is not None and first["url"] else None,
        appearance=appearances or None,
    )
    return ClaimReview(
        context="https://schema.org",
        type="ClaimReview",
        url=page_url,
        claimReviewed=claim["text"],
        reviewRating=rating(Verdict(claim["verdict"])),
        itemReviewed=item,
        author=Agent(type="Organization", name=publisher.name, url=publisher.url),
        datePublished=claim["verdict_at"],
        reviewBody=claim["verdict_rationale"],
    )


class NoClaim(LookupError):
    """The ledger had no such claim at the moment asked about."""


async def load_claim_review(
    db: Db, claim_id: UUID, *, known_at: datetime | None, publisher: Publisher, base_url: str
) -> ClaimReview | None:
    """The claim's review as known at ``known_at`` (now when None): None when it had no verdict
    then; ``NoClaim`` when the ledger did not have the claim. Its ``url`` is the claim's web page,
    ``{base_url}/claims/{id}``."""
    async with session(db) as one:
        found = await claim_queries.get(one, claim_id, Moment(known_at=known_at))
        if found is None:
            raise NoClaim(claim_id)
        if found.row["verdict"] is None:
            return None
        assertions = await export_queries.assertions(one, claim_id, known_at)
    page_url = f"{base_url.rstrip('/')}/claims/{claim_id}"
    return claim_review(found.row, assertions, publisher, page_url)


_encoder = msgspec.json.Encoder()
# Inside <script>, "</script" or "<!--" would end or change the block: JSON may write every
# "<", ">" and "&" as a \u escape, and a browser's HTML parser then sees none of them.
_SCRIPT_SAFE = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}


def json_ld_script(document: Struct | dict[str, Any]) -> Markup:
    """``document`` as a ``<script type="application/ld+json">`` block to put into a page as it
    is: no text in it can close the block, whatever the claim or the sources say."""
    text = _encoder.encode(document).decode().translate(_SCRIPT_SAFE)
    return Markup(f'<script type="application/ld+json">{text}</script>')  # noqa: S704 - escaped
