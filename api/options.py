"""``OPTIONS`` answers with every method a path has.

Litestar 2's automatic OPTIONS handler lists only the methods of the first handler registered
for a path (litestar-org/litestar#4169). This plugin records each path's methods as routes are
registered and answers OPTIONS for that handler itself, before any guard: no key is needed to
ask what a path allows.
"""

from __future__ import annotations

from litestar.config.app import AppConfig
from litestar.enums import ScopeType
from litestar.plugins import InitPlugin, ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute
from litestar.types import ASGIApp, Receive, Scope, Send


def _automatic(handler: object) -> bool:
    function = getattr(handler, "fn", None)
    return getattr(function, "__qualname__", "").startswith("HTTPRoute.create_options_handler.")


class EveryMethodAllowed(InitPlugin, ReceiveRoutePlugin):
    """Keeps ``Allow`` per path template; answers the automatic OPTIONS from a middleware."""

    def __init__(self) -> None:
        self._allow: dict[str, bytes] = {}

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.middleware.insert(0, self._middleware)
        return app_config

    def receive_route(self, route: BaseRoute) -> None:
        # A later route for the same path replaces the earlier one, with all methods so far.
        if isinstance(route, HTTPRoute):
            self._allow[route.path_format] = ", ".join(sorted(route.methods)).encode()

    def _middleware(self, app: ASGIApp) -> ASGIApp:
        async def answer_options(scope: Scope, receive: Receive, send: Send) -> None:
            allow = self._allow.get(str(scope.get("path_template", "")))
            if (
                scope["type"] == ScopeType.HTTP
                and scope.get("method") == "OPTIONS"
                and allow is not None
                and _automatic(scope.get("route_handler"))
            ):
                await send(
                    {"type": "http.response.start", "status": 204, "headers": [(b"allow", allow)]}
                )
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            await app(scope, receive, send)

        return answer_options
