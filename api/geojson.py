"""Incidents as GeoJSON (RFC 7946): a FeatureCollection with each incident as a Feature.

A Feature's geometry is a Point at the incident's place, ``[longitude, latitude]``; an incident
whose place has no coordinates (or that has no place) keeps its Feature with ``geometry: null``,
as RFC 7946 allows, so the collection holds the same incidents as the JSON list, page for page.
Its properties are flat (what GIS tools show best): the incident's fields, the place's parts as
``place_name``, ``admin1``, ``admin2``, ``country`` and ``place_precision``.

Paging is the JSON list's: the collection carries ``next_cursor`` and a ``links`` array with
the ``next`` page's URL as foreign members (RFC 7946, 6.1).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode
from uuid import UUID

from litestar import Request
from msgspec import Meta, Struct

from claimledger.domain.values import PlacePrecision, Status, TimePrecision

# An instant, said so in the schema msgspec writes for the OpenAPI document.
Instant = Annotated[datetime, Meta(extra_json_schema={"format": "date-time"})]


class GeoPoint(Struct, kw_only=True):
    """A GeoJSON Point: ``[longitude, latitude]``."""

    type: Literal["Point"] = "Point"
    coordinates: Annotated[list[float], Meta(min_length=2, max_length=2)]


class IncidentProperties(Struct, kw_only=True):
    """An incident's fields, flat."""

    id: UUID
    title: str
    summary: str | None
    headline_status: Status
    status_counts: dict[str, int]
    claim_count: int
    occurred_from: Instant | None
    occurred_to: Instant | None
    occurred_precision: TimePrecision | None
    tags: list[str]
    place_name: str | None
    admin1: str | None
    admin2: str | None
    country: str | None
    place_precision: PlacePrecision | None
    recorded_at: Instant
    revised_at: Instant | None
    position: int


class IncidentFeature(Struct, kw_only=True):
    """One incident; ``geometry`` null when its place has no coordinates."""

    type: Literal["Feature"] = "Feature"
    id: UUID
    geometry: GeoPoint | None
    properties: IncidentProperties


class PageLink(Struct, kw_only=True):
    """A link to another page of the same collection."""

    rel: str
    href: str
    type: str = "application/geo+json"


class IncidentFeatureCollection(Struct, kw_only=True):
    """A page of incidents as GeoJSON; ``next_cursor`` and ``links`` lead to the next one."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[IncidentFeature]
    next_cursor: str | None
    links: list[PageLink]


def feature(row: dict[str, Any]) -> IncidentFeature:
    """A row of the incidents' list query as a Feature."""
    place = row["place"] or {}
    lat, lon = place.get("lat"), place.get("lon")
    return IncidentFeature(
        id=row["id"],
        geometry=None if lat is None or lon is None else GeoPoint(coordinates=[lon, lat]),
        properties=IncidentProperties(
            id=row["id"],
            title=row["title"],
            summary=row["summary"],
            headline_status=Status(row["headline_status"]),
            status_counts=dict(row["status_counts"]),
            claim_count=row["claim_count"],
            occurred_from=row["occurred_from"],
            occurred_to=row["occurred_to"],
            occurred_precision=row["occurred_precision"],
            tags=list(row["tags"]),
            place_name=place.get("name"),
            admin1=place.get("admin1"),
            admin2=place.get("admin2"),
            country=place.get("country"),
            place_precision=place.get("precision"),
            recorded_at=row["recorded_at"],
            revised_at=row["revised_at"],
            position=row["position"],
        ),
    )


def feature_collection(
    rows: Sequence[dict[str, Any]], next_cursor: str | None, next_href: str | None
) -> IncidentFeatureCollection:
    """A page of incident rows as a FeatureCollection, with a ``next`` link to ``next_href``."""
    links = [] if next_href is None else [PageLink(rel="next", href=next_href)]
    return IncidentFeatureCollection(
        features=[feature(row) for row in rows], next_cursor=next_cursor, links=links
    )


def next_href(request: Request[Any, Any, Any], next_cursor: str | None, base: str) -> str | None:
    """The URL of the next page under ``base`` (the public base URL): the request's path and
    query with the next cursor and ``format=geojson`` (a link cannot carry an Accept header)."""
    if next_cursor is None:
        return None
    query = [
        (name, value)
        for name, value in request.query_params.multi_items()
        if name not in ("cursor", "format")
    ]
    query += [("format", "geojson"), ("cursor", next_cursor)]
    return f"{base}{request.url.path}?{urlencode(query)}"
