"""Webhook subscriptions: subscribing and changing one, its delivery attempts, and replays."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import Meta, Struct

from claimledger.api.schemas.common import NO_NUL, URL_PATTERN, FromRow, Row, Strict
from claimledger.projections.outbox import EventType

WebhookUrl = Annotated[str, Meta(min_length=8, max_length=2048, pattern=URL_PATTERN)]
EventTypes = Annotated[list[EventType], Meta(min_length=1, max_length=5)]
IncidentIds = Annotated[list[UUID], Meta(min_length=1, max_length=1000)]
Description = Annotated[str, Meta(max_length=500, pattern=NO_NUL)]


class WebhookCreate(Strict):
    """An endpoint, the event types it wants, and optionally the incidents it follows."""

    url: WebhookUrl
    event_types: EventTypes
    description: Description | None = None
    incident_ids: IncidentIds | None = None


class WebhookUpdate(Strict):
    """Fields to change; ``rotate_secret`` makes a new secret (the old one signs for a day)."""

    url: WebhookUrl | msgspec.UnsetType = msgspec.UNSET
    event_types: EventTypes | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType | None = msgspec.UNSET
    incident_ids: IncidentIds | msgspec.UnsetType | None = msgspec.UNSET
    enabled: bool | msgspec.UnsetType = msgspec.UNSET
    rotate_secret: bool = False

    def changes(self) -> dict[str, Any]:
        changed: dict[str, Any] = {}
        for name in ("url", "description", "event_types", "incident_ids", "enabled"):
            value = getattr(self, name)
            if value is not msgspec.UNSET:
                changed[name] = [str(v) for v in value] if name == "event_types" else value
        return changed


class Webhook(Struct, kw_only=True):
    """A subscription and how far its deliveries have got."""

    id: UUID
    url: str
    description: str | None
    event_types: list[EventType]
    incident_ids: list[UUID] | None
    enabled: bool
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime
    delivered_through: int
    pending_attempts: int
    next_attempt_at: datetime
    failing_since: datetime | None
    previous_secret_until: datetime | None
    # Shown once: when the webhook is created and when its secret is rotated.
    secret: str | None = None

    @classmethod
    def of(cls, row: Row, secret: str | None = None) -> Webhook:
        """A row of ``webhooks.endpoints``, whose delivery cursor and attempt count the API
        calls ``delivered_through`` and ``pending_attempts``."""
        return msgspec.convert(
            {
                **row,
                "delivered_through": row["cursor_position"],
                "pending_attempts": row["attempt"],
                "secret": secret,
            },
            cls,
        )


class WebhookPage(Struct, kw_only=True):
    """A page of subscriptions; ``next_cursor`` asks for the next (None on the last page)."""

    items: list[Webhook]
    next_cursor: str | None


class Delivery(FromRow, kw_only=True):
    """One attempt to deliver a message."""

    webhook_id: str
    type: str
    position: int | None
    attempt: int
    attempted_at: datetime
    outcome: str
    status_code: int | None
    latency_ms: float | None
    error: str | None


class DeliveryPage(Struct, kw_only=True):
    """A page of delivery attempts; ``next_cursor`` asks for the next (None on the last page)."""

    items: list[Delivery]
    next_cursor: str | None


class ReplayCreate(Strict):
    """Where a replay starts."""

    from_position: Annotated[int, Meta(ge=1, le=2**63 - 1)]


class Replay(Struct, kw_only=True):
    """A replay scheduled: from where, and how many messages it sends again."""

    id: UUID
    from_position: int
    messages: int
