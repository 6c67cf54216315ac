"""RFC 9457 problem details: every error the API answers, in one table.

A problem names the field at fault (``field``, and ``errors`` when there are several). The ``type``
URIs are relative to the API; ``GET /problems/{slug}`` describes each.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import eventsourcing.persistence
import msgspec
import psycopg
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    ValidationException,
)
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap

from claimledger.api.choices import allowed_values
from claimledger.domain.errors import (
    AlreadyWithdrawn,
    Conflict,
    DomainError,
    IdempotencyConflict,
    InvalidInput,
    NotFound,
    UnknownReference,
)
from claimledger.store.db import CONNECTION_ERRORS

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("claimledger.api")


@dataclass(frozen=True, slots=True)
class ProblemType:
    slug: str
    status: int
    title: str
    description: str
    # The operations that answer it, when only some of those answering its status do.
    operations: tuple[str, ...] = ()


PROBLEM_TYPES: dict[str, ProblemType] = {
    p.slug: p
    for p in (
        ProblemType(
            "validation",
            422,
            "The request is invalid",
            "A field is missing, malformed or out of range.",
        ),
        ProblemType(
            "bad-request",
            400,
            "The request cannot be read",
            "Malformed JSON or a bad query parameter.",
        ),
        ProblemType(
            "not-found", 404, "Not found", "The id in the path names nothing in the ledger."
        ),
        ProblemType(
            "no-verdict",
            404,
            "No verdict",
            "The claim has no editor's verdict (as known at `known_at`), so there is no review "
            "of it to export.",
            operations=("getClaimReview",),
        ),
        ProblemType(
            "not-acceptable",
            406,
            "Not acceptable",
            "None of the media types the Accept header (or `format`) asks for is one this "
            "operation answers; the detail lists those it does.",
        ),
        ProblemType(
            "unknown-reference",
            422,
            "Unknown reference",
            "An id inside the request body names nothing in the ledger.",
        ),
        ProblemType(
            "already-withdrawn", 409, "Already withdrawn", "A statement is withdrawn only once."
        ),
        ProblemType(
            "idempotency-key-reused",
            422,
            "Idempotency-Key reused",
            "The Idempotency-Key was used before with a different request.",
        ),
        ProblemType("conflict", 409, "Conflict", "A concurrent change won; retry the request."),
        ProblemType("unauthorized", 401, "Unauthorized", "Send a valid API key as a Bearer token."),
        ProblemType("forbidden", 403, "Forbidden", "The API key's role is too weak for this."),
        ProblemType("too-large", 413, "Request body too large", "The body exceeds the size limit."),
        ProblemType(
            "not-ready", 503, "Not ready yet", "The read model has not caught up; retry shortly."
        ),
        ProblemType(
            "unavailable",
            503,
            "Service unavailable",
            "The database is out of reach, or the server is at its limit of open streams; retry "
            "after the Retry-After seconds. A write answered so was not acknowledged: send it "
            "again (with its Idempotency-Key, if it had one).",
        ),
        ProblemType("http-error", 400, "HTTP error", "An error of the HTTP layer."),
        ProblemType("internal", 500, "Internal error", "Something failed on our side."),
    )
}

# Each domain error maps to exactly one problem type.
DOMAIN_PROBLEMS: dict[type[DomainError], str] = {
    UnknownReference: "unknown-reference",
    NotFound: "not-found",
    InvalidInput: "validation",
    AlreadyWithdrawn: "already-withdrawn",
    IdempotencyConflict: "idempotency-key-reused",
    Conflict: "conflict",
}


class FieldError(msgspec.Struct, kw_only=True):
    field: str | None
    message: str
    source: str | None = None
    # The values the field may take, when it takes one of a fixed set and was given another.
    allowed: list[str] | None = None


class Problem(msgspec.Struct, kw_only=True):
    """An RFC 9457 problem document."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    field: str | None = None
    errors: list[FieldError] | None = None


def problem_responses(*codes: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the problems an operation can answer."""
    return {
        code: ResponseSpec(
            data_container=Problem,
            generate_examples=False,
            media_type=PROBLEM_JSON,
            description="; ".join(
                f"{p.title} ({p.description})" for p in PROBLEM_TYPES.values() if p.status == code
            ),
        )
        for code in codes
    }


# What any write may answer besides success (503: the database is out of reach); routes add 404
# and 409 where they apply.
WRITE_PROBLEMS = (400, 401, 403, 413, 422, 503)
# What any read may answer: bad parameters, keys (when reads are not public), a min_position
# the read model has not reached in time.
READ_PROBLEMS = (400, 401, 403, 503)

_HTTP_PROBLEMS = {
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    406: "not-acceptable",
    413: "too-large",
    503: "not-ready",
}


def problem(
    request: Request[Any, Any, Any],
    slug: str,
    detail: str,
    *,
    status: int | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[dict[str, Any]]:
    kind = PROBLEM_TYPES[slug]
    code = status or kind.status
    body: dict[str, Any] = {
        "type": f"/problems/{slug}",
        "title": kind.title,
        "status": code,
        "detail": detail,
        "instance": request.url.path,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return Response(body, status_code=code, media_type=PROBLEM_JSON, headers=headers)


def _domain_error(request: Request[Any, Any, Any], error: DomainError) -> Response[dict[str, Any]]:
    slug = next(s for cls, s in DOMAIN_PROBLEMS.items() if isinstance(error, cls))
    return problem(request, slug, error.detail, field=error.field)


_UNKNOWN_FIELD = re.compile(r"unknown field `([^`]+)`")
_INVALID_CHOICE = re.compile(r"^Invalid enum value (.+)$")


def _field_path(key: str | None, message: str) -> str | None:
    base = "" if key in (None, "", "data") else str(key)
    unknown = _UNKNOWN_FIELD.search(message)
    if unknown:
        return f"{base}.{unknown.group(1)}" if base else unknown.group(1)
    return base or None


def _validation_error(
    request: Request[Any, Any, Any], error: ValidationException
) -> Response[dict[str, Any]]:
    extra = error.extra if isinstance(error.extra, list) else []
    errors = [
        {
            "field": _field_path(item.get("key"), str(item.get("message", ""))),
            "source": item.get("source"),
            "message": item.get("message"),
        }
        for item in extra
        if isinstance(item, dict)
    ]
    for item in errors:
        _list_choices(request, item)
    in_body = any(e["source"] == "body" for e in errors)
    if not errors:
        return problem(request, "bad-request", str(error.detail))
    first = errors[0]
    detail = f"{first['field'] or 'body'}: {first['message']}"
    slug = "validation" if in_body else "bad-request"
    return problem(request, slug, detail, field=first["field"], errors=errors)


def _list_choices(request: Request[Any, Any, Any], error: dict[str, Any]) -> None:
    """Say which values a field of a fixed set takes, when it was given another."""
    refused = _INVALID_CHOICE.match(str(error["message"]))
    if refused is None:
        return
    allowed = allowed_values(request, error["source"], error["field"])
    if allowed:
        error["message"] = f"{refused.group(1)} is not one of {', '.join(allowed)}"
        error["allowed"] = allowed


def _http_error(request: Request[Any, Any, Any], error: HTTPException) -> Response[dict[str, Any]]:
    if isinstance(error, ValidationException):
        return _validation_error(request, error)
    # An error may name its own problem type (one of several answering its status).
    slug = getattr(error, "problem", None) or _HTTP_PROBLEMS.get(error.status_code, "http-error")
    headers = dict(error.headers or {})
    if isinstance(error, NotAuthorizedException):
        headers.setdefault("WWW-Authenticate", 'Bearer realm="claimledger"')
    return problem(request, slug, str(error.detail), status=error.status_code, headers=headers)


# What the event store's library and its driver raise for a lost or refused connection.
_WRITE_SIDE_UNAVAILABLE = (
    eventsourcing.persistence.OperationalError,
    eventsourcing.persistence.InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)


def database_unavailable(error: BaseException) -> bool:
    """Whether an error (or one it was raised from) says the database is out of reach."""
    seen: BaseException | None = error
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, CONNECTION_ERRORS + _WRITE_SIDE_UNAVAILABLE):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def unavailable(request: Request[Any, Any, Any], detail: str) -> Response[dict[str, Any]]:
    return problem(request, "unavailable", detail, headers={"Retry-After": "1"})


def _unexpected(request: Request[Any, Any, Any], error: Exception) -> Response[dict[str, Any]]:
    if database_unavailable(error):
        log.warning(
            "%s %s: the database is out of reach (%s)", request.method, request.url.path, error
        )
        return unavailable(request, "the database is out of reach; retry shortly")
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    return problem(
        request, "internal", "an unexpected error occurred", status=HTTP_500_INTERNAL_SERVER_ERROR
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    DomainError: _domain_error,
    HTTPException: _http_error,
    Exception: _unexpected,
}
