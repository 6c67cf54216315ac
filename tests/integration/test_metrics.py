"""``/metrics``: the Prometheus text format, parsed with prometheus_client's own parser, after real
writes, reads, projector batches and webhook deliveries to a real receiver."""

from __future__ import annotations

from dataclasses import replace
from uuid import uuid4

from litestar import Litestar
from litestar.testing import AsyncTestClient
from prometheus_client import CollectorRegistry, Counter, start_http_server
from prometheus_client.parser import text_string_to_metric_families

from claimledger.api.app import create_app
from claimledger.runtime.metrics import worker_metrics_directory
from claimledger.runtime.settings import Settings
from tests.conftest import Keys
from tests.e2e.processes import free_port
from tests.helpers import Client, claim, eventually, incident, source, statement, until
from tests.integration.test_webhooks import subscribe
from tests.receiver import Receiver, receiving

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: Client, headers: dict[str, str] | None = None) -> Samples:
    """Every sample of ``/metrics`` by name and labels; asked without a key unless given one."""
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            key = (sample.name, frozenset(sample.labels.items()))
            assert key not in samples, f"{key} appears twice"
            samples[key] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def labelled(samples: Samples, name: str) -> list[dict[str, str]]:
    return [dict(labels) for sample, labels in samples if sample == name]


async def test_requests_projection_deliveries_pools_and_streams_are_measured(
    client: Client, keys: Keys, settings: Settings
) -> None:
    before = await scrape(client)
    with receiving(Receiver()) as receiver:
        hook = await subscribe(client, keys, receiver.url, "claim.status_changed")
        claim_id = await claim(client, keys.editor, await incident(client, keys.editor))
        said = await statement(client, keys.editor, claim_id, await source(client, keys.editor))
        read = await client.get(f"/v1/claims/{claim_id}", params={"min_position": said["position"]})
        assert read.status_code == 200
        assert (await client.get(f"/v1/claims/{uuid4()}")).status_code == 404
        assert (await client.get(f"/nothing/here/{uuid4()}")).status_code == 404
        await client.request("BREW", "/v1/sources")
        await until(lambda: len(receiver.delivered) >= 1, what="a delivery")

        async def queue_empty() -> bool:
            now = await scrape(client)
            return value(now, "claimledger_webhook_queue_depth", webhook=hook["id"]) == 0 and (
                ("claimledger_webhook_queue_depth", frozenset({("webhook", hook["id"])})) in now
            )

        await eventually(queue_empty, what="the webhook's queue drained")
    after = await scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    # Requests: by route template and status, each timed; never a raw path.
    assert grew("claimledger_http_requests_total", method="POST", route="/v1/sources", status="201")
    claims = {"method": "GET", "route": "/v1/claims/{claim_id}"}
    assert grew("claimledger_http_requests_total", **claims, status="200") == 1
    assert grew("claimledger_http_requests_total", **claims, status="404") == 1
    assert grew("claimledger_http_requests_total", method="GET", route="unmatched", status="404")
    counted = labelled(after, "claimledger_http_requests_total")
    routes = {labels["route"] for labels in counted}
    assert not any(claim_id in route or "nothing" in route for route in routes), routes
    # Any method a client makes up is counted as "other": labels stay bounded.
    brewed = [c for c in counted if c["method"] == "other" and c["status"] == "405"]
    assert brewed, counted
    assert "BREW" not in {labels["method"] for labels in counted}
    count = value(after, "claimledger_http_request_duration_seconds_count", **claims)
    assert count >= 2
    every = value(after, "claimledger_http_request_duration_seconds_bucket", **claims, le="+Inf")
    assert every == count
    assert 0 < value(after, "claimledger_http_request_duration_seconds_sum", **claims) < count * 30

    # The projector: events applied (source, incident, claim, statement), batches timed, its
    # position; and what the database says: no lag, not stuck.
    assert grew("claimledger_projector_events_applied_total") >= 4
    assert grew("claimledger_projector_batch_duration_seconds_count") >= 1
    assert value(after, "claimledger_projector_position") >= said["position"]
    assert value(after, "claimledger_projector_active") == 1
    assert value(after, "claimledger_database_up") == 1
    assert value(after, "claimledger_ledger_head_position") >= said["position"]
    assert value(after, "claimledger_projector_lag_events") == 0
    assert value(after, "claimledger_projector_lag_seconds") == 0
    assert value(after, "claimledger_projector_stuck") == 0

    # Webhooks: the attempt counted by outcome and timed.
    assert grew("claimledger_webhook_deliveries_total", outcome="delivered") >= 1
    assert grew("claimledger_webhook_attempt_duration_seconds_count") >= 1

    # Pools: their sizes as configured (the keys fixture's services run beside the app's, and
    # pools of one name add up), no more in use than they hold.
    sizes = {
        "primary": 4,
        "reads": settings.read_pool_size,
        "search": settings.search_pool_size,
        "dispatcher": 5,
        "events": settings.write_pool_size,
    }
    for pool, size in sizes.items():
        total = value(after, "claimledger_pool_size", pool=pool)
        assert total >= size, pool
        assert total % size == 0, (pool, total)
        assert 0 <= value(after, "claimledger_pool_connections_in_use", pool=pool) <= total

    # Open streams: a place taken and given back.
    app = client.app
    assert isinstance(app, Litestar)
    opened = value(after, "claimledger_sse_streams_open")
    give_back = app.state.streams.take()
    assert value(await scrape(client), "claimledger_sse_streams_open") == opened + 1
    give_back()
    assert value(await scrape(client), "claimledger_sse_streams_open") == opened


async def test_lag_and_the_stuck_state_without_a_projector(settings: Settings, keys: Keys) -> None:
    """Writes with no projector running: the lag in events and in seconds, and ``stuck`` by
    ``/ready``'s rule (behind, and not advanced for ``stuck_after_seconds``)."""
    alone = replace(settings, roles=frozenset(), stuck_after_seconds=0.0, public_read=False)
    async with AsyncTestClient(app=create_app(alone)) as client:
        await source(client, keys.editor)
        await incident(client, keys.editor)
        assert (await client.get("/metrics")).status_code == 401, "a key, where reads need one"
        samples = await scrape(client, keys.header("editor"))
        assert value(samples, "claimledger_projector_lag_events") == 2
        assert value(samples, "claimledger_ledger_head_position") >= 2
        assert value(samples, "claimledger_projector_lag_seconds") > 0
        assert value(samples, "claimledger_projector_stuck") == 1
        assert (await client.get("/ready")).json()["status"] == "stuck"
        # Not part of the API's contract.
        assert "/metrics" not in (client.app.openapi_schema.paths or {})


async def test_worker_processes_metrics_are_added_with_their_process(client: Client) -> None:
    """What ``serve`` does with its worker processes, with one worker that answers (a real
    prometheus_client server), one whose port is closed and one not started yet."""
    registry = CollectorRegistry()
    Counter("claimledger_projector_events_applied", "applied", registry=registry).inc(7)
    server, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    try:
        with worker_metrics_directory(["projector", "dispatcher", "starting"]) as directory:
            (directory / "projector").write_text(str(server.server_port))
            (directory / "dispatcher").write_text(str(free_port()))
            samples = await scrape(client)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    applied = "claimledger_projector_events_applied_total"
    assert value(samples, applied, process="projector") == 7
    assert value(samples, "claimledger_worker_up", process="projector") == 1
    assert value(samples, "claimledger_worker_up", process="dispatcher") == 0
    assert value(samples, "claimledger_worker_up", process="starting") == 0
    # This process's own samples carry process="api", the one family beside the worker's.
    assert ("claimledger_database_up", frozenset({("process", "api")})) in samples
    assert {labels.get("process") for labels in labelled(samples, applied)} == {"api", "projector"}
    assert all("process" in dict(labels) for _, labels in samples)
    # Once the workers are gone, the process's own metrics have no process label.
    assert ("claimledger_database_up", frozenset()) in await scrape(client)
