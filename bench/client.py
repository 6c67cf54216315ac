"""The load generator: a small HTTP/1.1 keep-alive client on raw asyncio streams (uvloop).

Run as its own process, ``python -m bench.client`` with a job (JSON) on standard input; it prints
one JSON result on standard output. It is kept cheap on purpose: on two cores the client competes
with the server for CPU, and every route and its baseline are driven by this same client.

Jobs (``kind``):

``closed``
    ``concurrency`` connections, each sending its next request as soon as the last one answered,
    for ``duration`` seconds or ``max_requests`` requests, whichever comes first (after
    ``warmup`` seconds that are not counted). Requests come from ``requests_file`` (one JSON
    ``[method, path, body-or-null]`` per line), in order, round robin.
``visible``
    Read-your-write freshness: POST a statement, then GET its claim with
    ``min_position=<position>``; the time from sending the POST until the GET answers 200.
``webhook``
    Subscribes a loopback receiver with ``POST /v1/webhooks``, then POSTs statements one at a time
    and times each until its signed ``statement.recorded`` delivery arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import msgspec

_json = msgspec.json.Encoder()


class HttpError(Exception):
    """The server broke the protocol or the connection."""


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return msgspec.json.decode(self.body)


def encode_request(
    method: str, path: str, body: bytes | None, *, host: str, headers: dict[str, str]
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines.extend(f"{name}: {value}" for name, value in headers.items())
    if body is not None:
        lines.append("Content-Type: application/json")
        lines.append(f"Content-Length: {len(body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()
    return head + body if body is not None else head


async def read_response(reader: asyncio.StreamReader) -> Response:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError) as error:
        raise HttpError(f"connection closed or bad header: {error}") from None
    lines = head[:-4].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise HttpError(f"bad status line {lines[0]!r}")
    status = int(parts[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n"))[:-2].split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(chunks)
    elif status in (204, 304) or status < 200:
        body = b""
    else:
        raise HttpError("a response without a length")
    return Response(status, headers, body)


class Connection:
    """One keep-alive connection; reopened when the server closes it."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, raw: bytes) -> Response:
        if self.writer is None or self.reader is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(raw)
        try:
            response = await read_response(self.reader)
        except (HttpError, OSError, asyncio.IncompleteReadError):
            self.close()
            raise
        if response.headers.get("connection", "").lower() == "close":
            self.close()
        return response

    async def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Response:
        payload = (
            None if body is None else (body if isinstance(body, bytes) else _json.encode(body))
        )
        raw = encode_request(
            method, path, payload, host=f"{self.host}:{self.port}", headers=headers or {}
        )
        return await self.send(raw)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def percentile(samples: list[float], share: float) -> float | None:
    """Nearest-rank percentile of ``samples`` (``share`` in 0..1); None when there are none."""
    if not samples:
        return None
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary(latencies_ms: list[float], elapsed: float, errors: int) -> dict[str, Any]:
    count = len(latencies_ms)
    return {
        "count": count,
        "errors": errors,
        "elapsed_s": round(elapsed, 4),
        "rps": count / elapsed if elapsed > 0 else 0.0,
        "p50_ms": percentile(latencies_ms, 0.50),
        "p90_ms": percentile(latencies_ms, 0.90),
        "p99_ms": percentile(latencies_ms, 0.99),
        "max_ms": max(latencies_ms) if latencies_ms else None,
    }


def load_requests(path: str, *, host: str, headers: dict[str, str]) -> list[bytes]:
    decode = msgspec.json.Decoder(tuple[str, str, Any]).decode
    raws = []
    with open(path, "rb") as lines:
        for line in lines:
            if line.strip():
                method, target, body = decode(line)
                payload = None if body is None else _json.encode(body)
                raws.append(encode_request(method, target, payload, host=host, headers=headers))
    if not raws:
        raise ValueError(f"no requests in {path}")
    return raws


@dataclass
class _Closed:
    raws: list[bytes]
    expect: set[int]
    next_index: int = 0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    first_error: str | None = None
    recording: bool = False

    def take(self) -> bytes:
        raw = self.raws[self.next_index % len(self.raws)]
        self.next_index += 1
        return raw


async def closed_loop(job: dict[str, Any]) -> dict[str, Any]:
    host, port = job.get("host", "127.0.0.1"), int(job["port"])
    headers = dict(job.get("headers") or {})
    state = _Closed(
        load_requests(job["requests_file"], host=f"{host}:{port}", headers=headers),
        set(job.get("expect") or [200, 201]),
    )
    concurrency = int(job["concurrency"])
    duration = float(job["duration"])
    warmup = float(job.get("warmup", 0.0))
    max_requests = int(job.get("max_requests", 10**9))
    loop = asyncio.get_running_loop()
    start = loop.time()
    measure_from = start + warmup
    deadline = measure_from + duration
    counted = 0

    async def worker() -> None:
        nonlocal counted
        connection = Connection(host, port)
        try:
            while True:
                now = loop.time()
                if now >= deadline or counted >= max_requests:
                    return
                recording = now >= measure_from
                if recording:
                    counted += 1
                raw = state.take()
                began = time.perf_counter()
                try:
                    response = await connection.send(raw)
                except (HttpError, OSError, asyncio.IncompleteReadError) as error:
                    if recording:
                        state.errors += 1
                        state.first_error = state.first_error or repr(error)
                    await asyncio.sleep(0.01)
                    continue
                took = (time.perf_counter() - began) * 1000
                if not recording:
                    continue
                state.statuses[response.status] = state.statuses.get(response.status, 0) + 1
                if response.status in state.expect:
                    state.latencies.append(took)
                else:
                    state.errors += 1
                    if state.first_error is None:
                        state.first_error = f"{response.status}: {response.body[:300]!r}"
        finally:
            connection.close()

    workers = [asyncio.ensure_future(worker()) for _ in range(concurrency)]
    # Wait out the warm-up, then time the measured window exactly.
    await asyncio.sleep(max(0.0, measure_from - loop.time()))
    measured_start = loop.time()
    cpu_start = time.process_time()
    await asyncio.gather(*workers)
    elapsed = loop.time() - measured_start
    result = summary(state.latencies, elapsed, state.errors)
    # How much of one core the client itself used while measuring: on a small machine it
    # competes with the server, and the more so the faster the route.
    result["client_cpu_share"] = (time.process_time() - cpu_start) / elapsed if elapsed else None
    result["statuses"] = {str(k): v for k, v in sorted(state.statuses.items())}
    result["first_error"] = state.first_error
    result["concurrency"] = concurrency
    return result


def _statement_bodies(job: dict[str, Any]) -> list[tuple[str, bytes]]:
    """``(claim_id, body)`` for each statement the job may POST, from its ``requests_file``."""
    decode = msgspec.json.Decoder(tuple[str, str, Any]).decode
    bodies = []
    with open(job["requests_file"], "rb") as lines:
        for line in lines:
            if line.strip():
                _, target, body = decode(line)
                claim_id = target.split("/")[3]
                bodies.append((claim_id, _json.encode(body)))
    return bodies


async def visible(job: dict[str, Any]) -> dict[str, Any]:
    """POST a statement, then GET its claim with min_position; one sample at a time."""
    host, port = job.get("host", "127.0.0.1"), int(job["port"])
    auth = {"Authorization": f"Bearer {job['key']}"}
    bodies = _statement_bodies(job)
    deadline = time.monotonic() + float(job["duration"])
    connection = Connection(host, port)
    total: list[float] = []
    after_ack: list[float] = []
    errors = 0
    first_error = None
    started = time.monotonic()
    try:
        for index, (claim_id, body) in enumerate(bodies):
            if index >= int(job["samples"]) or time.monotonic() > deadline:
                break
            began = time.perf_counter()
            written = await connection.request(
                "POST", f"/v1/claims/{claim_id}/statements", body, auth
            )
            if written.status != 201:
                errors += 1
                first_error = first_error or f"POST {written.status}: {written.body[:300]!r}"
                continue
            acked = time.perf_counter()
            position = written.json()["position"]
            read = await connection.request(
                "GET", f"/v1/claims/{claim_id}?min_position={position}", None, auth
            )
            done = time.perf_counter()
            if read.status != 200:
                errors += 1
                first_error = first_error or f"GET {read.status}: {read.body[:300]!r}"
                continue
            total.append((done - began) * 1000)
            after_ack.append((done - acked) * 1000)
            await asyncio.sleep(float(job.get("pause", 0.0)))
    finally:
        connection.close()
    result = summary(total, time.monotonic() - started, errors)
    result["after_ack_p50_ms"] = percentile(after_ack, 0.5)
    result["after_ack_p99_ms"] = percentile(after_ack, 0.99)
    result["first_error"] = first_error
    return result


class _Receiver:
    """A loopback HTTP server that notes when each delivery arrives and answers 204 at once."""

    def __init__(self) -> None:
        self.arrivals: dict[str, tuple[float, dict[str, str], bytes]] = {}
        self.arrived = asyncio.Event()
        self.deliveries = 0
        self.bad: list[str] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    return
                lines = head[:-4].decode("latin-1").split("\r\n")
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                now = time.perf_counter()
                writer.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                self.deliveries += 1
                try:
                    data = msgspec.json.decode(body).get("data") or {}
                    statement_id = str(data.get("id"))
                except (msgspec.DecodeError, AttributeError):
                    self.bad.append(f"not JSON: {body[:200]!r}")
                    continue
                self.arrivals.setdefault(statement_id, (now, headers, body))
                self.arrived.set()
        finally:
            writer.close()

    async def wait_for(self, statement_id: str, within: float) -> float | None:
        deadline = time.perf_counter() + within
        while statement_id not in self.arrivals:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return None
            self.arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), remaining)
        return self.arrivals[statement_id][0]


async def webhook(job: dict[str, Any]) -> dict[str, Any]:
    """Subscribe a receiver, POST statements one at a time, time each until delivered."""
    from standardwebhooks import Webhook

    host, port = job.get("host", "127.0.0.1"), int(job["port"])
    auth = {"Authorization": f"Bearer {job['key']}"}
    receiver = _Receiver()
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    hook_port = server.sockets[0].getsockname()[1]
    connection = Connection(host, port)
    try:
        made = await connection.request(
            "POST",
            "/v1/webhooks",
            {
                "url": f"http://127.0.0.1:{hook_port}/hook",
                "event_types": ["statement.recorded"],
                "description": "bench",
            },
            auth,
        )
        if made.status in (404, 405):
            return {"available": False, "status": made.status}
        if made.status != 201:
            return {
                "available": False,
                "status": made.status,
                "first_error": f"POST /v1/webhooks {made.status}: {made.body[:300]!r}",
            }
        secret = made.json()["secret"]
        return await _deliveries(job, connection, receiver, Webhook(secret), auth)
    finally:
        connection.close()
        server.close()


async def _deliveries(
    job: dict[str, Any],
    connection: Connection,
    receiver: _Receiver,
    verifier: Any,
    auth: dict[str, str],
) -> dict[str, Any]:
    bodies = _statement_bodies(job)
    deadline = time.monotonic() + float(job["duration"])
    timeout = float(job.get("timeout", 5.0))
    latencies: list[float] = []
    missing = errors = 0
    first_error = None
    sent: list[str] = []
    started = time.monotonic()
    for index, (claim_id, body) in enumerate(bodies):
        if index >= int(job["samples"]) or time.monotonic() > deadline:
            break
        began = time.perf_counter()
        written = await connection.request("POST", f"/v1/claims/{claim_id}/statements", body, auth)
        if written.status != 201:
            errors += 1
            first_error = first_error or f"POST {written.status}: {written.body[:300]!r}"
            continue
        statement_id = str(written.json()["id"])
        sent.append(statement_id)
        arrived = await receiver.wait_for(statement_id, timeout)
        if arrived is None:
            missing += 1
            if missing >= 3 and not latencies:
                first_error = first_error or "no delivery arrived for the first statements"
                break
            continue
        latencies.append((arrived - began) * 1000)
        await asyncio.sleep(float(job.get("pause", 0.0)))
    elapsed = time.monotonic() - started
    # Check every timed delivery's signature (after timing, so it costs the measurement nothing).
    unverified = 0
    for statement_id in sent:
        if statement_id in receiver.arrivals:
            _, headers, body = receiver.arrivals[statement_id]
            try:
                verifier.verify(body, headers)
            except Exception as error:
                unverified += 1
                first_error = first_error or f"signature: {error!r}"
    result = summary(latencies, elapsed, errors)
    result.update(
        available=True,
        missing=missing,
        unverified=unverified,
        deliveries=receiver.deliveries,
        first_error=first_error,
    )
    return result


JOBS: dict[str, Callable[[dict[str, Any]], Coroutine[Any, Any, dict[str, Any]]]] = {
    "closed": closed_loop,
    "visible": visible,
    "webhook": webhook,
}


def main() -> int:
    job = msgspec.json.decode(sys.stdin.buffer.read())
    runner = JOBS[job["kind"]]
    result: dict[str, Any]
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency wherever it installs
        result = asyncio.run(runner(job))
    else:
        result = uvloop.run(runner(job))
    sys.stdout.buffer.write(msgspec.json.encode(result) + b"\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
