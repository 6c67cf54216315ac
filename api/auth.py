"""The guard every handler declares its role with, and who a request's key belongs to."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from claimledger.runtime.bootstrap import Services
from claimledger.runtime.keys import Principal, Role

__all__ = ["KEY_OPTIONAL", "Principal", "Role", "authorize", "principal_of"]
# The OpenAPI security of reads: a key, or none (reads are public unless configured otherwise).
KEY_OPTIONAL: list[dict[str, list[str]]] = [{}]


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def authorize(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """The one guard: checks the role a handler names in ``opt={"role": Role.X}``."""
    needed: Role = handler.opt.get("role", Role.ADMIN)
    services: Services = connection.app.state.services
    token = bearer_token(connection)
    if token is None:
        if needed is Role.READER and services.settings.public_read:
            return
        raise NotAuthorizedException("an API key is needed: Authorization: Bearer <key>")
    principal = await services.keys.authenticate(token)
    if principal is None:
        raise NotAuthorizedException("this API key is unknown or revoked")
    if principal.role < needed:
        raise PermissionDeniedException(
            f"this needs the {needed.label} role;"
            f" the key {principal.name!r} is {principal.role.label}"
        )
    connection.scope["state"]["principal"] = principal


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    principal = connection.scope["state"].get("principal")
    if not isinstance(principal, Principal):
        raise NotAuthorizedException("an API key is needed: Authorization: Bearer <key>")
    return principal
