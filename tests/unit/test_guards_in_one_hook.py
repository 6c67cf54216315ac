"""Every handler's guards run from the app's one hook, in their order, and none is lost."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from litestar import Litestar, Router, get
from litestar.connection import ASGIConnection
from litestar.exceptions import ImproperlyConfiguredException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import QueryParameter
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from claimledger.api.admission import GuardsInOneHook
from claimledger.api.app import create_app
from claimledger.api.auth import authorize
from claimledger.runtime.settings import Settings


def test_litestar_runs_no_guard_and_the_hook_runs_every_one() -> None:
    app = create_app(Settings(database_url="postgresql://unused@localhost/unused"))
    hooks = [p for p in app.plugins.init if isinstance(p, GuardsInOneHook)]
    assert len(hooks) == 1
    guarded = 0
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler, _ in route.route_handler_map.values():
            assert handler.resolve_guards() == [], handler
            guards = hooks[0]._guards[id(handler)]
            # The declared parameters are checked first, on every route.
            assert guards, handler
            assert getattr(guards[0], "__name__", "") == "guard", handler
            guarded += authorize in guards
            if route.path.startswith("/v1/"):
                assert authorize in guards, handler
    assert guarded >= 30


calls: list[str] = []


async def first(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    calls.append(f"first {handler.handler_name.rsplit('.', 1)[-1]}")


async def refuse(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    calls.append("refuse")
    if handler.opt.get("closed"):
        raise PermissionDeniedException("closed")


@get("/open", sync_to_thread=False)
def opened() -> str:
    calls.append("handler")
    return "open"


@get("/closed", sync_to_thread=False, opt={"closed": True})
def closed(n: Annotated[int, QueryParameter()] = 0) -> str:
    calls.append("handler")
    return "closed"


def test_guards_run_in_order_before_the_handler_and_can_refuse() -> None:
    app = Litestar(
        route_handlers=[Router("/r", route_handlers=[opened, closed], guards=[refuse])],
        guards=[first],
        plugins=[GuardsInOneHook()],
    )
    with TestClient(app) as client:
        calls.clear()
        assert client.get("/r/open").text == "open"
        assert calls == ["first opened", "refuse", "handler"]
        calls.clear()
        # Refused before its parameter is read: a bad one is not even looked at.
        assert client.get("/r/closed?n=x").status_code == 403
        assert calls == ["first closed", "refuse"]


async def own_hook(request: Any) -> None:
    return None


@get("/own", sync_to_thread=False, before_request=own_hook)
def with_own_hook() -> str:
    return "own"


def test_a_before_request_of_its_own_is_refused() -> None:
    with pytest.raises(ImproperlyConfiguredException, match="before_request of its own"):
        Litestar(route_handlers=[with_own_hook], guards=[first], plugins=[GuardsInOneHook()])
    with pytest.raises(ImproperlyConfiguredException, match="runs the guards"):
        Litestar(route_handlers=[opened], before_request=own_hook, plugins=[GuardsInOneHook()])
