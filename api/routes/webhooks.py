"""Webhook subscriptions (admin only): subscribe, inspect, change, replay, test, unsubscribe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from litestar import Response, delete, get, patch, post
from litestar.params import FromPath, JSONBody

from claimledger.api.auth import Role
from claimledger.api.deps import DbDep, ServicesDep, SettingsDep, WriterDep
from claimledger.api.idempotency import IdempotencyKey, created, digest
from claimledger.api.paging import Cursor, Limit, decode_cursor, page_of
from claimledger.api.problems import READ_PROBLEMS, WRITE_PROBLEMS, problem_responses
from claimledger.api.schemas.webhooks import (
    Delivery,
    DeliveryPage,
    Replay,
    ReplayCreate,
    Webhook,
    WebhookCreate,
    WebhookPage,
    WebhookUpdate,
)
from claimledger.domain.errors import InvalidInput, NotFound
from claimledger.store.db import Pool
from claimledger.webhooks import deliveries, subscriptions
from claimledger.webhooks.delivery import Message, attempt
from claimledger.webhooks.guard import check_url

ADMIN = {"role": Role.ADMIN}
TAGS = ["webhooks"]


def _checked(url: str) -> str:
    try:
        check_url(url)
    except ValueError as error:
        raise InvalidInput(str(error), field="url") from None
    return url


@post(
    "/webhooks",
    operation_id="createWebhook",
    summary="Subscribe an endpoint to events",
    tags=TAGS,
    responses=problem_responses(*WRITE_PROBLEMS),
    opt=ADMIN,
)
async def create_webhook(
    data: JSONBody[WebhookCreate],
    db: DbDep,
    writer: WriterDep,
    idempotency_key: IdempotencyKey = None,
) -> Response[Webhook]:
    """Deliveries start with events after this moment (replay reaches back). The `secret`
    (`whsec_…`) is shown here only (and to a retry with the same Idempotency-Key): verify
    deliveries with it per Standard Webhooks. Answers 201; `Location` is the subscription's URL
    (`/v1/webhooks/{id}`)."""
    if data.incident_ids:
        await writer.require_incidents(data.incident_ids, field="incident_ids")
    row, secret, replayed = await subscriptions.create(
        db,
        subscriptions.Subscription(
            url=_checked(data.url),
            event_types=[str(t) for t in data.event_types],
            description=data.description,
            incident_ids=data.incident_ids,
        ),
        idempotency_key=idempotency_key,
        digest=None if idempotency_key is None else digest("createWebhook", None, data),
    )
    webhook = Webhook.of(row, secret)
    return created(webhook, f"/v1/webhooks/{webhook.id}", replayed=replayed)


@get(
    "/webhooks",
    operation_id="listWebhooks",
    summary="List webhook subscriptions",
    tags=TAGS,
    responses=problem_responses(*READ_PROBLEMS),
    opt=ADMIN,
)
async def list_webhooks(db: DbDep, cursor: Cursor = None, limit: Limit = 50) -> WebhookPage:
    """Subscriptions in order of creation (secrets are never shown again)."""
    after = decode_cursor(cursor, "webhooks", tuple[datetime])
    rows = await subscriptions.listing(db, after=after[0] if after else None, limit=limit + 1)
    page, next_cursor = page_of(rows, limit, "webhooks", lambda row: (row["created_at"],))
    return WebhookPage(items=[Webhook.of(row) for row in page], next_cursor=next_cursor)


async def _found(db: Pool, webhook_id: UUID) -> dict[str, object]:
    row = await subscriptions.get(db, webhook_id)
    if row is None:
        raise NotFound("webhook", webhook_id)
    return row


@get(
    "/webhooks/{webhook_id:uuid}",
    operation_id="getWebhook",
    summary="One webhook subscription",
    tags=TAGS,
    responses=problem_responses(*READ_PROBLEMS, 404),
    opt=ADMIN,
)
async def get_webhook(webhook_id: FromPath[UUID], db: DbDep) -> Webhook:
    """The subscription and its delivery state: how far it has got, pending attempts."""
    return Webhook.of(await _found(db, webhook_id))


@patch(
    "/webhooks/{webhook_id:uuid}",
    operation_id="updateWebhook",
    summary="Change a webhook subscription",
    tags=TAGS,
    responses=problem_responses(*WRITE_PROBLEMS, 404),
    opt=ADMIN,
    status_code=200,
)
async def update_webhook(
    webhook_id: FromPath[UUID],
    data: JSONBody[WebhookUpdate],
    db: DbDep,
    writer: WriterDep,
    settings: SettingsDep,
) -> Webhook:
    """Change the URL, event types, incidents or description; `enabled: true` re-enables a
    disabled endpoint; `rotate_secret: true` answers a new secret (shown once)."""
    changes = data.changes()
    if "url" in changes:
        _checked(changes["url"])
    if changes.get("incident_ids"):
        await writer.require_incidents(changes["incident_ids"], field="incident_ids")
    updated = await subscriptions.update(
        db,
        webhook_id,
        changes,
        rotate=data.rotate_secret,
        overlap=timedelta(seconds=settings.webhook_secret_overlap_seconds),
    )
    if updated is None:
        raise NotFound("webhook", webhook_id)
    row, secret = updated
    return Webhook.of(row, secret)


@delete(
    "/webhooks/{webhook_id:uuid}",
    operation_id="deleteWebhook",
    summary="Unsubscribe",
    tags=TAGS,
    responses=problem_responses(400, 401, 403, 404, 503),
    opt=ADMIN,
)
async def delete_webhook(webhook_id: FromPath[UUID], db: DbDep) -> None:
    """Remove the subscription and its delivery log."""
    if not await subscriptions.delete(db, webhook_id):
        raise NotFound("webhook", webhook_id)


@get(
    "/webhooks/{webhook_id:uuid}/deliveries",
    operation_id="listWebhookDeliveries",
    summary="Delivery attempts, newest first",
    tags=TAGS,
    responses=problem_responses(*READ_PROBLEMS, 404),
    opt=ADMIN,
)
async def list_deliveries(
    webhook_id: FromPath[UUID], db: DbDep, cursor: Cursor = None, limit: Limit = 50
) -> DeliveryPage:
    """Every attempt: when, the answer's status code, latency, and the error or refusal."""
    await _found(db, webhook_id)
    before = decode_cursor(cursor, "deliveries", tuple[int])
    rows = await deliveries.listing(
        db, webhook_id, before=before[0] if before else None, limit=limit + 1
    )
    page, next_cursor = page_of(rows, limit, "deliveries", lambda row: (row["id"],))
    return DeliveryPage(items=[Delivery.of(row) for row in page], next_cursor=next_cursor)


@post(
    "/webhooks/{webhook_id:uuid}/replay",
    operation_id="replayWebhook",
    summary="Send everything again from a position",
    tags=TAGS,
    responses=problem_responses(*WRITE_PROBLEMS, 404),
    opt=ADMIN,
    status_code=202,
)
async def replay_webhook(
    webhook_id: FromPath[UUID], data: JSONBody[ReplayCreate], services: ServicesDep
) -> Replay:
    """Messages from `from_position` on are delivered again, in order, with the same
    `webhook-id`s as the first time."""
    count = await subscriptions.replay(services.pool, webhook_id, data.from_position)
    if count is None:
        raise NotFound("webhook", webhook_id)
    if services.workers.dispatcher is not None:
        services.workers.dispatcher.wake()
    return Replay(id=webhook_id, from_position=data.from_position, messages=count)


@post(
    "/webhooks/{webhook_id:uuid}/test",
    operation_id="testWebhook",
    summary="Send a test message now",
    tags=TAGS,
    responses=problem_responses(400, 401, 403, 404, 503),
    opt=ADMIN,
    status_code=200,
)
async def test_webhook(webhook_id: FromPath[UUID], services: ServicesDep) -> Response[Delivery]:
    """Sign and send a `webhook.test` message right away; answers how the attempt went."""
    target = await subscriptions.secrets_of(services.pool, webhook_id)
    if target is None:
        raise NotFound("webhook", webhook_id)
    url, secrets = target
    message = Message(
        id=f"msg_test_{uuid4().hex}",
        type="webhook.test",
        timestamp=datetime.now(UTC),
        data={"webhook": str(webhook_id), "message": "a test message from claimledger"},
    )
    options = services.settings.delivery_options()
    result = await attempt(services.webhook_client, options, url, message, secrets)
    await deliveries.record(services.pool, webhook_id, message, 1, result)
    delivery = Delivery(
        webhook_id=message.id,
        type=message.type,
        position=None,
        attempt=1,
        attempted_at=result.attempted_at,
        outcome=result.outcome,
        status_code=result.status_code,
        latency_ms=result.latency_ms,
        error=result.error,
    )
    return Response(delivery, status_code=200)
