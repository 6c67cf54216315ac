"""The worker processes of ``claimledger serve``: the projector and the dispatcher, each in a
process of its own, so that the API's event loop only serves requests.

``supervised_processes`` starts ``claimledger serve --role <role>`` for each role, starts again
any that ends while the server runs (after a pause that grows while it keeps ending), and stops
them all with SIGTERM when the block ends (SIGKILL for one that has not stopped in time). Each
runs in a session of its own, so a Ctrl-C at the terminal reaches the server alone, which then
stops them; and each ends by itself when the server is gone (``PARENT_PID``), even killed.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager

import anyio
from anyio.abc import Process, TaskStatus

from claimledger.runtime.metrics import WORKER_METRICS_DIR, worker_metrics_directory

log = logging.getLogger("claimledger.supervisor")

# The server's process id, given to each worker process: when its parent is no longer this
# process, the server is gone and the worker stops.
PARENT_PID = "CLAIMLEDGER_PARENT_PID"
_FIRST_PAUSE = 0.5
_MAX_PAUSE = 30.0
# A worker that ran this long before it ended is started again without delay.
_HEALTHY_SECONDS = 60.0
_STOP_SECONDS = 10.0


def worker_command(role: str, database_url: str) -> list[str]:
    """The command line of one worker process."""
    return [
        sys.executable,
        "-m",
        "claimledger.cli",
        "serve",
        "--role",
        role,
        "--database-url",
        database_url,
    ]


@asynccontextmanager
async def supervised_processes(
    roles: Iterable[str], database_url: str, env: Mapping[str, str] | None = None
) -> AsyncIterator[None]:
    """A process for each role, kept running until the block ends; this process's ``/metrics``
    shows theirs."""
    environment = dict(os.environ if env is None else env)
    environment[PARENT_PID] = str(os.getpid())
    roles = sorted(roles)
    with worker_metrics_directory(roles) as metrics:
        environment[WORKER_METRICS_DIR] = str(metrics)
        async with _supervised(roles, database_url, environment):
            yield


@asynccontextmanager
async def _supervised(
    roles: Iterable[str], database_url: str, environment: dict[str, str]
) -> AsyncIterator[None]:
    async with anyio.create_task_group() as group:
        for role in sorted(roles):
            await group.start(_keep_running, role, worker_command(role, database_url), environment)
        try:
            yield
        finally:
            group.cancel_scope.cancel()


async def _keep_running(
    role: str,
    command: list[str],
    env: dict[str, str],
    *,
    task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    pause = _FIRST_PAUSE
    while True:
        process = await anyio.open_process(
            command,
            stdin=subprocess.DEVNULL,
            stdout=None,
            stderr=None,
            env=env,
            start_new_session=True,
        )
        task_status.started()
        task_status = anyio.TASK_STATUS_IGNORED
        started = anyio.current_time()
        try:
            code = await process.wait()
        finally:
            with anyio.CancelScope(shield=True):
                await _stop(role, process)
        if anyio.current_time() - started >= _HEALTHY_SECONDS:
            pause = _FIRST_PAUSE
        log.warning(
            "the %s process ended (exit code %s); starting it again in %.1f s", role, code, pause
        )
        await anyio.sleep(pause)
        pause = min(pause * 2, _MAX_PAUSE)


async def _stop(role: str, process: Process) -> None:
    """SIGTERM, and SIGKILL if the process has not ended in time."""
    if process.returncode is not None:
        return
    try:
        process.send_signal(signal.SIGTERM)
    except ProcessLookupError:
        return
    with anyio.move_on_after(_STOP_SECONDS):
        await process.wait()
        return
    log.warning("the %s process did not stop in %.0f s; killing it", role, _STOP_SECONDS)
    process.kill()
    await process.wait()


async def until_parent_gone(parent_pid: int, *, poll_seconds: float = 1.0) -> None:
    """Return once this process's parent is no longer ``parent_pid`` (it has ended)."""
    while os.getppid() == parent_pid:  # noqa: ASYNC110 (no event tells of a parent's end)
        await anyio.sleep(poll_seconds)
