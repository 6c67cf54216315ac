"""The live stream over a real server: a client that reconnects with Last-Event-ID misses
nothing and sees nothing twice; keep-alives are comment lines that no client takes for an event;
an empty Last-Event-ID means none and a bad one is a 400; a process caps its open streams; and
200 replays of a 10,000-entry feed at once hold little of the server's memory."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import anyio
import asyncpg
import httpx
import httpx_sse
import psutil

from claimledger.api.routes.stream import event_id
from tests.e2e.processes import claimledger, environment, free_port, serving

log = logging.getLogger(__name__)


def events(response: httpx.Response) -> Iterator[tuple[str, str, str]]:
    """(id, event, data) for each event of a text/event-stream."""
    fields: dict[str, str] = {}
    for line in response.iter_lines():
        if not line:
            if "data" in fields:
                yield fields.get("id", ""), fields.get("event", "message"), fields["data"]
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")


class Ledger:
    def __init__(self, base: str, key: str) -> None:
        self.client = httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30
        )

    def post(self, path: str, body: dict[str, object]) -> dict[str, object]:
        response = self.client.post(path, json=body)
        assert response.status_code == 201, response.text
        answer: dict[str, object] = response.json()
        return answer

    def say(self, claim: object, source: object, stance: str) -> str:
        published = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        body = {"source_id": source, "stance": stance, "published_at": published}
        return str(self.post(f"/v1/claims/{claim}/statements", body)["id"])


async def feed_ids(url: str) -> list[str]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch("SELECT position, seq FROM views.outbox ORDER BY 1, 2")
    finally:
        await connection.close()
    return [event_id(r["position"], r["seq"]) for r in rows]


async def test_a_reconnecting_client_misses_nothing_and_sees_nothing_twice(
    database_url: str,
) -> None:
    seen = await anyio.to_thread.run_sync(reconnecting_client, database_url)
    assert seen == await feed_ids(database_url)
    assert len(seen) == len(set(seen))


def reconnecting_client(database_url: str) -> list[str]:
    env = environment(DATABASE_URL=database_url)
    key = claimledger(["keys", "create", "--role", "editor", "--name", "sse"], env=env)
    key = key.strip().splitlines()[-1]
    seen: list[str] = []
    recorded = 0
    with serving([], env=env, port=free_port()) as base:
        ledger = Ledger(base, key)
        source = ledger.post("/v1/sources", {"name": "Observers", "kind": "osint"})["id"]
        incident = ledger.post("/v1/incidents", {"title": "Shelling"})["id"]
        claim = ledger.post(f"/v1/incidents/{incident}/claims", {"text": "It"})["id"]
        for _ in range(4):
            ledger.say(claim, source, "asserts")

        with httpx.stream(
            "GET", f"{base}/v1/stream", headers={"Last-Event-ID": "0"}, timeout=30
        ) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            for number, (identifier, kind, _) in enumerate(events(response), start=1):
                seen.append(identifier)
                recorded += kind == "statement.recorded"
                if number == 3:
                    break

        ledger.say(claim, source, "asserts")
        ledger.say(claim, source, "retracts")
        ledger.say(claim, source, "asserts")
        last_words: list[str] = []

        def later() -> None:
            ledger.say(claim, source, "asserts")
            last_words.append(ledger.say(claim, source, "asserts"))

        # Four statements before the first connection, three while disconnected, two later.
        last_data = ""
        with httpx.stream(
            "GET", f"{base}/v1/stream", headers={"Last-Event-ID": seen[-1]}, timeout=30
        ) as response:
            writer = threading.Timer(0.3, later)
            writer.start()
            for identifier, kind, data in events(response):
                seen.append(identifier)
                if kind == "statement.recorded":
                    recorded += 1
                    last_data = data
                    if recorded == 4 + 3 + 2:
                        break
            writer.join(timeout=30)
        assert last_words, "the writer did not finish"
        assert last_words[0] in last_data
        ledger.client.close()
    return seen


def editor_key(env: dict[str, str]) -> str:
    created = claimledger(["keys", "create", "--role", "editor", "--name", "sse"], env=env)
    return created.strip().splitlines()[-1]


def position_of(identifier: str) -> int:
    return int(identifier.partition(".")[0])


class Scene:
    """A source, an incident and a claim, in views a stream opened now starts after."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.source = ledger.post("/v1/sources", {"name": "Observers", "kind": "osint"})["id"]
        self.incident = ledger.post("/v1/incidents", {"title": "Shelling"})["id"]
        made = ledger.post(f"/v1/incidents/{self.incident}/claims", {"text": "It"})
        self.claim = made["id"]
        self.position = int(str(made["position"]))
        self.settle(self.position)

    def say(self, stance: str = "asserts") -> int:
        """Record a statement; its position."""
        published = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        body = {"source_id": self.source, "stance": stance, "published_at": published}
        return int(str(self.ledger.post(f"/v1/claims/{self.claim}/statements", body)["position"]))

    def settle(self, position: int) -> None:
        """Wait until the views (where a new stream starts) include ``position``."""
        for _ in range(6):
            response = self.ledger.client.get("/v1/timeline", params={"min_position": position})
            if response.status_code != 503:
                break
        assert response.status_code == 200, response.text


class Heard:
    def __init__(self, after: int) -> None:
        self.after = after
        self.events: list[httpx_sse.ServerSentEvent] = []
        self.chunks: list[bytes] = []


async def test_keep_alives_are_comment_lines_that_no_client_takes_for_an_event(
    database_url: str,
) -> None:
    heard = await anyio.to_thread.run_sync(listen_through_keep_alives, database_url)
    expected = [i for i in await feed_ids(database_url) if position_of(i) > heard.after]
    # Two statements and the claim's first status, and not one empty event among them.
    assert len(expected) == 3
    assert [event.id for event in heard.events] == expected
    for event in heard.events:
        assert event.event in {"statement.recorded", "claim.status_changed"}
        assert event.json()["position"] == position_of(event.id)
    raw = b"".join(heard.chunks)
    assert raw.startswith(b"retry: 2000\r\n")
    # Keep-alives were sent (every 0.3 s for 1.5 s), each a comment line and nothing else.
    assert raw.split(b"\r\n").count(b": keep-alive") >= 3, raw
    assert b": keep-alive\r\n\r\n" not in raw
    assert b"data: \r\n" not in raw


def listen_through_keep_alives(database_url: str) -> Heard:
    env = environment(DATABASE_URL=database_url, CLAIMLEDGER_STREAM_HEARTBEAT_SECONDS="0.3")
    key = editor_key(env)
    with (
        serving([], env=env, port=free_port()) as base,
        httpx.Client(base_url=base, timeout=10) as client,
        ExitStack() as streams,
    ):
        ledger = Ledger(base, key)
        streams.callback(ledger.client.close)
        scene = Scene(ledger)
        heard = Heard(after=scene.position)
        # The same stream twice: one read as httpx-sse reads it, one as the bytes on the wire.
        source = streams.enter_context(httpx_sse.connect_sse(client, "GET", "/v1/stream"))
        wire = streams.enter_context(client.stream("GET", "/v1/stream"))

        def read_events() -> None:
            for event in source.iter_sse():
                heard.events.append(event)
                if [e.event for e in heard.events].count("statement.recorded") == 2:
                    return

        def read_bytes() -> None:
            for chunk in wire.iter_raw():
                heard.chunks.append(chunk)
                if b"".join(heard.chunks).count(b"\nevent: statement.recorded\r\n") == 2:
                    return

        readers = [threading.Thread(target=read_events), threading.Thread(target=read_bytes)]
        for reader in readers:
            reader.start()
        # Keep-alives before the first event and between the two.
        time.sleep(0.7)
        scene.say()
        time.sleep(0.8)
        scene.say()
        for reader in readers:
            reader.join(timeout=30)
        assert not any(reader.is_alive() for reader in readers), "a reader is stuck"
    return heard


async def test_an_empty_last_event_id_means_none_and_a_bad_one_is_a_400(
    database_url: str,
) -> None:
    await anyio.to_thread.run_sync(resume_with_odd_event_ids, database_url)


def resume_with_odd_event_ids(database_url: str) -> None:
    env = environment(DATABASE_URL=database_url)
    key = editor_key(env)
    with (
        serving([], env=env, port=free_port()) as base,
        httpx.Client(base_url=base, timeout=10) as client,
    ):
        ledger = Ledger(base, key)
        try:
            scene = Scene(ledger)
            scene.settle(scene.say())
            for value in ("99999999999999999999", "9223372036854775808", "abc", "-1", "+1", "1.x"):
                with client.stream("GET", "/v1/stream", headers={"Last-Event-ID": value}) as bad:
                    bad.read()
                assert bad.status_code == 400, (value, bad.text)
                assert bad.headers["content-type"] == "application/problem+json"
                problem = bad.json()
                assert problem["type"] == "/problems/bad-request"
                assert problem["field"] == "Last-Event-ID"
                assert repr(value) in problem["detail"]
            # The largest position there can be is an event id, if one nothing comes after.
            largest = {"Last-Event-ID": "9223372036854775807"}
            with client.stream("GET", "/v1/stream", headers=largest) as response:
                assert response.status_code == 200

            later: list[int] = []
            with client.stream("GET", "/v1/stream", headers={"Last-Event-ID": ""}) as response:
                assert response.status_code == 200
                writer = threading.Timer(0.3, lambda: later.append(scene.say()))
                writer.start()
                try:
                    first = next(events(response))
                finally:
                    writer.join(timeout=30)
        finally:
            ledger.client.close()
    # Not a replay from the start: the first event is the statement recorded after connecting.
    assert later, "the writer did not finish"
    assert first[:2] == (str(later[0]), "statement.recorded")


async def test_streams_beyond_the_cap_are_refused_until_one_closes(database_url: str) -> None:
    await anyio.to_thread.run_sync(open_streams_up_to_the_cap, database_url)


def open_streams_up_to_the_cap(database_url: str) -> None:
    env = environment(DATABASE_URL=database_url, CLAIMLEDGER_MAX_STREAMS="2")
    with (
        serving([], env=env, port=free_port()) as base,
        httpx.Client(base_url=base, timeout=10) as client,
        ExitStack() as streams,
    ):

        def open_stream() -> httpx.Response:
            return streams.enter_context(client.stream("GET", "/v1/stream"))

        first, second = open_stream(), open_stream()
        assert (first.status_code, second.status_code) == (200, 200)
        refused = open_stream()
        refused.read()
        refused.close()
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.json()["type"] == "/problems/unavailable"

        # The place is given back once the server notices the client has gone.
        first.close()
        deadline = time.monotonic() + 15
        while (again := open_stream()).status_code == 503:
            again.read()
            again.close()
            assert time.monotonic() < deadline, "a closed stream still counts after 15 s"
            time.sleep(0.05)
        assert again.status_code == 200
        # The refusals took no place: two are open, and a third is refused again.
        refused = open_stream()
        refused.read()
        refused.close()
        assert refused.status_code == 503


# The memory test's feed: an incident, each statement, and each claim's first status.
FEED_CLAIMS = 400
FEED_STATEMENTS = 9_600
FEED_ENTRIES = 1 + FEED_STATEMENTS + FEED_CLAIMS
REPLAYS = 200
# One replay in four reads to the end; the others read the first half of the feed, then hold
# their stream open without reading (the server's buffers for it fill up) until every replay
# has got that far.
TO_THE_END_EVERY = 4
PART = 5_000
RSS_GROWTH_LIMIT = 100 * 2**20


def feed_file(path: Path) -> Path:
    """An import of FEED_ENTRIES feed entries."""
    published = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    source, incident = str(uuid.uuid4()), str(uuid.uuid4())
    claims = [str(uuid.uuid4()) for _ in range(FEED_CLAIMS)]
    lines: list[dict[str, object]] = [
        {"type": "source", "id": source, "name": "Observers", "kind": "osint"},
        {"type": "incident", "id": incident, "title": "Shelling"},
    ]
    lines += (
        {"type": "claim", "id": claim, "incident_id": incident, "text": f"It {number}"}
        for number, claim in enumerate(claims)
    )
    lines += (
        {
            "type": "statement",
            "claim_id": claims[number % FEED_CLAIMS],
            "source_id": source,
            "stance": "asserts",
            "published_at": published,
        }
        for number in range(FEED_STATEMENTS)
    )
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def serve_process(port: int) -> psutil.Process:
    """The ``claimledger serve`` child listening on ``port``."""
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            command = child.cmdline()
            if "serve" in command and str(port) in command:
                return child
    raise AssertionError(f"no serve process for port {port}")


COUNT_FEED = "SELECT count(*) FROM views.outbox"


async def projected_feed(url: str, entries: int) -> str:
    """Wait until the feed has ``entries`` entries; the last one's id."""
    connection = await asyncpg.connect(url)
    try:
        with anyio.fail_after(120):
            while await connection.fetchval(COUNT_FEED) < entries:  # noqa: ASYNC110 - a query
                await anyio.sleep(0.2)
        assert await connection.fetchval(COUNT_FEED) == entries
        last = await connection.fetchrow(
            "SELECT position, seq FROM views.outbox ORDER BY position DESC, seq DESC LIMIT 1"
        )
    finally:
        await connection.close()
    assert last is not None
    return event_id(last["position"], last["seq"])


class Replays:
    """REPLAYS clients at once, each reading ``Last-Event-ID: 0`` from a raw socket, and the
    server's resident memory while they do."""

    OK = b"HTTP/1.1 200 "
    EVENT = b"\nevent: "

    def __init__(self, base: str, server: psutil.Process, last: str) -> None:
        self.host, _, port = base.removeprefix("http://").partition(":")
        self.port = int(port)
        self.server = server
        self.request = (
            f"GET /v1/stream HTTP/1.1\r\nHost: {self.host}:{port}\r\nLast-Event-ID: 0\r\n\r\n"
        ).encode()
        self.last = f"\nid: {last}\r\n".encode()
        self.before = self.peak = self.all_open = self.after = self.rss()
        self.cpu = (0.0, 0.0)
        self.reached = 0
        self.counts: list[int] = []
        self.all_reached = anyio.Event()
        self.release = anyio.Event()

    def rss(self) -> int:
        return int(self.server.memory_info().rss)

    async def run(self) -> None:
        self.before = self.peak = self.rss()
        server_cpu, own_cpu = (
            sum(self.server.cpu_times()[:2]),
            sum(psutil.Process().cpu_times()[:2]),
        )
        async with anyio.create_task_group() as sampling:
            sampling.start_soon(self.sample)
            async with anyio.create_task_group() as clients:
                for number in range(REPLAYS):
                    clients.start_soon(self.replay, number % TO_THE_END_EVERY == 0)
                await self.all_reached.wait()
                self.all_open = self.rss()
                self.release.set()
            sampling.cancel_scope.cancel()
        self.cpu = (
            sum(self.server.cpu_times()[:2]) - server_cpu,
            sum(psutil.Process().cpu_times()[:2]) - own_cpu,
        )
        await anyio.sleep(1)  # the server lets the closed streams go
        self.after = self.rss()

    async def sample(self) -> None:
        while True:
            self.peak = max(self.peak, self.rss())
            await anyio.sleep(0.02)

    async def replay(self, to_the_end: bool) -> None:
        wanted = FEED_ENTRIES if to_the_end else PART
        seen, head, tail, saw_last = 0, b"", b"", False
        async with await anyio.connect_tcp(self.host, self.port) as connection:
            await connection.send(self.request)
            while seen < wanted:
                chunk = await connection.receive(1 << 16)
                if len(head) < len(self.OK):
                    head = (head + chunk)[: len(self.OK)]
                    assert len(head) < len(self.OK) or head == self.OK, chunk[:200]
                # A marker split between two reads is found in the window; one that was found
                # before, whole in the tail, is not counted again.
                window = tail + chunk
                seen += window.count(self.EVENT) - tail.count(self.EVENT)
                saw_last = saw_last or self.last in window
                tail = window[-(len(self.last) - 1) :]
            self.counts.append(seen)
            if to_the_end:
                assert (seen, saw_last) == (FEED_ENTRIES, True)
            self.reached += 1
            if self.reached == REPLAYS:
                self.all_reached.set()
            await self.release.wait()

    def report(self) -> str:
        mib = 2**20
        return (
            f"server RSS before {self.before / mib:.0f} MiB, peak {self.peak / mib:.0f} MiB, "
            f"with all {REPLAYS} open {self.all_open / mib:.0f} MiB, after {self.after / mib:.0f}"
            f" MiB; cpu server {self.cpu[0]:.1f}s test {self.cpu[1]:.1f}s"
        )


async def test_two_hundred_replays_of_a_large_feed_hold_little_memory(
    database_url: str, tmp_path: Path
) -> None:
    env = environment(DATABASE_URL=database_url)
    port = free_port()
    running = ExitStack()
    started = time.monotonic()
    try:
        base = await anyio.to_thread.run_sync(
            running.enter_context, serving([], env=env, port=port)
        )
        server = serve_process(port)
        serving_at = time.monotonic()
        imported = feed_file(tmp_path / "feed.ndjson")
        await anyio.to_thread.run_sync(partial(claimledger, ["import", str(imported)], env=env))
        imported_at = time.monotonic()
        last = await projected_feed(database_url, FEED_ENTRIES)
        projected_at = time.monotonic()
        replays = Replays(base, server, last)
        with anyio.fail_after(180):
            await replays.run()
        replayed_at = time.monotonic()
    finally:
        await anyio.to_thread.run_sync(running.close)
    log.info(
        "serve %.1f s, import %.1f s, projection %.1f s more, replays %.1f s; %s",
        serving_at - started,
        imported_at - serving_at,
        projected_at - imported_at,
        replayed_at - projected_at,
        replays.report(),
    )
    assert len(replays.counts) == REPLAYS
    assert replays.counts.count(FEED_ENTRIES) >= REPLAYS // TO_THE_END_EVERY
    assert replays.peak - replays.before <= RSS_GROWTH_LIMIT, replays.report()
