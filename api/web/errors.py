"""Errors on the workspace's pages: the API's status codes, told as a page a person can read.

A malformed ``known_at`` or filter is a 400 naming the field, as the API's problem would; a page
behind keys (reads are not public) is a 401 that says so; the database out of reach is a 503
with ``Retry-After``.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.response import Template
from litestar.types import ExceptionHandlersMap

from claimledger.api.problems import database_unavailable
from claimledger.domain.errors import DomainError, NotFound

log = logging.getLogger("claimledger.web")

KEYS_NEEDED = (
    "Reads on this server need an API key, and a browser has no way to send one to these "
    "pages. Read the ledger through the API (GET /v1/…) with an Authorization: Bearer header, "
    "or ask the operator to make reads public (CLAIMLEDGER_PUBLIC_READ=true)."
)


def _page(status: int, title: str, detail: str, field: str | None = None) -> Template:
    headers = {"Retry-After": "1"} if status == 503 else {}
    return Template(
        template_name="error.html",
        context={"status": status, "title": title, "detail": detail, "field": field},
        status_code=status,
        headers=headers,
    )


def _bad_request(error: ValidationException) -> Template:
    extra = error.extra if isinstance(error.extra, list) else []
    first = next((item for item in extra if isinstance(item, dict)), None)
    if first is None:
        return _page(400, "This address cannot be read", str(error.detail))
    field = str(first.get("key") or "") or None
    message = str(first.get("message", ""))
    detail = f"{field}: {message}" if field else message
    return _page(400, "This address cannot be read", detail, field)


def page_error(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    """The error as a page, with the status the API would answer."""
    if isinstance(error, ValidationException):
        return _bad_request(error)
    if isinstance(error, NotAuthorizedException):
        return _page(401, "An API key is needed", KEYS_NEEDED)
    if isinstance(error, NotFound):
        return _page(404, "Not in the ledger", error.detail)
    if isinstance(error, DomainError):
        return _page(400, "This address cannot be read", error.detail, error.field)
    if isinstance(error, HTTPException):
        return _page(error.status_code, "This page cannot be shown", str(error.detail))
    if database_unavailable(error):
        log.warning("%s: the database is out of reach (%s)", request.url.path, error)
        return _page(503, "Out of reach", "The database is out of reach; retry shortly.")
    log.exception("unhandled error on %s", request.url.path, exc_info=error)
    return _page(500, "Something failed", "An unexpected error occurred on our side.")


# Every key the app maps to a problem, so that none of those wins over the page.
PAGE_ERRORS: ExceptionHandlersMap = {
    HTTPException: page_error,
    DomainError: page_error,
    Exception: page_error,
}
