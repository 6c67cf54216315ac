"""A handler's dependencies are resolved one after another, never in a task group.

Litestar resolves the dependencies that do not depend on each other concurrently: for each
request it opens an anyio task group and starts a task per dependency. Ours are lookups (the
services, the key's principal, a read's moment and pool, a filter): none waits on anything, so
the concurrency buys nothing, and the task group and its tasks were about a tenth of the work of
a timeline read. As routes are registered, this plugin turns every batch of independent
dependencies into batches of one, in the same order of depth, so that a dependency still comes
after the ones it needs.
"""

from __future__ import annotations

from litestar.plugins import ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute


class DependenciesInTurn(ReceiveRoutePlugin):
    """Resolves each route's dependencies in turn, each batch's by name."""

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute):
            return
        for _, kwargs_model in route.route_handler_map.values():
            kwargs_model.dependency_batches = [
                {dependency}
                for batch in kwargs_model.dependency_batches
                for dependency in sorted(batch, key=lambda d: d.key)
            ]
