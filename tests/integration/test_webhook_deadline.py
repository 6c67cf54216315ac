"""A receiver that never finishes its answer: every attempt is cut at its deadline, the lease is
renewed meanwhile (it is shorter than an attempt), and two dispatchers never send at once."""

from __future__ import annotations

import itertools
import select
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime

import anyio
from litestar.testing import AsyncTestClient

from claimledger.api.app import create_app
from claimledger.runtime.bootstrap import started
from claimledger.runtime.settings import Settings
from claimledger.webhooks import delivery
from tests.conftest import Keys
from tests.helpers import incident, until
from tests.integration.test_webhooks import deliveries, subscribe

DEADLINE = 1.5
# Shorter than an attempt: only its renewals (every third of it) keep the endpoint held.
LEASE = 1.0
DRIP_SECONDS = 0.3
# Long enough for the receiver to see a connection closed before the next one opens.
RETRY_SCHEDULE = (0.2,) * 20
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000000\r\n\r\n"


class Dripping(socketserver.ThreadingTCPServer):
    """Reads a request, sends a status line and headers, then one byte of the body every
    ``DRIP_SECONDS`` until the client hangs up; records when each request was open."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _DripHandler)
        self.lock = threading.Lock()
        self.open = 0
        self.most_open = 0
        # (opened, closed) per request, monotonic, in order of closing.
        self.spans: list[tuple[float, float]] = []
        self.stopping = threading.Event()
        self.url = f"http://127.0.0.1:{self.server_address[1]}/hook"

    def opened(self) -> float:
        with self.lock:
            self.open += 1
            self.most_open = max(self.most_open, self.open)
        return time.monotonic()

    def closed(self, opened: float) -> None:
        with self.lock:
            self.open -= 1
            self.spans.append((opened, time.monotonic()))

    def finished(self) -> int:
        with self.lock:
            return len(self.spans)


class _DripHandler(socketserver.StreamRequestHandler):
    server: Dripping

    def handle(self) -> None:
        length = 0
        for _ in range(100):  # the request line and headers
            line = self.rfile.readline(65536)
            if line in (b"\r\n", b"\n", b""):
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        self.rfile.read(length)
        opened = self.server.opened()
        try:
            self.drip()
        finally:
            self.server.closed(opened)

    def drip(self) -> None:
        connection: socket.socket = self.connection
        connection.sendall(HEAD)
        for _ in range(int(120 / DRIP_SECONDS)):
            if self.server.stopping.is_set():
                return
            # Readable means the client hung up (or sent something it should not have).
            readable, _, _ = select.select([connection], [], [], DRIP_SECONDS)
            if readable:
                return
            try:
                connection.sendall(b".")
            except OSError:
                return


@contextmanager
def dripping() -> Iterator[Dripping]:
    server = Dripping()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def slow(settings: Settings) -> Settings:
    return replace(
        settings,
        webhook_attempt_seconds=DEADLINE,
        webhook_lease_seconds=LEASE,
        webhook_retry_schedule=RETRY_SCHEDULE,
    )


async def test_two_dispatchers_send_a_dripping_receiver_one_attempt_at_a_time(
    settings: Settings, keys: Keys
) -> None:
    api_only = replace(slow(settings), roles=frozenset({"api", "projector"}))
    dispatching = replace(slow(settings), roles=frozenset({"dispatcher"}))
    with dripping() as receiver:
        async with AsyncTestClient(app=create_app(api_only)) as client:
            hook = await subscribe(client, keys, receiver.url, "incident.opened")
            await incident(client, keys.editor)
            async with started(dispatching), started(dispatching):
                await until(lambda: receiver.finished() >= 4, within=30, what="four attempts")
            log = await deliveries(client, keys, hook["id"])

    assert receiver.most_open == 1, "two attempts were under way at once"
    spans = sorted(receiver.spans)
    for (_, closed), (opened, _) in itertools.pairwise(spans):
        assert opened >= closed, f"an attempt began before the one before it ended: {spans}"
    for opened, closed in spans:
        assert DEADLINE - 0.2 <= closed - opened <= DEADLINE + 0.5, spans
    assert len(log) >= 4
    assert len({d["webhook_id"] for d in log}) == 1
    assert [d["attempt"] for d in log] == list(range(1, len(log) + 1))
    for attempt in log:
        assert attempt["outcome"] == "failed", attempt
        assert attempt["error"] == f"no complete answer within {DEADLINE:g} s", attempt
        assert DEADLINE * 1000 - 100 <= attempt["latency_ms"] <= DEADLINE * 1000 + 500, attempt


async def test_a_test_message_to_a_dripping_receiver_ends_at_the_deadline(
    settings: Settings, keys: Keys
) -> None:
    no_dispatcher = replace(slow(settings), roles=frozenset({"api"}))
    with dripping() as receiver:
        async with AsyncTestClient(app=create_app(no_dispatcher)) as client:
            hook = await subscribe(client, keys, receiver.url, "incident.opened")
            asked = anyio.current_time()
            ping = await client.post(
                f"/v1/webhooks/{hook['id']}/test", headers=keys.header("admin"), timeout=30
            )
            took = anyio.current_time() - asked
            log = await deliveries(client, keys, hook["id"])

    assert ping.status_code == 200, ping.text
    assert took <= DEADLINE + 1.0, f"the test message took {took:.2f} s"
    answer = ping.json()
    assert answer["outcome"] == "failed"
    assert answer["error"] == f"no complete answer within {DEADLINE:g} s"
    assert DEADLINE * 1000 - 100 <= answer["latency_ms"] <= DEADLINE * 1000 + 500
    assert [(d["type"], d["outcome"]) for d in log] == [("webhook.test", "failed")]
    assert receiver.finished() == 1


async def test_a_host_that_does_not_resolve_is_a_failed_attempt_not_a_refusal() -> None:
    options = delivery.DeliveryOptions(deadline=DEADLINE)
    message = delivery.Message(id="msg_1_0", type="test", timestamp=datetime.now(UTC), data={})
    async with delivery.new_client(options) as client:
        unresolved = await delivery.attempt(
            client, options, "http://no-such-host.invalid/", message, ["k"]
        )
        refused = await delivery.attempt(client, options, "http://127.0.0.1:9/", message, ["k"])
    assert unresolved.outcome == "failed", unresolved
    assert "resolve" in (unresolved.error or "")
    assert refused.outcome == "refused", "loopback stays refused by the guard"
