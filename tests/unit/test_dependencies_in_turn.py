"""Every route resolves its dependencies one at a time, each after those it needs."""

from __future__ import annotations

from litestar.routes import HTTPRoute

from claimledger.api.app import create_app
from claimledger.runtime.settings import Settings


def test_every_dependency_is_resolved_alone_and_after_what_it_needs() -> None:
    app = create_app(Settings(database_url="postgresql://unused@localhost/unused"))
    checked = 0
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler, model in route.route_handler_map.values():
            batches = model.dependency_batches
            assert all(len(batch) == 1 for batch in batches), handler
            order = [next(iter(batch)).key for batch in batches]
            for position, key in enumerate(order):
                needed = next(iter(batches[position])).dependencies
                assert {d.key for d in needed} <= set(order[:position]), (handler, key)
            checked += len(order) > 2
    # The reads (services, their read, a timeline's filters) and the writes are among them.
    assert checked >= 10
