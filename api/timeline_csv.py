"""Timelines as CSV: one row per statement, streamed page by page so memory stays flat.

Columns an analyst knows from ACLED come first where they mean the same here, describing the
statement's incident: ``event_date`` (the day it occurred, from ``occurred_from``, UTC), ``year``,
``country`` (ISO 3166-1 alpha-2: ACLED gives the country's name), ``admin1``, ``admin2``,
``location``, ``latitude``, ``longitude``, ``geo_precision`` (ACLED's codes: 1 an exact place
or a settlement, 2 a district or an approximate place, 3 a region or a whole country), ``source``
(the source's name), ``notes`` (the incident's summary), ``tags`` (``;``-separated) and
``timestamp`` (when the ledger recorded the statement, in Unix seconds). The ledger's own follow.

A text cell that a spreadsheet would read as a formula (one beginning with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) is written with a ``'`` before it; numbers are written as
numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from claimledger.api.reads import ReadContext
from claimledger.domain.values import credibility_label
from claimledger.projections.queries import exports as export_queries
from claimledger.projections.queries import timelines as timeline_queries
from claimledger.projections.queries.timelines import TimelineFilter

COLUMNS = (
    "event_date",
    "year",
    "country",
    "admin1",
    "admin2",
    "location",
    "latitude",
    "longitude",
    "geo_precision",
    "source",
    "notes",
    "tags",
    "timestamp",
    "statement_id",
    "incident_id",
    "incident_title",
    "claim_id",
    "claim_text",
    "status",
    "stance",
    "source_id",
    "via_source_id",
    "published_at",
    "recorded_at",
    "withdrawn_at",
    "quote",
    "language",
    "url",
    "channel",
    "credibility",
    "credibility_label",
    "evidence_kinds",
    "evidence_urls",
    "evidence_sha256",
    "occurred_from",
    "occurred_to",
    "occurred_precision",
    "place_precision",
    "position",
)
GEO_PRECISION = {
    "exact": 1,
    "settlement": 1,
    "district": 2,
    "approximate": 2,
    "region": 3,
    "country": 3,
}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PAGE_ROWS = 500
# Claims' statuses and incidents' descriptions are kept for the rows to come, up to this many.
KEPT = 10_000


def safe(value: str) -> str:
    """A text cell a spreadsheet will not run as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, bool | int | float):
        return value
    return safe(str(value))


def _joined(values: Iterable[Any]) -> str:
    return ";".join(str(v) for v in values if v is not None)


def row_of(
    statement: dict[str, Any], incident: dict[str, Any] | None, status: str | None
) -> list[Any]:
    """The CSV cells of one statement (a timeline row), its incident and its claim's status."""
    incident = incident or {}
    place = incident.get("place") or {}
    occurred: datetime | None = incident.get("occurred_from")
    day = None if occurred is None else occurred.astimezone(UTC).date()
    evidence = statement["evidence"] or []
    recorded: datetime = statement["recorded_at"]
    cells: dict[str, Any] = {
        "event_date": None if day is None else day.isoformat(),
        "year": None if day is None else day.year,
        "country": place.get("country"),
        "admin1": place.get("admin1"),
        "admin2": place.get("admin2"),
        "location": place.get("name"),
        "latitude": place.get("lat"),
        "longitude": place.get("lon"),
        "geo_precision": GEO_PRECISION.get(place.get("precision") or ""),
        "source": statement["source_name"],
        "notes": incident.get("summary"),
        "tags": "; ".join(incident.get("tags") or ()),
        "timestamp": int(recorded.timestamp()),
        "statement_id": statement["id"],
        "incident_id": statement["incident_id"],
        "incident_title": incident.get("title"),
        "claim_text": statement["claim_text"],
        "status": status,
        "credibility_label": credibility_label(statement["credibility"]),
        "evidence_kinds": _joined(e.get("kind") for e in evidence),
        "evidence_urls": _joined(e.get("url") for e in evidence),
        "evidence_sha256": _joined(e.get("sha256") for e in evidence),
        "occurred_from": occurred,
        "occurred_to": incident.get("occurred_to"),
        "occurred_precision": incident.get("occurred_precision"),
        "place_precision": place.get("precision"),
    }
    return [_cell(cells[name] if name in cells else statement.get(name)) for name in COLUMNS]


def csv_lines(rows: Iterable[list[Any]]) -> bytes:
    """Rows of cells as CSV lines (RFC 4180)."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


async def stream_rows(read: ReadContext, filters: TimelineFilter) -> AsyncIterator[bytes]:
    """The header line, then the timeline's statements a page at a time."""
    yield csv_lines([list(COLUMNS)])
    statuses: dict[UUID, str] = {}
    incidents: dict[UUID, dict[str, Any]] = {}
    after: tuple[datetime, int] | None = None
    while True:
        page = [
            dict(row)
            for row in await timeline_queries.statements(
                read.db, filters, read.moment, after=after, limit=PAGE_ROWS
            )
        ]
        if len(statuses) > KEPT:
            statuses.clear()
        if len(incidents) > KEPT:
            incidents.clear()
        claims = {row["claim_id"] for row in page} - statuses.keys()
        statuses.update(await export_queries.claim_statuses(read.db, claims, read.moment))
        missing = {row["incident_id"] for row in page} - incidents.keys()
        incidents.update(await export_queries.incidents(read.db, missing, read.known_at))
        if page:
            yield csv_lines(
                row_of(row, incidents.get(row["incident_id"]), statuses.get(row["claim_id"]))
                for row in page
            )
        if len(page) < PAGE_ROWS:
            return
        after = (page[-1]["published_at"], page[-1]["position"])
