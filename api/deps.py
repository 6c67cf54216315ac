"""Dependencies handed to handlers: the pieces made once in the app's lifespan."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from claimledger.api.auth import Principal, principal_of
from claimledger.api.reads import View, provide_bitemporal_view, provide_view
from claimledger.runtime.writer import Writer


def provide_writer(state: State) -> Writer:
    writer: Writer = state.writer
    return writer


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    return principal_of(request)


DEPENDENCIES = {
    "writer": Provide(provide_writer, sync_to_thread=False),
    "principal": Provide(provide_principal, sync_to_thread=False),
    "view": Provide(provide_view),
    "bitemporal": Provide(provide_bitemporal_view),
}

WriterDep = NamedDependency[Writer]
PrincipalDep = NamedDependency[Principal]
ViewDep = NamedDependency[View]
