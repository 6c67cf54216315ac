"""``GET /metrics`` and the count of every request by route template and status.

``/metrics`` needs a key where reads do (``CLAIMLEDGER_PUBLIC_READ=false``: it names webhook
subscriptions and costs a few queries), and none otherwise; it is left out of the OpenAPI
document: it is for Prometheus, not for clients of the API (its format is Prometheus's own,
described in the README).
"""

from __future__ import annotations

import time
from typing import Any

from litestar import Response, get
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from claimledger.api.auth import Role, authorize
from claimledger.api.deps import ServicesDep
from claimledger.runtime.metrics import exposition
from claimledger.store.metrics import HTTP_REQUESTS, HTTP_SECONDS

# Any other method (a client may send anything) is counted as "other": labels stay bounded.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@get("/metrics", include_in_schema=False, guards=[authorize], opt={"role": Role.READER})
async def metrics(services: ServicesDep) -> Response[bytes]:
    """This process's metrics in the Prometheus text format, with those of the database and of
    the worker processes it started."""
    body = await exposition(services.pool, services.settings)
    # Litestar adds the charset to a text/ type; prometheus_client's constant carries one already,
    # and a repeated parameter is a Content-Type Prometheus refuses to parse.
    return Response(
        body, media_type="text/plain; version=0.0.4", headers={"Cache-Control": "no-store"}
    )


class RequestMetrics:
    """ASGI middleware around the whole app (routing and error handling included): every
    answer counted by method, route template (``unmatched`` when no route matched) and status,
    and timed. The instruments of each label set are kept, so that a request costs one
    dictionary lookup and two updates."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._instruments: dict[tuple[str, str | None, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            method = scope["method"]
            key = (method if method in _METHODS else "other", scope.get("path_template"), status)
            instruments = self._instruments.get(key) or self._instrumented(key)
            instruments[0].inc()
            instruments[1].observe(time.perf_counter() - began)

    def _instrumented(self, key: tuple[str, str | None, int]) -> tuple[Any, Any]:
        method, route, status = key[0], key[1] or "unmatched", str(key[2])
        instruments = (
            HTTP_REQUESTS.labels(method, route, status),
            HTTP_SECONDS.labels(method, route),
        )
        self._instruments[key] = instruments
        return instruments
