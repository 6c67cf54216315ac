"""``/metrics`` of real processes: ``serve`` shows its worker processes' metrics beside its own,
and a projector or a dispatcher run alone serves its own on ``--metrics-port``
(``CLAIMLEDGER_METRICS_PORT``).

The tests are coroutines to receive a fresh database; they drive the processes from a thread.
"""

from __future__ import annotations

import time

import anyio
import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.processes import claimledger, environment, free_port, post, running, serving

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> Samples:
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200, response.text
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            key = (sample.name, frozenset(sample.labels.items()))
            assert key not in samples, f"{key} appears twice"
            samples[key] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def until_scraped(url: str, name: str, at_least: float, **labels: str) -> Samples:
    """Scrape ``url`` until ``name`` with ``labels`` reaches ``at_least`` (30 s at most)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            samples = scrape(url)
        except httpx.TransportError:
            samples = {}
        seen = value(samples, name, **labels)
        if seen is not None and seen >= at_least:
            return samples
        assert time.monotonic() < deadline, f"{name}{labels} is {seen}, not {at_least}"
        time.sleep(0.2)


async def test_serve_shows_its_workers_and_lone_workers_their_own(database_url: str) -> None:
    await anyio.to_thread.run_sync(serve_and_lone_workers, database_url)


def serve_and_lone_workers(database_url: str) -> None:
    env = environment(DATABASE_URL=database_url, CLAIMLEDGER_WORKER_PROCESSES=None)
    key = claimledger(["keys", "create", "--role", "editor", "--name", "e2e"], env=env)
    key = key.strip().splitlines()[-1]
    with serving([], env=env, port=free_port()) as base:
        post(base, "/v1/sources", {"name": "FSB", "kind": "security_service"}, key)
        incident = post(base, "/v1/incidents", {"title": "Raid"}, key)
        post(base, f"/v1/incidents/{incident['id']}/claims", {"text": "It"}, key)
        # A worker shows as down until it has started and announced its port.
        until_scraped(f"{base}/metrics", "claimledger_worker_up", 1, process="dispatcher")
        samples = until_scraped(
            f"{base}/metrics",
            "claimledger_projector_events_applied_total",
            3,
            process="projector",
        )
        assert value(samples, "claimledger_worker_up", process="projector") == 1
        assert value(samples, "claimledger_worker_up", process="dispatcher") == 1
        assert value(samples, "claimledger_projector_active", process="projector") == 1
        assert value(samples, "claimledger_pool_size", pool="dispatcher", process="dispatcher")
        attempts = "claimledger_webhook_attempt_duration_seconds_count"
        assert value(samples, attempts, process="dispatcher") == 0
        assert value(samples, "claimledger_pool_size", pool="reads", process="api") == 10
        written = value(
            samples,
            "claimledger_http_requests_total",
            method="POST",
            route="/v1/sources",
            status="201",
            process="api",
        )
        assert written == 1
        # Each process reports the parts it runs: no projector in the API or the dispatcher.
        assert value(samples, "claimledger_projector_position", process="dispatcher") is None
        assert value(samples, "claimledger_projector_position", process="api") is None
        assert (
            value(
                samples, "claimledger_webhook_attempt_duration_seconds_count", process="projector"
            )
            is None
        )
        assert (value(samples, "claimledger_ledger_head_position", process="api") or 0) >= 3

    port = free_port()
    with running(["serve", "--role", "projector", "--metrics-port", str(port)], env=env) as alone:
        samples = until_scraped(
            f"http://127.0.0.1:{port}/metrics", "claimledger_projector_position", 3
        )
        assert value(samples, "claimledger_projector_events_applied_total") == 0
        assert value(samples, "claimledger_projector_active") == 1
        assert value(samples, "claimledger_http_requests_total") is None
    assert alone.process.returncode == 0, alone.output
    assert f"metrics: http://127.0.0.1:{port}/metrics" in alone.output

    # A dispatcher alone, its port from the environment.
    port = free_port()
    env["CLAIMLEDGER_METRICS_PORT"] = str(port)
    with running(["serve", "--role", "dispatcher"], env=env) as alone:
        samples = until_scraped(
            f"http://127.0.0.1:{port}/metrics", "claimledger_pool_size", 5, pool="dispatcher"
        )
        assert value(samples, "claimledger_webhook_attempt_duration_seconds_count") == 0
        assert value(samples, "claimledger_projector_position") is None
    assert alone.process.returncode == 0, alone.output
