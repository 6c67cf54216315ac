"""Rows of the views turned into the read API's bodies."""

from __future__ import annotations

from typing import Any

from claimledger.api.read_schemas import (
    Claim,
    Evidence,
    HistoryItem,
    Incident,
    Source,
    TimelineItem,
    place_of,
)
from claimledger.projections.queries import ClaimAt, Row


def source(row: Row) -> Source:
    return Source(
        id=row["id"],
        name=row["name"],
        kind=row["kind"],
        affiliation=row["affiliation"],
        channels=list(row["channels"]),
        url=row["url"],
        reliability=row["reliability"],
        recorded_at=row["recorded_at"],
        position=row["position"],
    )


def claim(found: ClaimAt) -> Claim:
    row = found.row
    return Claim(
        id=row["id"],
        incident_id=row["incident_id"],
        text=row["text"],
        status=found.status.status,
        reason=found.status.reason,
        deciding_statement_ids=list(found.status.statement_ids),
        status_since=found.status_since,
        verdict=row["verdict"],
        verdict_rationale=row["verdict_rationale"],
        verdict_at=row["verdict_at"],
        recorded_at=row["recorded_at"],
        position=row["position"],
    )


def incident(row: dict[str, Any], claims: list[ClaimAt] | None = None) -> Incident:
    return Incident(
        id=row["id"],
        title=row["title"],
        summary=row["summary"],
        place=place_of(row["place"]),
        occurred_from=row["occurred_from"],
        occurred_to=row["occurred_to"],
        occurred_precision=row["occurred_precision"],
        tags=list(row["tags"]),
        recorded_at=row["recorded_at"],
        revised_at=row["revised_at"],
        position=row["position"],
        claim_count=row["claim_count"],
        headline_status=row["headline_status"],
        status_counts=row["status_counts"],
        claims=None if claims is None else [claim(c) for c in claims],
    )


def history_item(row: Row) -> HistoryItem:
    return HistoryItem(
        status=row["status"],
        recorded_from=row["recorded_from"],
        recorded_to=row["recorded_to"],
        statement_id=row["statement_id"],
        reason=row["reason"],
        deciding_statement_ids=list(row["deciding_statement_ids"]),
    )


def timeline_item(row: Row) -> TimelineItem:
    return TimelineItem(
        id=row["id"],
        claim_id=row["claim_id"],
        incident_id=row["incident_id"],
        source_id=row["source_id"],
        source_name=row["source_name"],
        stance=row["stance"],
        published_at=row["published_at"],
        quote=row["quote"],
        language=row["language"],
        url=row["url"],
        channel=row["channel"],
        via_source_id=row["via_source_id"],
        evidence=[Evidence(**e) for e in row["evidence"]],
        credibility=row["credibility"],
        recorded_at=row["recorded_at"],
        withdrawn_at=row["withdrawn_at"],
        position=row["position"],
    )
