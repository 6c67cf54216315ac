"""The base URL that exported documents and links point to."""

from __future__ import annotations

from typing import Any

from litestar import Request

from claimledger.runtime.settings import Settings


def public_base(settings: Settings, request: Request[Any, Any, Any]) -> str:
    """``CLAIMLEDGER_PUBLIC_URL``, else the base URL the request came in on (no trailing
    slash). Behind a proxy, set the setting: the request's own names the inside of the proxy."""
    return settings.public_url or str(request.base_url).rstrip("/")
