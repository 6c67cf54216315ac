"""What every read of the transparency log shares: whole numbers parsed strictly, a connection
of the read database for the queries of an answer, refusals as 400s naming the parameter, and
answers with a strong ETag.

The log's answers carry no ``X-Projection-Position``: the log is not the read model.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Annotated, Any, cast

import msgspec
from litestar import Request, Response
from litestar.exceptions import ValidationException
from litestar.params import ParameterKwarg, QueryParameter

from claimledger.api.reads import INT64_MAX, BadParameter
from claimledger.runtime.bootstrap import Services
from claimledger.store.db import Connection
from claimledger.transparency import proofs

TEXT = "text/plain"  # Litestar adds "; charset=utf-8"
NO_CACHE = "no-cache"
_encoder = msgspec.json.Encoder()


def whole_parameter(
    description: str, *, minimum: int = 0, required: bool = False
) -> ParameterKwarg:
    # Read as text and parsed here: Litestar's own integers take "1e3" and "1.0" too.
    return QueryParameter(
        description=description,
        required=required,
        examples=[],
        schema_extra={
            "type": "integer",
            "format": "int64",
            "minimum": minimum,
            "maximum": INT64_MAX,
        },
    )


TreeSizeParameter = Annotated[
    str | None,
    whole_parameter(
        "The size of the tree to prove against; the latest checkpoint's when left out (the "
        "tree's current size when there is no checkpoint yet).",
        minimum=1,
    ),
]


def whole_number(name: str, value: str | None, *, source: str = "query") -> int | None:
    """A parameter as a whole number from 0 to 2**63 - 1 in decimal digits, or a 400 naming
    it."""
    if value is None:
        return None
    # (A bound on the length first: int() refuses more than 4,300 digits with a ValueError.)
    if not (value.isascii() and value.isdigit() and len(value) <= 19) or int(value) > INT64_MAX:
        shown = value if len(value) <= 40 else value[:40] + "…"
        message = f"{shown!r} is not a whole number from 0 to {INT64_MAX}"
        raise ValidationException(
            detail=f"{name}: {message}", extra=[{"key": name, "message": message, "source": source}]
        )
    return int(value)


@asynccontextmanager
async def log_connection(services: Services) -> AsyncIterator[Connection]:
    """One connection of the read pool for the queries of an answer.

    No transaction holds them together: what they read never changes once written (leaves,
    nodes, checkpoints), and the tree only grows, so a later query can only find more."""
    async with services.reads.pool.acquire() as proxy:
        yield cast("Connection", proxy)  # a proxy that answers as its connection does


@contextmanager
def refused_as_bad_parameter() -> Iterator[None]:
    """A request the log cannot answer as asked is a 400 naming the parameter at fault."""
    try:
        yield
    except proofs.ProofRefused as refusal:
        raise BadParameter(refusal.field, refusal.message) from None


def answer(
    request: Request[Any, Any, Any], body: bytes, media_type: str, cache: str = NO_CACHE
) -> Response[Any]:
    """``body`` with a strong ETag and ``cache``; a 304 when the client has it already."""
    digest = hashlib.sha256(media_type.encode() + b"\n" + body).hexdigest()[:40]
    etag = f'"{digest}"'
    headers = {"ETag": etag, "Cache-Control": cache}
    sent = request.headers.get("if-none-match") or ""
    if etag in {tag.strip().removeprefix("W/") for tag in sent.split(",")}:
        return Response(content=b"", status_code=304, headers=headers)
    return Response(content=body, media_type=media_type, headers=headers)


def json_answer(request: Request[Any, Any, Any], data: msgspec.Struct) -> Response[Any]:
    return answer(request, _encoder.encode(data), "application/json")


async def default_size(connection: Connection) -> tuple[int, proofs.StoredCheckpoint | None]:
    """The tree size a proof is against when none is asked: the latest checkpoint's, else the
    tree's current size."""
    latest = await proofs.latest_checkpoint(connection)
    if latest is not None:
        return latest.size, latest
    return await proofs.tree_size(connection), None
