"""Dependencies handed to handlers: the services the app's lifespan started, in pieces."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from claimledger.api.auth import Principal, principal_of
from claimledger.api.reads import ReadContext, provide_bitemporal_read, provide_read
from claimledger.runtime.bootstrap import Services
from claimledger.runtime.settings import Settings
from claimledger.runtime.writer import Writer
from claimledger.store.db import Pool


def provide_services(state: State) -> Services:
    """Everything the app's lifespan started (``runtime.bootstrap.started``)."""
    services: Services = state.services
    return services


def provide_writer(services: NamedDependency[Services]) -> Writer:
    """Runs ledger commands."""
    return services.writer


def provide_settings(services: NamedDependency[Services]) -> Settings:
    return services.settings


def provide_db(services: NamedDependency[Services]) -> Pool:
    """The primary database, for what is not a read of the views: subscriptions, readiness."""
    return services.pool


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    """Who the request's key belongs to (the guard has checked it)."""
    return principal_of(request)


DEPENDENCIES = {
    "services": Provide(provide_services, sync_to_thread=False),
    "writer": Provide(provide_writer, sync_to_thread=False),
    "settings": Provide(provide_settings, sync_to_thread=False),
    "db": Provide(provide_db, sync_to_thread=False),
    "principal": Provide(provide_principal, sync_to_thread=False),
    "read": Provide(provide_read),
    "bitemporal_read": Provide(provide_bitemporal_read),
}

ServicesDep = NamedDependency[Services]
WriterDep = NamedDependency[Writer]
SettingsDep = NamedDependency[Settings]
DbDep = NamedDependency[Pool]
PrincipalDep = NamedDependency[Principal]
ReadDep = NamedDependency[ReadContext]
