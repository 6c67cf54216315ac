"""A request's guards run once, from one hook, with the handler as registered.

Litestar calls each guard with a copy of the route handler (about 10 µs a copy; every ``/v1``
route has two guards: the declared parameters and the key's role), a twentieth of what a
timeline read costs the API. As routes are registered, this plugin takes each HTTP handler's
guards over, in the same order, and runs them from the app's ``before_request`` hook, which
Litestar calls before it reads a parameter or the body, as it would have called the guards. No
guard of ours changes the handler it is given.

A handler or router with a ``before_request`` of its own would hide this one, and with it every
guard: registering one is refused.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.config.app import AppConfig
from litestar.exceptions import ImproperlyConfiguredException
from litestar.plugins import InitPlugin, ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute
from litestar.types import Guard


class GuardsInOneHook(InitPlugin, ReceiveRoutePlugin):
    """Runs every HTTP handler's guards from the app's ``before_request``."""

    def __init__(self) -> None:
        self._guards: dict[int, tuple[Guard, ...]] = {}

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        if app_config.before_request is not None:
            raise ImproperlyConfiguredException("the app's before_request runs the guards")
        app_config.before_request = self.admit
        return app_config

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute):
            return
        for handler, _ in route.route_handler_map.values():
            if handler.resolve_before_request() != self.admit:
                raise ImproperlyConfiguredException(
                    f"{handler.handler_name} has a before_request of its own; its guards would"
                    " not run"
                )
            if id(handler) in self._guards:
                continue  # one handler at several paths
            # Litestar keeps the list it resolved once: emptied, it runs none of them itself.
            guards = handler.resolve_guards()
            self._guards[id(handler)] = tuple(guards)
            guards.clear()

    async def admit(self, request: Request[Any, Any, Any]) -> None:
        handler = request.route_handler
        for guard in self._guards.get(id(handler), ()):
            await guard(request, handler)  # type: ignore[misc]
