"""Content negotiation for the reads that answer in more than one format.

A client chooses by ``Accept`` (q-values and wildcards as RFC 9110 has them; ``q=0`` refuses a
type) or by the ``format`` query parameter, which wins when both are given (a link or a browser
cannot set ``Accept``). No ``Accept`` is ``*/*``: the operation's first format. Nothing the
client accepts that the operation answers is a 406 problem ``not-acceptable`` listing them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from enum import StrEnum

from litestar.datastructures.headers import MediaTypeHeader
from litestar.exceptions import HTTPException


class NotAcceptable(HTTPException):
    """None of the types the client accepts is one the operation answers."""

    status_code = 406
    problem = "not-acceptable"


@dataclass(frozen=True, slots=True)
class Representation:
    """One format an operation answers: its ``format`` name and media type."""

    name: str
    media_type: str


JSON = Representation("json", "application/json")
GEOJSON = Representation("geojson", "application/geo+json")
CSV = Representation("csv", "text/csv")
JSON_LD = Representation("jsonld", "application/ld+json")


class IncidentFormat(StrEnum):
    """The formats of the incident list, by ``format`` name."""

    JSON = "json"
    GEOJSON = "geojson"


class TimelineFormat(StrEnum):
    """The formats of a timeline, by ``format`` name."""

    JSON = "json"
    CSV = "csv"


def _quality(accepted: MediaTypeHeader) -> float:
    """The range's ``q``, within 0..1 (one that is not a number weighs nothing)."""
    value = accepted.params.get("q")
    if value is None:
        return 1.0
    with suppress(ValueError):
        quality = float(value)
        return 0.0 if math.isnan(quality) else min(max(quality, 0.0), 1.0)
    return 0.0


def _matches(accepted: MediaTypeHeader, offered: str) -> bool:
    main, _, sub = offered.partition("/")
    if accepted.maintype == "*":
        return True
    return accepted.maintype == main and accepted.subtype in ("*", sub)


def _specificity(accepted: MediaTypeHeader) -> int:
    return 0 if accepted.maintype == "*" else 1 if accepted.subtype == "*" else 2


def choose(
    accept: str | None, offered: tuple[Representation, ...], format_name: StrEnum | None = None
) -> Representation:
    """The representation to answer: the one ``format`` names, else the best match for the
    ``Accept`` header (the client's preference first, then the operation's order); 406 when
    there is none."""
    by_name: Mapping[str, Representation] = {r.name: r for r in offered}
    if format_name is not None:
        return by_name[format_name.value]
    header = (accept or "").strip()
    # An Accept header without a single range is none: anything is accepted.
    ranges = [MediaTypeHeader(part.strip()) for part in header.split(",") if part.strip()]
    ranges = ranges or [MediaTypeHeader("*/*")]
    best: tuple[float, int] | None = None
    chosen: Representation | None = None
    for index, representation in enumerate(offered):
        # The most specific range that matches a type decides its quality (RFC 9110, 12.5.1).
        matching = [r for r in ranges if _matches(r, representation.media_type)]
        if not matching:
            continue
        decisive = max(matching, key=_specificity)
        quality = _quality(decisive)
        if quality <= 0:
            continue
        rank = (quality, -index)
        if best is None or rank > best:
            best, chosen = rank, representation
    if chosen is None:
        types = ", ".join(r.media_type for r in offered)
        raise NotAcceptable(detail=f"Accept: {header!r} accepts none of {types}")
    return chosen
