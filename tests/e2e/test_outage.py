"""Database outages need no restart of ours.

Each test runs its own PostgreSQL and stops it (fast, then immediate) while a client writes and
reads. No process exits; while the server is down writes and reads answer 503 problems with
Retry-After, ``/health`` 200 and ``/ready`` 503; once it is back, writes, reads, the projector and
webhook delivery resume within two seconds; nothing acknowledged is lost, and every acknowledged
statement is delivered.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import anyio
import httpx
import psycopg
import pytest

from claimledger.runtime.workers import supervised
from tests.e2e.processes import Running, claimledger, environment, free_port, post, running
from tests.helpers import until
from tests.pgcluster import PgCluster
from tests.pgcluster import free_port as free_pg_port
from tests.receiver import Receiver, receiving

# Writes, reads, the projector and webhook delivery must all resume within this after the server
# accepts connections again.
RECOVERY_SECONDS = 2.0
# No request may take longer than this, whether the database answers or not.
REQUEST_TIMEOUT = 5.0
DOWN_SECONDS = 2.0
# The client stops by itself after this, whatever happens to the test.
TRAFFIC_SECONDS = 180.0
PROBLEM_JSON = "application/problem+json"

LAYOUTS: dict[str, list[list[str]]] = {
    "serve": [[]],
    "roles": [["--role", "projector"], ["--role", "dispatcher"], ["--role", "api"]],
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_an_outage_needs_no_restart(layout: str) -> None:
    # Not under pytest's tmp_path: another pytest session starting meanwhile makes its root
    # private again, out of reach of the user the server runs as.
    with tempfile.TemporaryDirectory(prefix="claimledger-outage-") as scratch:
        recoveries = ride_out_outages(Path(scratch), LAYOUTS[layout])
    sys.stderr.write(f"recovery in seconds ({layout}): {recoveries}\n")
    for mode, recovery in recoveries.items():
        slowest = max(recovery.values())
        assert slowest <= RECOVERY_SECONDS, f"{layout}, after a {mode} stop: {recovery}"


async def test_a_worker_is_started_again_whatever_it_raises() -> None:
    raised: list[BaseException | None] = [
        ValueError("a bug"),
        OSError("the database is away"),
        ExceptionGroup("several", [KeyError("x"), RuntimeError("y")]),
        asyncio.CancelledError("raised by a library, not a cancellation"),
        SystemExit(3),
        None,  # it returns
    ]
    calls = 0

    async def worker() -> None:
        nonlocal calls
        calls += 1
        if calls > len(raised):
            await anyio.sleep_forever()
        error = raised[calls - 1]
        if error is not None:
            raise error

    with anyio.fail_after(20):
        async with anyio.create_task_group() as group:
            await group.start(supervised, "a failing worker", worker)
            await until(lambda: calls > len(raised), within=15, what="every failure survived")
            group.cancel_scope.cancel()


@dataclass(frozen=True)
class Answer:
    """One request the client made: what it was, how it was answered, and when."""

    kind: str
    at: float
    status: int  # 0: no answer (a transport error or a timeout)
    content_type: str = ""
    retry_after: str | None = None
    error: str = ""

    @property
    def a_proper_503(self) -> bool:
        return (
            self.status == 503
            and self.content_type.startswith(PROBLEM_JSON)
            and self.retry_after is not None
        )


def answer_of(kind: str, response: httpx.Response) -> Answer:
    return Answer(
        kind,
        time.monotonic(),
        response.status_code,
        response.headers.get("content-type", ""),
        response.headers.get("retry-after"),
        "" if response.status_code < 300 else response.text[:300],
    )


@dataclass(frozen=True)
class Written:
    id: str
    position: int


@dataclass
class Ledger:
    """A client of one API: the claim and source its statements are about."""

    client: httpx.Client
    claim: str
    source: str
    secret: str
    published: str = field(
        default_factory=lambda: (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    )

    def write(self, idempotency_key: str) -> tuple[Answer, Written | None]:
        """Record a statement under this key; what was written, when it was acknowledged."""
        body = {"source_id": self.source, "stance": "asserts", "published_at": self.published}
        try:
            response = self.client.post(
                f"/v1/claims/{self.claim}/statements",
                json=body,
                headers={"Idempotency-Key": idempotency_key},
            )
        except httpx.HTTPError as error:
            return Answer("write", time.monotonic(), 0, error=repr(error)), None
        answer = answer_of("write", response)
        if response.status_code != 201:
            return answer, None
        return answer, Written(str(response.json()["id"]), int(response.json()["position"]))

    def read(self, min_position: int | None = None) -> Answer:
        """Read the claim; with ``min_position``, once the projector has passed it."""
        params = {} if min_position is None else {"min_position": str(min_position)}
        # The server waits up to 5 s for a min_position of its own.
        timeout = REQUEST_TIMEOUT if min_position is None else REQUEST_TIMEOUT + 5
        try:
            response = self.client.get(f"/v1/claims/{self.claim}", params=params, timeout=timeout)
        except httpx.HTTPError as error:
            return Answer("read", time.monotonic(), 0, error=repr(error))
        return answer_of("read", response)


class Traffic(threading.Thread):
    """Writes a statement (retrying 503s under the same Idempotency-Key) and reads, in turn."""

    def __init__(self, ledger: Ledger) -> None:
        super().__init__(daemon=True)
        self.ledger = ledger
        self.answers: list[Answer] = []
        self.acknowledged: dict[str, str] = {}  # Idempotency-Key: statement id
        self.stopping = threading.Event()
        self.aborting = threading.Event()
        self._lock = threading.Lock()

    def run(self) -> None:
        key = f"traffic-{uuid4()}"
        until = time.monotonic() + TRAFFIC_SECONDS
        # A stop lets the write under way finish, so that every key sent is acknowledged.
        for _ in range(int(TRAFFIC_SECONDS / 0.02)):
            if time.monotonic() > until:
                return
            answer, written = self.ledger.write(key)
            if written is not None:
                self.acknowledged[key] = written.id
                key = f"traffic-{uuid4()}"
            with self._lock:
                self.answers.append(answer)
                self.answers.append(self.ledger.read())
            if self.aborting.is_set() or (self.stopping.is_set() and written is not None):
                return
            time.sleep(0.02 if answer.status == 201 else 0.1)

    def since(self, moment: float) -> list[Answer]:
        with self._lock:
            return [a for a in self.answers if a.at >= moment]

    def finish(self) -> None:
        """Stop once the write under way is acknowledged."""
        self.stopping.set()
        self.join(timeout=30)
        assert not self.is_alive(), "the client did not get its last write acknowledged in 30 s"

    def abort(self) -> None:
        """Stop after the request under way, acknowledged or not."""
        self.aborting.set()
        self.join(timeout=2 * REQUEST_TIMEOUT + 5)


def wait_for(condition: Callable[[], bool], *, within: float, what: str) -> float:
    """Poll ``condition`` every 20 ms; the seconds it took to hold."""
    started = time.monotonic()
    for _ in range(int(within / 0.02) + 1):
        if condition():
            return time.monotonic() - started
        if time.monotonic() - started > within:
            break
        time.sleep(0.02)
    raise AssertionError(f"not within {within} s: {what}")


@contextmanager
def processes(layouts: list[list[str]], env: dict[str, str]) -> Iterator[tuple[str, list[Running]]]:
    """The processes of a layout (the one serving HTTP last); the API's URL and every child."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with ExitStack() as stack:
        children = [
            stack.enter_context(running(["serve", "--port", str(port), *args], env=env))
            for args in layouts
        ]

        def healthy() -> bool:
            assert_alive(children)
            try:
                return httpx.get(f"{base}/ready", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(healthy, within=60, what="the API ready")
        yield base, children


def show_logs(children: list[Running]) -> None:
    """What each process logged, on standard error (pytest shows it with the failure)."""
    for child in children:
        child.log.seek(0)
        sys.stderr.write(f"--- {child.process.args!r}:\n{child.log.read()[-20_000:]}\n")


def assert_alive(children: list[Running]) -> None:
    for child in children:
        if child.process.poll() is not None:
            child.log.seek(0)
            raise AssertionError(f"{child.process.args!r} exited:\n{child.log.read()[-5000:]}")


def ride_out_outages(scratch: Path, layout: list[list[str]]) -> dict[str, dict[str, float]]:
    with PgCluster(scratch / "pg", free_pg_port()) as cluster:
        cluster.init()
        cluster.start()
        url = cluster.create_database("ledger")
        env = environment(
            DATABASE_URL=url,
            DATABASE_READ_URL=None,
            CLAIMLEDGER_WEBHOOK_ALLOW_PRIVATE="true",
            CLAIMLEDGER_WEBHOOK_RETRY_SCHEDULE="0,0.2,0.5,1,1,1,1,1,1,1",
        )
        made = claimledger(["keys", "create", "--role", "admin", "--name", "outage"], env=env)
        key = made.strip().splitlines()[-1]
        with (
            receiving(Receiver()) as receiver,
            processes(layout, env) as (base, children),
            httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=REQUEST_TIMEOUT
            ) as client,
        ):
            ledger = subscribed_ledger(client, base, key, receiver.url)
            traffic = Traffic(ledger)
            traffic.start()
            try:
                recoveries = {
                    mode: outage(cluster, mode, ledger, traffic, receiver, children)
                    for mode in ("fast", "immediate")
                }
            except BaseException:
                traffic.abort()
                show_logs(children)
                raise
            traffic.finish()
            assert_alive(children)
            acknowledged = set(traffic.acknowledged.values())
            wait_for(
                lambda: acknowledged <= delivered(receiver),
                within=20,
                what=f"{len(acknowledged - delivered(receiver))} statements delivered",
            )
            assert_alive(children)
            assert acknowledged <= verified(receiver, ledger.secret)
        for child in children:
            assert child.process.returncode == 0, child.output[-5000:]
        assert len(acknowledged) >= 10, "the client hardly wrote anything"
        assert acknowledged <= recorded(url, acknowledged), "acknowledged writes were lost"
        check_answers(traffic.answers, [child.output for child in children])
    return recoveries


def subscribed_ledger(client: httpx.Client, base: str, key: str, receiver_url: str) -> Ledger:
    """A source and a claim to write about, and a webhook of every statement recorded."""
    source = post(base, "/v1/sources", {"name": "Observers", "kind": "osint"}, key)
    incident = post(base, "/v1/incidents", {"title": "Shelling"}, key)
    claim = post(base, f"/v1/incidents/{incident['id']}/claims", {"text": "It"}, key)
    body: dict[str, object] = {
        "url": receiver_url,
        "event_types": ["statement.recorded"],
        "description": "outage",
    }
    hook = post(base, "/v1/webhooks", body, key)
    ledger = Ledger(client, str(claim["id"]), str(source["id"]), str(hook["secret"]))
    # The traffic reads without min_position: from when the claim can be read.
    assert ledger.read(min_position=int(str(claim["position"]))).status == 200
    return ledger


def delivered(receiver: Receiver) -> set[str]:
    return {str(r.json()["data"]["id"]) for r in receiver.delivered}


def verified(receiver: Receiver, secret: str) -> set[str]:
    """The statements delivered, each message verified with the webhook's secret."""
    return {str(r.verified(secret)["data"]["id"]) for r in receiver.delivered}


def outage(
    cluster: PgCluster,
    mode: str,
    ledger: Ledger,
    traffic: Traffic,
    receiver: Receiver,
    children: list[Running],
) -> dict[str, float]:
    """Stop the server in ``mode``, check the answers while it is down, start it again; how
    long after it accepted connections each part worked again."""
    time.sleep(1.0)
    assert_alive(children)
    assert any(a.status == 201 for a in traffic.since(time.monotonic() - 1.0)), "no writes"
    cluster.stop(mode)
    stopped = time.monotonic()
    check_down(ledger.client)

    def seen_down() -> bool:
        answers = traffic.since(stopped)
        return time.monotonic() - stopped >= DOWN_SECONDS and all(
            any(a.kind == kind and a.a_proper_503 for a in answers) for kind in ("write", "read")
        )

    wait_for(seen_down, within=15, what=f"a 503 for a write and a read after a {mode} stop")
    check_down(ledger.client)
    assert_alive(children)
    answers = traffic.since(stopped + 0.5)
    wrong = [a for a in answers if not a.a_proper_503]
    assert not wrong, f"while the server was down ({mode}): {wrong[:5]}"
    cluster.start()
    return recovery(ledger, receiver, time.monotonic())


def check_down(client: httpx.Client) -> None:
    health = client.get("/health")
    assert health.status_code == 200, health.text
    ready = client.get("/ready")
    assert ready.status_code == 503, ready.text
    assert ready.json()["status"] == "unavailable"
    assert ready.headers.get("retry-after") is not None


def recovery(ledger: Ledger, receiver: Receiver, back: float) -> dict[str, float]:
    """Seconds from ``back`` until a read, a write, a read of that write (the projector) and
    its webhook delivery succeeded."""
    took: dict[str, float] = {}
    wait_for(lambda: ledger.read().status == 200, within=20, what="a read")
    took["read"] = time.monotonic() - back
    key = f"probe-{uuid4()}"
    written: list[Written] = []

    def write() -> bool:
        written.extend(filter(None, [ledger.write(key)[1]]))
        return bool(written)

    wait_for(write, within=20, what="a write")
    took["write"] = time.monotonic() - back
    probe = written[0]
    wait_for(
        lambda: ledger.read(min_position=probe.position).status == 200,
        within=20,
        what="the write projected",
    )
    took["projector"] = time.monotonic() - back
    wait_for(lambda: probe.id in delivered(receiver), within=20, what="the write delivered")
    took["webhook"] = time.monotonic() - back
    return {part: round(seconds, 3) for part, seconds in took.items()}


def recorded(url: str, ids: set[str]) -> set[str]:
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as connection:
        rows = connection.execute(
            "SELECT originator_id::text FROM es.claimledger_events"
            " WHERE originator_id = ANY(%s::uuid[]) AND originator_version = 1",
            (list(ids),),
        ).fetchall()
    return {row[0] for row in rows}


def check_answers(answers: list[Answer], logs: list[str]) -> None:
    """Every answer of the whole run was a success or a proper 503, and in time; a failure
    shows what the servers logged as unhandled."""
    wrong = [a for a in answers if a.status not in (200, 201) and not a.a_proper_503]
    if wrong:
        unhandled = [
            log[log.index("unhandled error") :][:6000] for log in logs if "unhandled error" in log
        ]
        raise AssertionError(
            f"{len(wrong)} improper answers, e.g. {wrong[:5]}; logged: {unhandled}"
        )
