"""The instruments every part of a process reports on, for ``/metrics``.

They live here, below the projector, the dispatcher and the API, so that each part counts what
it does where it does it; ``runtime.metrics`` renders them. Hot paths touch them once per batch,
per delivery attempt or per request, never per event. Every label takes a bounded set of values:
a route's template (never its path), a status, an outcome, a pool's name.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import prometheus_client
from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

# A `_created` sample beside every counter and histogram doubles the output and says little.
prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]

_SHORT = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "claimledger_http_requests",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
)
HTTP_SECONDS = Histogram(
    "claimledger_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer (a stream: its whole life)",
    ["method", "route"],
    buckets=_SHORT,
)
STREAMS_OPEN = Gauge("claimledger_sse_streams_open", "Open /v1/stream connections")

PROJECTOR_POSITION = Gauge(
    "claimledger_projector_position", "The position this process's projector has applied up to"
)
PROJECTOR_ACTIVE = Gauge(
    "claimledger_projector_active",
    "1 while this process's projector is the active one (holds the lock), 0 as a standby",
)
PROJECTOR_BATCH_SECONDS = Histogram(
    "claimledger_projector_batch_duration_seconds",
    "Time of one projector transaction, from locking the position to the commit",
    buckets=_SHORT,
)
PROJECTOR_EVENTS = Counter(
    "claimledger_projector_events_applied", "Events this process's projector applied"
)
PROJECTOR_SKIPPED = Counter(
    "claimledger_projector_events_skipped",
    "Events this process's projector set aside because the views cannot take them",
)

WEBHOOK_DELIVERIES = Counter(
    "claimledger_webhook_deliveries",
    "Webhook delivery attempts by outcome (delivered, failed, refused) and messages given up",
    ["outcome"],
)
WEBHOOK_SECONDS = Histogram(
    "claimledger_webhook_attempt_duration_seconds",
    "Time of one webhook delivery attempt that reached the network, to the answer's last byte",
    buckets=_SHORT,
)


def delivery_attempted(outcome: str, latency_ms: float | None) -> None:
    """Count one delivery attempt (or a message given up, which has no latency)."""
    WEBHOOK_DELIVERIES.labels(outcome).inc()
    if latency_ms is not None:
        WEBHOOK_SECONDS.observe(latency_ms / 1000)


# A pool's use: the connections it has lent out and the most it may hold; None once closed.
PoolUse = Callable[[Any], tuple[int, int] | None]


def asyncpg_use(pool: Any) -> tuple[int, int] | None:
    """The use of an asyncpg pool."""
    if pool.is_closing():
        return None
    return pool.get_size() - pool.get_idle_size(), pool.get_max_size()


_pools: dict[str, weakref.WeakKeyDictionary[Any, PoolUse]] = {}
# A worker process's metrics are read by prometheus_client's server, in a thread of its own.
_pools_lock = threading.Lock()


def watch_pool(pool: Any, name: str, use: PoolUse = asyncpg_use) -> None:
    """Report ``pool`` under ``name`` while it lives (pools of one name are added up)."""
    with _pools_lock:
        _pools.setdefault(name, weakref.WeakKeyDictionary())[pool] = use


class _Pools(Collector):
    """Connections in use and each pool's size, read from the pools when scraped."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        in_use = GaugeMetricFamily(
            "claimledger_pool_connections_in_use",
            "Connections of a database pool lent out now",
            labels=["pool"],
        )
        size = GaugeMetricFamily(
            "claimledger_pool_size", "Connections a database pool may hold", labels=["pool"]
        )
        with _pools_lock:
            named = sorted((name, list(pools.items())) for name, pools in _pools.items())
        for name, pools in named:
            uses = [use for use in (read(pool) for pool, read in pools) if use is not None]
            if uses:
                in_use.add_metric([name], sum(lent for lent, _ in uses))
                size.add_metric([name], sum(most for _, most in uses))
        yield in_use
        yield size


REGISTRY.register(_Pools())
