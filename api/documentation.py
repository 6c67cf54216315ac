"""What the OpenAPI document says of each operation besides its types.

Litestar describes bodies and parameters; this adds, once the document is built, what a client
generated from it needs too: the role an operation needs, the headers it answers (``ETag``,
``X-Projection-Position``, ``Cache-Control``, ``Location``, ``Idempotent-Replayed``,
``Retry-After``), the 304 of a conditional read, ``/ready``'s 503, the live stream as
``text/event-stream``, an example of every operation, and one of every problem it may answer.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.openapi.spec import (
    Example,
    OpenAPI,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    Operation,
    Parameter,
    RequestBody,
    Schema,
)
from litestar.openapi.spec.enums import OpenAPIType
from litestar.routes import HTTPRoute

from claimledger.api.examples import EXAMPLES
from claimledger.api.examples_changes import CHANGE_EXAMPLES
from claimledger.api.examples_log import LOG_EXAMPLES
from claimledger.api.examples_search import SEARCH_EXAMPLES
from claimledger.api.format_docs import document_formats
from claimledger.api.negotiation import Representation
from claimledger.api.problems import PROBLEM_JSON, PROBLEM_TYPES
from claimledger.api.reads import POSITION_HEADER
from claimledger.runtime.keys import Role

_HEADERS = {
    "ETag": "A strong validator of this answer: send it back as `If-None-Match` to be answered "
    "304, with no body, while the answer is the same.",
    POSITION_HEADER: "The read model's position (the last event it has applied) when this was "
    "read; a write's `position` at or below it is in the answer.",
    "Cache-Control": "`no-cache` (the answer may change: revalidate with `If-None-Match`), or "
    "`public` (`private` when reads need a key) `, max-age=31536000, immutable` for an answer as "
    "known at a moment the ledger can no longer change.",
    "Location": "The URL of what was created, or of the resource the write changed (the source "
    "rated, the claim a statement, verdict or withdrawal is about).",
    "Idempotent-Replayed": "`true` when this answers a retry: the same `Idempotency-Key` with "
    "the same request was answered before, and nothing was written again.",
    "Retry-After": "Seconds to wait before trying again.",
    "WWW-Authenticate": 'How to authenticate: `Bearer realm="claimledger"`.',
}
_READ_HEADERS = ("ETag", POSITION_HEADER, "Cache-Control")
# The transparency log's reads are not the read model's: no position.
_LOG_HEADERS = ("ETag", "Cache-Control")

_ROLES = {
    None: "none: open to anyone, no key.",
    Role.READER: "public read: no key needed; when the server runs with "
    "`CLAIMLEDGER_PUBLIC_READ=false`, a key of any role (reader, editor or admin).",
    Role.EDITOR: "editor: an editor or admin key (`Authorization: Bearer <key>`).",
    Role.ADMIN: "admin: an admin key (`Authorization: Bearer <key>`).",
}

_IF_NONE_MATCH = Parameter(
    name="If-None-Match",
    param_in="header",
    required=False,
    schema=Schema(type=OpenAPIType.STRING),
    description="The `ETag` of an earlier answer: if the answer is still the same, it is a 304 "
    "with no body.",
)


# Sent with every answer they are documented on; the others only at times.
_ALWAYS = frozenset({"ETag", POSITION_HEADER, "Cache-Control", "Location", "Retry-After"})


def _header(name: str) -> OpenAPIHeader:
    return OpenAPIHeader(
        schema=Schema(type=OpenAPIType.STRING),
        description=_HEADERS[name],
        required=name in _ALWAYS,
    )


def _add_headers(response: OpenAPIResponse, *names: str) -> None:
    response.headers = {**(response.headers or {}), **{n: _header(n) for n in names}}


def _problem_examples(code: str, operation_id: str | None = None) -> dict[str, Example | Any]:
    return {
        kind.slug: Example(
            summary=kind.title,
            value={
                "type": f"/problems/{kind.slug}",
                "title": kind.title,
                "status": kind.status,
                "detail": kind.description,
                "instance": "/v1/…",
            },
        )
        for kind in PROBLEM_TYPES.values()
        if str(kind.status) == code and (not kind.operations or operation_id in kind.operations)
    }


def _errors(operation: Operation) -> str:
    parts = []
    for code, response in sorted((operation.responses or {}).items()):
        if code >= "400" and isinstance(response, OpenAPIResponse) and response.content:
            if PROBLEM_JSON in response.content:
                slugs = ", ".join(f"`{s}`" for s in _problem_examples(code, operation.operation_id))
                parts.append(f"{code} ({slugs})")
            else:
                parts.append(code)
    return "; ".join(parts)


def _success(operation: Operation) -> tuple[str, OpenAPIResponse]:
    code, response = next(
        (code, r) for code, r in (operation.responses or {}).items() if code.startswith("2")
    )
    assert isinstance(response, OpenAPIResponse)
    return code, response


class _Example(Example):
    """An example written out as it is: Litestar's own leaves out every ``null``, which would
    make an example of a body with a null field an example of no valid body."""

    def to_schema(self) -> dict[str, Any]:
        return {"value": self.value}


def _example(media: OpenAPIMediaType | None, value: Any) -> None:
    if media is not None and value is not None:
        media.examples = {"example": _Example(value=value)}


def _document_errors(operation: Operation) -> None:
    """Examples of the problems an operation answers, and their headers."""
    for error, response in (operation.responses or {}).items():
        if not isinstance(response, OpenAPIResponse) or not response.content:
            continue
        if PROBLEM_JSON in response.content:
            response.content[PROBLEM_JSON].examples = _problem_examples(
                error, operation.operation_id
            )
        if error == "503":
            _add_headers(response, "Retry-After")
        if error == "401":
            _add_headers(response, "WWW-Authenticate")


def _document(operation: Operation, role: Role | None) -> None:
    """One operation: headers, the 304, examples, and a description that says it all."""
    names = {getattr(p, "name", None) for p in operation.parameters or []}
    code, success = _success(operation)
    responses = operation.responses or {}
    headers: list[str] = []
    # Every read as known at a moment (a window of changes reads as known at its `to`), and the
    # log's reads.
    cached: tuple[str, ...] = ()
    if "known_at" in names or "min_position" in names:
        cached = _READ_HEADERS
    elif "log" in (operation.tags or ()):
        cached = _LOG_HEADERS
    if cached:
        operation.parameters = [*(operation.parameters or []), _IF_NONE_MATCH]
        _add_headers(success, *cached)
        unchanged = OpenAPIResponse(
            description="Not modified: the `If-None-Match` ETag is that of the answer; no body."
        )
        _add_headers(unchanged, *cached)
        responses["304"] = unchanged
        headers += cached
    # A batch creates many statements: it has no one URL to give.
    if code == "201" and operation.operation_id != "recordStatementBatch":
        success.description = "Created; `Location` is its URL (see the description)."
        made = ["Location", *(["Idempotent-Replayed"] if "Idempotency-Key" in names else [])]
        _add_headers(success, *made)
        headers += made
    _document_errors(operation)
    if operation.operation_id == "stream":
        headers.append("Cache-Control")
    if "503" in responses:
        headers.append("Retry-After")
    examples = {**EXAMPLES, **CHANGE_EXAMPLES, **SEARCH_EXAMPLES, **LOG_EXAMPLES}
    example = examples[str(operation.operation_id)]
    if isinstance(operation.request_body, RequestBody):
        _example(operation.request_body.content.get("application/json"), example.request)
    for media_type, body in (success.content or {}).items():
        _example(body, example.formats.get(media_type, example.response))
    lines = [
        (operation.description or operation.summary or "").strip(),
        f"**Role:** {_ROLES[role]}",
    ]
    if headers:
        shown = [f"`{h}`" + (" (with a 503)" if h == "Retry-After" else "") for h in headers]
        lines.append("**Headers:** " + ", ".join(shown) + ".")
    if errors := _errors(operation):
        lines.append(f"**Errors** (RFC 9457 problems, see `/problems/{{slug}}`): {errors}.")
    operation.description = "\n\n".join(lines).strip()


def _stream(operation: Operation) -> None:
    """The live stream answers ``text/event-stream``, not JSON."""
    _, success = _success(operation)
    success.description = "Server-Sent Events: `id`, `event` (the type) and `data` (JSON) lines."
    success.content = {
        "text/event-stream": OpenAPIMediaType(
            schema=Schema(type=OpenAPIType.STRING, description="A text/event-stream."),
            examples={"example": _Example(value=EXAMPLES["stream"].response)},
        )
    }
    success.headers = {
        **(success.headers or {}),
        "Cache-Control": OpenAPIHeader(
            schema=Schema(type=OpenAPIType.STRING, enum=["no-cache"]),
            description="`no-cache`: a stream is never stored.",
            required=True,
        ),
    }


def _ready(operation: Operation) -> None:
    """``/ready``'s 503 has the same body as its 200."""
    _, success = _success(operation)
    assert success.content is not None
    body = success.content["application/json"].schema
    (operation.responses or {})["503"] = OpenAPIResponse(
        description="Not ready: the database is out of reach (`unavailable`), the read model is "
        "more than 1,000 events behind (`lagging`), or it or a webhook dispatcher stands still "
        "(`stuck`).",
        content={"application/json": OpenAPIMediaType(schema=body)},
        headers={"Retry-After": _header("Retry-After")},
    )


def document_operations(document: OpenAPI, app: Litestar) -> None:
    """Describe every operation of ``document`` (see the module's docstring)."""
    roles: dict[str, Role | None] = {}
    formats: dict[str, tuple[Representation, ...]] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                roles[str(handler.operation_id)] = handler.opt.get("role")
                formats[str(handler.operation_id)] = handler.opt.get("formats", ())
    for item in (document.paths or {}).values():
        for operation in (item.get, item.post, item.patch, item.delete):
            if operation is None:
                continue
            if operation.operation_id == "stream":
                _stream(operation)
            elif operation.operation_id == "ready":
                _ready(operation)
            if offered := formats[str(operation.operation_id)]:
                document_formats(document, operation, offered)
            _document(operation, roles[str(operation.operation_id)])
