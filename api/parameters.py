"""Query parameters an operation does not declare are refused, never silently ignored.

A typo such as ``knownat=`` must not answer today's state as if it were the past. The names an
operation accepts are the ones Litestar itself reads for it (its own parameters, those of its
dependencies, aliases); the check runs as an app-wide guard, before any parameter is parsed.
NUL characters, which PostgreSQL cannot take, are refused in any name or value, and a parameter
that takes one value may not be given twice.
"""

from __future__ import annotations

from typing import Any

from litestar.config.app import AppConfig
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.plugins import InitPlugin, ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute

from claimledger.api.reads import BadParameter

# What a handler accepts: names, and the names that may repeat; None when it takes any.
Accepted = tuple[frozenset[str], frozenset[str]] | None


class DeclaredParametersOnly(InitPlugin, ReceiveRoutePlugin):
    """Learns each route's parameters as routes are registered; guards every request."""

    def __init__(self) -> None:
        self._accepted: dict[int, Accepted] = {}

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.guards.append(self.guard)
        return app_config

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute):
            return
        for handler, kwargs_model in route.route_handler_map.values():
            if "query" in kwargs_model.expected_reserved_kwargs:
                self._accepted[id(handler)] = None
            else:
                self._accepted[id(handler)] = (
                    frozenset(p.field_alias for p in kwargs_model.expected_query_params),
                    frozenset(kwargs_model.sequence_query_parameter_names),
                )

    async def guard(
        self, connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
    ) -> None:
        # Guards are handed a copy of the handler; the registered one is on the connection.
        accepted = self._accepted.get(id(connection.route_handler))
        if accepted is None or not connection.scope.get("query_string"):
            return
        names, repeatable = accepted
        seen: set[str] = set()
        for name, value in connection.query_params.multi_items():
            if "\x00" in name or "\x00" in value:
                raise BadParameter(name.replace("\x00", "\\x00"), "NUL characters are not allowed")
            if name not in names:
                raise BadParameter(name, "is not a parameter of this operation")
            if name in seen and name not in repeatable:
                raise BadParameter(name, "is given more than once")
            seen.add(name)
