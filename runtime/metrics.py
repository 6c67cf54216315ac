"""``/metrics``: what this process counts, what the database says, and its worker processes'.

Every process keeps its own instruments (``store.metrics``) in memory. The API renders them with
gauges read from the database when it is scraped (the ledger's head, the projector's lag and
stuck state by ``/ready``'s rule, each webhook's queue): one indexed query per scrape, nothing
kept between scrapes. Under ``claimledger serve`` the projector and the dispatcher run in worker
processes: each serves its own registry on a port of 127.0.0.1 chosen by the system and writes
that port in a directory ``serve`` made for them (``WORKER_METRICS_DIR``); the API's ``/metrics``
reads each one and adds it to its own, every sample then labelled with its ``process``. A worker
run alone (``serve --role projector|dispatcher``) serves its registry with prometheus_client's
own server on ``settings.metrics_port``.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import httpx
from prometheus_client import generate_latest, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import REGISTRY, Collector, CollectorRegistry

from claimledger.runtime.settings import Settings
from claimledger.store.db import Db
from claimledger.store.events import EVENTS

log = logging.getLogger("claimledger.metrics")

# The directory in which worker processes of `serve` announce their metrics ports.
WORKER_METRICS_DIR = "CLAIMLEDGER_WORKER_METRICS_DIR"
# A webhook's queue is counted up to this many messages: a count costs a scan of what it counts.
QUEUE_COUNTED_UP_TO = 10_000
_WORKER_TIMEOUT = 2.0
_DATABASE_TIMEOUT = 2.0

_LEDGER = f"""
SELECT t.position,
       (SELECT coalesce(max(notification_id), 0) FROM {EVENTS}) AS head,
       extract(epoch FROM now() - greatest(t.updated_at, t.caught_up_at)) AS idle_seconds,
       (SELECT extract(epoch FROM now()
                 - (convert_from(e.state, 'UTF8')::jsonb ->> 'timestamp')::timestamptz)
          FROM {EVENTS} e WHERE e.notification_id > t.position
         ORDER BY e.notification_id LIMIT 1) AS oldest_unapplied_seconds,
       l.size AS log_size, l.refusal IS NOT NULL AS log_refusing,
       (SELECT coalesce(max(size), 0) FROM transparency.checkpoints) AS log_checkpoint_size
FROM views.tracking t, transparency.tree l WHERE t.projection = 'views'
"""  # noqa: S608 (a constant table name)

_QUEUES = """
SELECT e.id, (SELECT count(*) FROM (SELECT 1 FROM views.outbox o
        WHERE (o.position, o.seq) > (e.cursor_position, e.cursor_seq)
          AND o.type = ANY(e.event_types)
          AND (e.incident_ids IS NULL OR o.incident_id = ANY(e.incident_ids))
        LIMIT $1) waiting) AS depth
FROM webhooks.endpoints e WHERE e.enabled ORDER BY e.id
"""

# Families only a process running one of these parts reports (a dispatcher has no projector
# position); the API makes test deliveries of webhooks.
_PARTS = (
    ("claimledger_projector_", {"projector"}),
    ("claimledger_http_", {"api"}),
    ("claimledger_sse_", {"api"}),
    ("claimledger_webhook_", {"dispatcher", "api"}),
)

# The directories this process's worker processes announce their ports in (see the module).
_worker_directories: list[Path] = []


@contextmanager
def worker_metrics_directory(roles: Iterable[str] = ()) -> Iterator[Path]:
    """A new directory for worker processes to announce their metrics ports in, read by this
    process's ``/metrics`` until the block ends (then removed). Each of ``roles`` shows as down
    until its process has announced its port."""
    directory = Path(tempfile.mkdtemp(prefix="claimledger-metrics-"))
    for role in roles:
        Path(directory, role).touch()
    _worker_directories.append(directory)
    try:
        yield directory
    finally:
        _worker_directories.remove(directory)
        shutil.rmtree(directory, ignore_errors=True)


def serve_worker_metrics(settings: Settings, role: str) -> int | None:
    """Serve this worker process's metrics, if it should; the port, or None.

    A worker of ``serve`` serves them on a free port of 127.0.0.1 and announces it; a worker run
    alone serves them on ``settings.metrics_port`` when one is set.
    """
    directory = os.environ.get(WORKER_METRICS_DIR)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Own(settings.roles))
    if directory is not None:
        server, _ = start_http_server(0, addr="127.0.0.1", registry=registry)
        port = int(server.server_port)
        announced = Path(directory, role)
        written = announced.with_suffix(".new")
        written.write_text(str(port))
        written.replace(announced)  # readers never see half a number
        return port
    if settings.metrics_port is None:
        return None
    server, _ = start_http_server(
        settings.metrics_port, addr=settings.metrics_host, registry=registry
    )
    return int(server.server_port)


async def exposition(db: Db, settings: Settings) -> bytes:
    """This process's metrics in the Prometheus text format, with the database's gauges and
    those of this process's worker processes."""
    database = await database_gauges(db, settings)
    own = generate_latest(_Own(settings.roles)) + generate_latest(_Families(database))
    workers = await _worker_families()
    if not workers:
        return own
    parts = [("api", list(text_string_to_metric_families(own.decode()))), *workers]
    return generate_latest(_Families(_merged(parts)))


async def database_gauges(db: Db, settings: Settings) -> list[Metric]:
    """The gauges read from the database now; only ``claimledger_database_up`` 0 when it does
    not answer in time."""
    up = GaugeMetricFamily("claimledger_database_up", "1 when the database answered this scrape")
    try:
        with anyio.fail_after(_DATABASE_TIMEOUT):
            row = await db.fetchrow(_LEDGER)
            queues = await db.fetch(_QUEUES, QUEUE_COUNTED_UP_TO)
    except Exception as error:  # a scrape must answer whatever the database does
        log.warning("metrics: the database did not answer (%s)", error)
        up.add_metric([], 0)
        return [up]
    up.add_metric([], 1)
    assert row is not None  # the tracking row is made by the migrations
    position, head = int(row["position"]), int(row["head"])
    lag = max(0, head - position)
    idle = float(row["idle_seconds"] or 0.0)
    behind = max(0.0, float(row["oldest_unapplied_seconds"] or 0.0)) if lag else 0.0
    depth = GaugeMetricFamily(
        "claimledger_webhook_queue_depth",
        f"Messages waiting for each enabled webhook (by its id; counted up to"
        f" {QUEUE_COUNTED_UP_TO})",
        labels=["webhook"],
    )
    for queue in queues:
        depth.add_metric([str(queue["id"])], int(queue["depth"]))
    return [
        up,
        _gauge("claimledger_ledger_head_position", "The ledger's latest position", head),
        _gauge("claimledger_projected_position", "The position the views hold up to", position),
        _gauge("claimledger_projector_lag_events", "Events the views are behind the ledger", lag),
        _gauge(
            "claimledger_projector_lag_seconds",
            "How long ago the oldest event not yet applied was recorded (0 when caught up)",
            behind,
        ),
        _gauge(
            "claimledger_projector_stuck",
            "1 when the projector is behind and has not advanced for stuck_after_seconds"
            " (as /ready's stuck)",
            1 if lag > 0 and idle > settings.stuck_after_seconds else 0,
        ),
        _gauge("claimledger_log_tree_size", "Leaves in the transparency log", row["log_size"]),
        _gauge(
            "claimledger_log_checkpoint_size",
            "Leaves under the log's latest checkpoint",
            row["log_checkpoint_size"],
        ),
        _gauge(
            "claimledger_log_refusing",
            "1 when the log refuses to sign checkpoints because its past was rewritten",
            1 if row["log_refusing"] else 0,
        ),
        depth,
    ]


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


class _Own(Collector):
    """This process's instruments, but those of parts it does not run."""

    def __init__(self, roles: Iterable[str]) -> None:
        self.roles = frozenset(roles)

    def collect(self) -> Iterator[Metric]:
        for family in REGISTRY.collect():
            parts = next(
                (parts for prefix, parts in _PARTS if family.name.startswith(prefix)), None
            )
            if parts is None or parts & self.roles:
                yield family


class _Families(Collector):
    """Metric families made already, for ``generate_latest``."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self.families = list(families)

    def collect(self) -> Iterable[Metric]:
        return self.families


async def _worker_families() -> list[tuple[str, list[Metric]]]:
    """The metrics each announced worker process answers, by role; a worker that does not answer
    (or not in the text format) has only ``claimledger_worker_up`` 0."""
    announced = sorted(p for d in _worker_directories for p in d.iterdir() if not p.suffix)
    if not announced:
        return []
    answers: dict[str, list[Metric]] = {}

    async def scrape(client: httpx.AsyncClient, path: Path) -> None:
        role = path.name
        try:
            announced = await anyio.Path(path).read_text()
            if not announced:  # not started yet
                answers[role] = [_up(0)]
                return
            answer = await client.get(f"http://127.0.0.1:{int(announced)}/metrics")
            answer.raise_for_status()
            answers[role] = [*text_string_to_metric_families(answer.text), _up(1)]
        except (OSError, ValueError, httpx.HTTPError) as error:
            log.warning("metrics: the %s process did not answer (%s)", role, error)
            answers[role] = [_up(0)]

    async with (
        httpx.AsyncClient(timeout=_WORKER_TIMEOUT, trust_env=False) as client,
        anyio.create_task_group() as group,
    ):
        for path in announced:
            group.start_soon(scrape, client, path)
    return sorted(answers.items())


def _up(value: int) -> Metric:
    return _gauge("claimledger_worker_up", "1 when the worker process answered this scrape", value)


def _merged(parts: Iterable[tuple[str, list[Metric]]]) -> list[Metric]:
    """Families of several processes as one: each sample labelled with its ``process``."""
    families: dict[str, Metric] = {}
    for role, own in parts:
        for family in own:
            merged = families.get(family.name)
            if merged is None:
                merged = families[family.name] = Metric(
                    family.name, family.documentation, family.type, family.unit
                )
            elif merged.type != family.type:
                continue
            merged.samples.extend(
                sample._replace(labels={**sample.labels, "process": role})
                for sample in family.samples
            )
    return list(families.values())
