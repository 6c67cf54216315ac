"""Liveness, readiness, and the documentation of every problem type the API answers."""

from __future__ import annotations

import anyio
from litestar import Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from msgspec import Struct

from claimledger.api.deps import ServicesDep
from claimledger.api.problems import PROBLEM_TYPES, database_unavailable, problem_responses
from claimledger.runtime.bootstrap import Services

MAX_LAG = 1000


@get("/health", operation_id="health", summary="Liveness", tags=["operations"])
async def health() -> dict[str, str]:
    """Answers while the process is up, whether or not the database does."""
    return {"status": "ok"}


_TRACKING = """
SELECT t.position, t.last_error,
       extract(epoch FROM now() - greatest(t.updated_at, t.caught_up_at)) AS idle_seconds,
       (SELECT coalesce(max(notification_id), 0) FROM es.claimledger_events) AS head,
       (SELECT count(*) FROM views.skipped_events) AS skipped,
       (SELECT f.error FROM webhooks.dispatcher_failures f
         WHERE f.failing_since < now() - make_interval(secs => $1)
           AND f.seen_at > now() - make_interval(secs => greatest($1, 15))
         ORDER BY f.failing_since LIMIT 1) AS dispatcher_error,
       (SELECT refusal FROM transparency.tree) AS log_refusal
FROM views.tracking t WHERE t.projection = 'views'
"""


class Readiness(Struct, kw_only=True):
    """What ``/ready`` answers; ``status`` is ``ready`` only with a 200."""

    status: str
    database: bool
    projected_position: int
    head_position: int
    lag: int
    # How long the projector has not advanced (nor found itself caught up), and why, if it said.
    projector_idle_seconds: float | None = None
    projector_error: str | None = None
    # Events the projector set aside because the views cannot take them (see the log).
    skipped_events: int = 0
    # A webhook dispatcher (of this process or another) that cannot ask for work.
    dispatcher_error: str | None = None
    # Why the transparency log refuses to sign checkpoints: its past was rewritten.
    log_refusal: str | None = None


def _dispatcher_stuck(services: Services) -> str | None:
    dispatcher = services.workers.dispatcher
    if dispatcher is None or dispatcher.failing_since is None:
        return None
    if anyio.current_time() - dispatcher.failing_since <= services.settings.stuck_after_seconds:
        return None
    return str(dispatcher.error)


@get(
    "/ready",
    operation_id="ready",
    summary="Readiness: the database answers and the read model keeps up",
    tags=["operations"],
)
async def ready(services: ServicesDep) -> Response[Readiness]:
    """200 when the database answers, the projector is at most 1,000 events behind the ledger's
    head and has not stood still behind it for longer than `stuck_after_seconds` (30 s), and no
    webhook dispatcher has been unable to ask for work for that long, and the transparency log
    signs its checkpoints; 503 otherwise, with the same body and `status` `unavailable`,
    `lagging`, `stuck` or `tampered` (the log found its past rewritten: `log_refusal` says
    where)."""
    settings = services.settings
    try:
        with anyio.fail_after(2):
            row = await services.pool.fetchrow(_TRACKING, settings.stuck_after_seconds)
    except Exception as error:
        if not database_unavailable(error):
            raise
        body = Readiness(
            status="unavailable", database=False, projected_position=0, head_position=0, lag=0
        )
        return Response(body, status_code=503, headers={"Retry-After": "1"})
    assert row is not None  # the tracking row is made by the migrations
    done, head = int(row["position"]), int(row["head"])
    lag = max(0, head - done)
    idle = float(row["idle_seconds"] or 0.0)
    dispatcher_error = _dispatcher_stuck(services) or row["dispatcher_error"]
    if row["log_refusal"] is not None:
        status = "tampered"
    elif (lag > 0 and idle > settings.stuck_after_seconds) or dispatcher_error is not None:
        status = "stuck"
    elif lag > MAX_LAG:
        status = "lagging"
    else:
        status = "ready"
    body = Readiness(
        status=status,
        database=True,
        projected_position=done,
        head_position=head,
        lag=lag,
        projector_idle_seconds=round(idle, 3) if lag > 0 else None,
        projector_error=row["last_error"] if lag > 0 else None,
        skipped_events=int(row["skipped"]),
        dispatcher_error=dispatcher_error,
        log_refusal=row["log_refusal"],
    )
    if status == "ready":
        return Response(body)
    return Response(body, status_code=503, headers={"Retry-After": "5"})


class ProblemDescription(Struct, kw_only=True):
    """What a problem ``type`` means: the status it comes with, its title, and when it happens."""

    type: str
    status: int
    title: str
    description: str


@get(
    "/problems/{slug:str}",
    operation_id="describeProblem",
    summary="Describe a problem type",
    tags=["operations"],
    responses=problem_responses(400, 404),
)
async def describe_problem(slug: FromPath[str]) -> ProblemDescription:
    """What a problem `type` URI means: its status, title and when it happens."""
    kind = PROBLEM_TYPES.get(slug)
    if kind is None:
        raise NotFoundException(f"no problem type {slug!r}")
    return ProblemDescription(
        type=f"/problems/{kind.slug}",
        status=kind.status,
        title=kind.title,
        description=kind.description,
    )
