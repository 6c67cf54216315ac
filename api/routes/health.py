"""Liveness, readiness, and the documentation of every problem type the API answers."""

from __future__ import annotations

from typing import Any

import anyio
from litestar import Response, get
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from msgspec import Struct

from api.problems import PROBLEM_TYPES
from projections.db import CONNECTION_ERRORS

MAX_LAG = 1000


@get("/health", operation_id="health", summary="Liveness", tags=["operations"])
async def health() -> dict[str, str]:
    """Answers while the process is up."""
    return {"status": "ok"}


class Readiness(Struct, kw_only=True):
    status: str
    database: bool
    projected_position: int
    head_position: int
    lag: int


@get(
    "/ready",
    operation_id="ready",
    summary="Readiness: the database answers and the read model keeps up",
    tags=["operations"],
)
async def ready(state: State) -> Response[Readiness]:
    """200 when the database answers and the projector is at most `max_lag` (1,000) events
    behind the ledger's head; 503 otherwise, with the same body."""
    try:
        with anyio.fail_after(2):
            row = await state.pool.fetchrow(
                "SELECT (SELECT position FROM views.tracking WHERE projection = 'views') AS done,"
                " (SELECT coalesce(max(notification_id), 0) FROM es.claimledger_events) AS head"
            )
    except (TimeoutError, *CONNECTION_ERRORS):
        body = Readiness(
            status="unavailable", database=False, projected_position=0, head_position=0, lag=0
        )
        return Response(body, status_code=503)
    done, head = int(row["done"] or 0), int(row["head"] or 0)
    lag = max(0, head - done)
    ok = lag <= MAX_LAG
    body = Readiness(
        status="ready" if ok else "lagging",
        database=True,
        projected_position=done,
        head_position=head,
        lag=lag,
    )
    return Response(body, status_code=200 if ok else 503)


@get(
    "/problems/{slug:str}",
    operation_id="describeProblem",
    summary="Describe a problem type",
    tags=["operations"],
)
async def describe_problem(slug: FromPath[str]) -> dict[str, Any]:
    """What a problem `type` URI means: its status, title and when it happens."""
    kind = PROBLEM_TYPES.get(slug)
    if kind is None:
        raise NotFoundException(f"no problem type {slug!r}")
    return {
        "type": f"/problems/{kind.slug}",
        "status": kind.status,
        "title": kind.title,
        "description": kind.description,
    }
