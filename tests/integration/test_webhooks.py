"""Webhooks to a real receiver on 127.0.0.1, verified with the standardwebhooks library."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import anyio
import pytest
from litestar.testing import AsyncTestClient

from claimledger.api.app import create_app
from claimledger.runtime.bootstrap import started
from claimledger.runtime.demo import load_scenario
from claimledger.runtime.settings import Settings
from tests.conftest import Keys
from tests.helpers import (
    Client,
    claim,
    created,
    eventually,
    incident,
    source,
    statement,
    until,
)
from tests.integration.test_scenario import record_scenario
from tests.receiver import Receiver, Reply, receiving


async def subscribe(
    client: Client, keys: Keys, url: str, *types: str, **extra: Any
) -> dict[str, Any]:
    body = {"url": url, "event_types": list(types), "description": "test", **extra}
    return await created(client, "/v1/webhooks", body, keys.admin)


async def webhook(client: Client, keys: Keys, webhook_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/webhooks/{webhook_id}", headers=keys.header("admin"))
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def deliveries(client: Client, keys: Keys, webhook_id: str) -> list[dict[str, Any]]:
    response = await client.get(
        f"/v1/webhooks/{webhook_id}/deliveries",
        params={"limit": "200"},
        headers=keys.header("admin"),
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return list(reversed(items))


async def test_the_scenario_delivers_exactly_its_status_changes_in_order(
    client: Client, keys: Keys
) -> None:
    scenario = load_scenario()
    with receiving(Receiver()) as receiver:
        hook = await subscribe(client, keys, receiver.url, "claim.status_changed")
        assert hook["secret"].startswith("whsec_")
        claims, receipts = await record_scenario(client, keys, scenario)
        expected: list[tuple[str, str, str]] = []
        current = dict.fromkeys(claims, "unverified")
        for step, receipt in zip(scenario.steps, receipts, strict=True):
            if step.expect != current[step.claim]:
                expected.append((claims[step.claim], step.expect, receipt["id"]))
                current[step.claim] = step.expect
        assert len(expected) == 11
        last_change = max(
            r["position"]
            for r, s in zip(receipts, scenario.steps, strict=True)
            if (claims[s.claim], s.expect, r["id"]) in expected
        )
        await until(lambda: len(receiver.delivered) >= len(expected), what="all status changes")

        async def cursor_at_last_change() -> bool:
            state = await webhook(client, keys, hook["id"])
            # The cursor moves once the receiver's answer is in, just after it was recorded.
            assert state["delivered_through"] <= last_change
            return bool(state["delivered_through"] == last_change)

        await eventually(cursor_at_last_change, what="the cursor at the last status change")

    messages = [r.verified(hook["secret"]) for r in receiver.delivered]
    assert all(m["type"] == "claim.status_changed" for m in messages)
    data = [m["data"] for m in messages]
    assert [(d["claim_id"], d["to"], d["statement_id"]) for d in data] == expected
    positions = [d["position"] for d in data]
    assert positions == sorted(positions)
    assert len({r.id for r in receiver.delivered}) == len(expected)
    first = data[0]
    assert isinstance(first, dict)
    assert first["from"] == "unverified"
    assert set(first) >= {
        "incident_id",
        "claim_id",
        "from",
        "to",
        "reasons",
        "statement_id",
        "recorded_at",
        "position",
    }
    assert first["reasons"]["text"].startswith("claimed: asserted by")


async def test_a_failing_receiver_gets_everything_in_order_once_it_recovers(
    client: Client, keys: Keys
) -> None:
    fails_three_times = Receiver(lambda n: Reply(500) if n < 3 else Reply(200))
    with receiving(fails_three_times) as receiver:
        hook = await subscribe(client, keys, receiver.url, "statement.recorded")
        claim_id = await claim(client, keys.editor, await incident(client, keys.editor))
        speaker = await source(client, keys.editor)
        written = [await statement(client, keys.editor, claim_id, speaker) for _ in range(3)]
        await until(lambda: len(receiver.delivered) >= 3, what="three deliveries")

        async def logged() -> bool:
            return len(await deliveries(client, keys, hook["id"])) >= 6

        await eventually(logged, what="six attempts in the log")
        log = await deliveries(client, keys, hook["id"])

    delivered = [r.verified(hook["secret"]) for r in receiver.delivered]
    assert [m["data"]["id"] for m in delivered] == [w["id"] for w in written]
    assert [(d["outcome"], d["status_code"], d["attempt"]) for d in log] == [
        ("failed", 500, 1),
        ("failed", 500, 2),
        ("failed", 500, 3),
        ("delivered", 200, 4),
        ("delivered", 200, 1),
        ("delivered", 200, 1),
    ]
    assert len({d["webhook_id"] for d in log[:4]}) == 1
    assert all(d["latency_ms"] is not None and d["latency_ms"] >= 0 for d in log)


async def test_a_receiver_that_was_down_while_the_dispatcher_restarted_gets_everything(
    settings: Settings, keys: Keys
) -> None:
    port_owner = Receiver()
    port = port_owner.port
    port_owner.server.server_close()  # the receiver is down: nothing listens on its port
    patient = replace(settings, webhook_retry_schedule=(0, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4))
    api_only = replace(patient, roles=frozenset({"api", "projector"}))
    async with AsyncTestClient(app=create_app(api_only)) as client:
        hook = await subscribe(client, keys, f"http://127.0.0.1:{port}/hook", "statement.recorded")
        claim_id = await claim(client, keys.editor, await incident(client, keys.editor))
        speaker = await source(client, keys.editor)
        written = [await statement(client, keys.editor, claim_id, speaker) for _ in range(4)]
        dispatching = replace(patient, roles=frozenset({"dispatcher"}))

        async def refused_once() -> bool:
            return any(d["outcome"] == "failed" for d in await deliveries(client, keys, hook["id"]))

        async with started(dispatching):
            await eventually(refused_once, what="a failed attempt while the receiver is down")
        # The first dispatcher is gone; the receiver comes back; a new dispatcher starts.
        with receiving(Receiver(port=port)) as receiver:
            async with started(dispatching):
                await until(lambda: len(receiver.delivered) >= 4, what="all four after restart")

                async def all_logged() -> bool:
                    log = await deliveries(client, keys, hook["id"])
                    delivered: int = sum(d["outcome"] == "delivered" for d in log)
                    return delivered >= 4

                await eventually(all_logged, what="four deliveries in the log")
        log = await deliveries(client, keys, hook["id"])

    ids = [r.verified(hook["secret"])["data"]["id"] for r in receiver.delivered]
    assert ids == [w["id"] for w in written]
    assert log[0]["outcome"] == "failed"
    assert "ConnectError" in log[0]["error"]
    assert [d["outcome"] for d in log[-4:]] == ["delivered"] * 4


async def test_410_disables_the_endpoint(client: Client, keys: Keys) -> None:
    with receiving(Receiver(lambda _: Reply(410))) as receiver:
        hook = await subscribe(client, keys, receiver.url, "incident.opened")
        await incident(client, keys.editor)
        await until(lambda: len(receiver.received) >= 1)

        async def disabled() -> bool:
            return not (await webhook(client, keys, hook["id"]))["enabled"]

        await eventually(disabled, what="the endpoint disabled")
        state = await webhook(client, keys, hook["id"])
        await incident(client, keys.editor)
        log = await deliveries(client, keys, hook["id"])
    assert state["disabled_reason"] == "the endpoint answered 410 Gone"
    assert [(d["outcome"], d["status_code"]) for d in log] == [("failed", 410)]
    assert len(receiver.received) == 1


async def test_replay_resends_with_the_same_ids_and_the_test_ping_arrives(
    client: Client, keys: Keys
) -> None:
    with receiving(Receiver()) as receiver:
        hook = await subscribe(client, keys, receiver.url, "incident.opened")
        opened = [await incident(client, keys.editor, title=f"Incident {n}") for n in range(3)]
        await until(lambda: len(receiver.delivered) >= 3)
        first_ids = [r.id for r in receiver.delivered]
        positions = [r.verified(hook["secret"])["data"]["position"] for r in receiver.delivered]
        replay = await client.post(
            f"/v1/webhooks/{hook['id']}/replay",
            json={"from_position": positions[1]},
            headers=keys.header("admin"),
        )
        assert replay.status_code == 202, replay.text
        assert replay.json()["messages"] == 2
        await until(lambda: len(receiver.delivered) >= 5)
        ping = await client.post(f"/v1/webhooks/{hook['id']}/test", headers=keys.header("admin"))
        assert ping.status_code == 200, ping.text
        assert ping.json()["outcome"] == "delivered"
        await until(lambda: len(receiver.delivered) >= 6)

    resent = [r.id for r in receiver.delivered[3:5]]
    assert resent == first_ids[1:]
    assert [
        r.verified(hook["secret"])["data"]["incident_id"] for r in receiver.delivered[:3]
    ] == opened
    test_message = receiver.delivered[5].verified(hook["secret"])
    assert test_message["type"] == "webhook.test"


async def test_a_replay_during_a_delivery_waits_for_it_and_is_not_overwritten(
    client: Client, keys: Keys
) -> None:
    third_answered = threading.Event()
    held = Receiver(lambda n: Reply(200, hold=third_answered) if n == 2 else Reply(200))
    with receiving(held) as receiver:
        try:
            hook = await subscribe(client, keys, receiver.url, "incident.opened")
            opened = [await incident(client, keys.editor, title=f"Incident {n}") for n in range(3)]
            await until(lambda: len(receiver.received) >= 3, what="the third message in flight")
            first = receiver.received[0].verified(hook["secret"])["data"]["position"]
            replay = await client.post(
                f"/v1/webhooks/{hook['id']}/replay",
                json={"from_position": first},
                headers=keys.header("admin"),
            )
            assert replay.status_code == 202, replay.text
            # Idle dispatcher workers look for due endpoints twice a second: for a second and a
            # half none may send to this one while its third message is still unanswered.
            with anyio.move_on_after(1.5):
                await until(lambda: len(receiver.received) > 3, within=2)
            assert len(receiver.received) == 3, "sent to the endpoint while a message was in flight"
        finally:
            answered_at = time.monotonic()
            third_answered.set()
        await until(lambda: len(receiver.delivered) >= 6, what="the whole replay")

    # The dispatcher that held the endpoint did not move the cursor past the replay.
    ids = [r.verified(hook["secret"])["data"]["incident_id"] for r in receiver.delivered]
    assert ids[:3] == opened
    assert ids[3:] == opened
    assert receiver.received[3].at > answered_at


async def test_a_rotated_secret_signs_beside_the_old_one(client: Client, keys: Keys) -> None:
    with receiving(Receiver()) as receiver:
        hook = await subscribe(client, keys, receiver.url, "incident.opened")
        rotated = await client.patch(
            f"/v1/webhooks/{hook['id']}",
            json={"rotate_secret": True},
            headers=keys.header("admin"),
        )
        assert rotated.status_code == 200, rotated.text
        new_secret = rotated.json()["secret"]
        assert new_secret.startswith("whsec_")
        assert new_secret != hook["secret"]
        await incident(client, keys.editor)
        await until(lambda: len(receiver.delivered) >= 1)
    message = receiver.delivered[0]
    assert message.verified(hook["secret"])["type"] == "incident.opened"
    assert message.verified(new_secret)["type"] == "incident.opened"
    assert len(message.headers["webhook-signature"].split(" ")) == 2


@pytest.fixture
async def guarded(settings: Settings) -> AsyncIterator[Client]:
    strict = replace(settings, webhook_allow_private=False)
    async with AsyncTestClient(app=create_app(strict)) as client:
        yield client


async def test_the_guard_refuses_private_targets_and_logs_it(guarded: Client, keys: Keys) -> None:
    targets = {
        "http://127.0.0.1:9/hook": "loopback",
        "http://10.0.0.1/hook": "private",
        "http://169.254.169.254/latest/meta-data": "cloud metadata",
        "http://localhost:9/hook": "loopback",
    }
    hooks = {url: await subscribe(guarded, keys, url, "incident.opened") for url in targets}
    await incident(guarded, keys.editor)
    for url, reason in targets.items():

        async def attempted(webhook_id: str = hooks[url]["id"]) -> bool:
            return bool(await deliveries(guarded, keys, webhook_id))

        await eventually(attempted, what=f"an attempt at {url}")
        log = await deliveries(guarded, keys, hooks[url]["id"])
        assert log[0]["outcome"] == "refused", log
        assert reason in log[0]["error"], log
        assert log[0]["status_code"] is None


async def test_webhook_management_needs_admin_and_valid_input(client: Client, keys: Keys) -> None:
    body = {"url": "https://example.org/hook", "event_types": ["claim.status_changed"]}
    assert (await client.post("/v1/webhooks", json=body)).status_code == 401
    as_editor = await client.post("/v1/webhooks", json=body, headers=keys.header("editor"))
    assert as_editor.status_code == 403
    cases: dict[str, dict[str, Any]] = {
        "url": {"url": "ftp://example.org/x"},
        "event_types[0]": {"event_types": ["claim.exploded"]},
    }
    for field, change in cases.items():
        bad = await client.post(
            "/v1/webhooks", json={**body, **change}, headers=keys.header("admin")
        )
        assert bad.status_code == 422, bad.text
        assert bad.json()["field"] == field
    made = await created(client, "/v1/webhooks", body, keys.admin)
    listed = await client.get("/v1/webhooks", headers=keys.header("admin"))
    assert [w["id"] for w in listed.json()["items"]] == [made["id"]]
    assert listed.json()["items"][0]["secret"] is None
    gone = await client.delete(f"/v1/webhooks/{made['id']}", headers=keys.header("admin"))
    assert gone.status_code == 204
    missing = await client.get(f"/v1/webhooks/{made['id']}", headers=keys.header("admin"))
    assert missing.status_code == 404


async def test_redirects_are_not_followed_and_long_failures_disable(
    settings: Settings, keys: Keys
) -> None:
    quick_to_give_up = replace(
        settings,
        webhook_retry_schedule=(0, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05),
        webhook_disable_after_seconds=0.3,
    )
    redirecting = Receiver(lambda _: Reply(302, {"Location": "http://127.0.0.1:1/elsewhere"}))
    async with AsyncTestClient(app=create_app(quick_to_give_up)) as client:
        with receiving(redirecting) as receiver:
            hook = await subscribe(client, keys, receiver.url, "incident.opened")
            await incident(client, keys.editor)

            async def disabled() -> bool:
                return not (await webhook(client, keys, hook["id"]))["enabled"]

            await eventually(disabled, what="disabled after failing for longer than 0.3 s")
            state = await webhook(client, keys, hook["id"])
            log = await deliveries(client, keys, hook["id"])
    assert state["disabled_reason"].startswith("failing since")
    assert {(d["outcome"], d["status_code"]) for d in log} == {("failed", 302)}
    assert len(receiver.received) == len(log) >= 2


async def test_two_dispatchers_deliver_each_message_once_in_order(
    settings: Settings, keys: Keys
) -> None:
    api_only = replace(settings, roles=frozenset({"api", "projector"}))
    dispatching = replace(settings, roles=frozenset({"dispatcher"}))
    receivers = [Receiver() for _ in range(3)]
    async with AsyncTestClient(app=create_app(api_only)) as client:
        with receiving(receivers[0]), receiving(receivers[1]), receiving(receivers[2]):
            hooks = [await subscribe(client, keys, r.url, "incident.opened") for r in receivers]
            opened = [await incident(client, keys.editor, title=f"I{n}") for n in range(10)]
            async with started(dispatching), started(dispatching):
                for receiver in receivers:
                    await until(lambda r=receiver: len(r.delivered) >= 10)  # type: ignore[misc]
    for hook, receiver in zip(hooks, receivers, strict=True):
        ids = [r.verified(hook["secret"])["data"]["incident_id"] for r in receiver.delivered]
        assert ids == opened


async def test_a_dispatcher_in_another_process_that_cannot_lease_shows_in_ready(
    settings: Settings, keys: Keys, database_url: str
) -> None:
    from claimledger.store.db import close, connect
    from claimledger.webhooks.dispatcher import Dispatcher

    quick = replace(settings, stuck_after_seconds=1.0, poll_seconds=0.1)
    # The API's process runs no dispatcher: /ready learns of the other's failure from the database.
    api_only = replace(quick, roles=frozenset({"api"}))
    dispatcher = Dispatcher(database_url, quick.dispatch_options())
    db = await connect(database_url)
    try:
        async with (
            AsyncTestClient(app=create_app(api_only)) as client,
            anyio.create_task_group() as group,
        ):
            await db.execute("ALTER TABLE webhooks.endpoints RENAME TO endpoints_away")
            await group.start(dispatcher.run)

            async def stuck() -> bool:
                ready = await client.get("/ready")
                return ready.status_code == 503 and ready.json()["status"] == "stuck"

            await eventually(stuck, what="/ready to say a dispatcher cannot ask for work")
            answer = await client.get("/ready")
            body = answer.json()
            assert "endpoints" in body["dispatcher_error"]
            assert answer.headers["retry-after"] == "5"
            await db.execute("ALTER TABLE webhooks.endpoints_away RENAME TO endpoints")

            async def ready() -> bool:
                return (await client.get("/ready")).status_code == 200

            await eventually(ready, what="the dispatcher to work again")
            assert (await client.get("/ready")).json()["dispatcher_error"] is None
            group.cancel_scope.cancel()
    finally:
        await close(db)
