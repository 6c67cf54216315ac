"""A real HTTP receiver for webhooks on 127.0.0.1, answering as a test scripts it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import msgspec
from standardwebhooks.webhooks import Webhook


@dataclass(frozen=True)
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    # When set, the request is recorded at once but answered only once this is set (or after 30 s).
    hold: threading.Event | None = None


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    status: int
    at: float

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    def verified(self, secret: str) -> dict[str, Any]:
        """The message, verified with the standardwebhooks library (raises when forged)."""
        payload: dict[str, Any] = Webhook(secret).verify(self.body, self.headers)
        return payload

    def json(self) -> dict[str, Any]:
        decoded: dict[str, Any] = msgspec.json.decode(self.body)
        return decoded


class Receiver:
    """Records every request; ``script(n)`` says how to answer the n-th (from 0)."""

    def __init__(self, script: Callable[[int], Reply] | None = None, port: int = 0) -> None:
        self.script = script or (lambda _: Reply())
        self.received: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with receiver._lock:
                    reply = receiver.script(len(receiver.received))
                    receiver.received.append(
                        Received(
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                            reply.status,
                            time.monotonic(),
                        )
                    )
                if reply.hold is not None:
                    reply.hold.wait(timeout=30)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port: int = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"

    @property
    def delivered(self) -> list[Received]:
        """Requests it answered with 2xx, in arrival order."""
        with self._lock:
            return [r for r in self.received if 200 <= r.status < 300]


@contextmanager
def receiving(receiver: Receiver) -> Iterator[Receiver]:
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
        thread.join(timeout=10)
