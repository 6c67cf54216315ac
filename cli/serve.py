"""``claimledger serve``: the API, the projector and the dispatcher.

The port is bound before the services start (``claim_port``), so a start that cannot bind it
fails at once, in one line, before it touches the ledger or its keys. Then the services start
(``runtime.bootstrap``), the demo is loaded if asked for with its kept keys
(``runtime.demo_keys``), the projector and the dispatcher start in processes of their own
(``runtime.supervisor``; beside the API when ``CLAIMLEDGER_WORKER_PROCESSES`` is false), and
uvicorn serves the app until SIGTERM or Ctrl-C. ``--role`` runs one part alone.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import socket
import sys
from contextlib import AsyncExitStack
from dataclasses import replace
from typing import TYPE_CHECKING

import anyio

from claimledger.projections import garbage
from claimledger.runtime import heap
from claimledger.runtime.log_keys import made_key, made_key_file
from claimledger.runtime.metrics import serve_worker_metrics
from claimledger.runtime.migrations import migrate
from claimledger.runtime.settings import Settings
from claimledger.runtime.supervisor import PARENT_PID, supervised_processes, until_parent_gone
from claimledger.runtime.workers import background_workers

if TYPE_CHECKING:
    from claimledger.runtime.bootstrap import Services
    from claimledger.runtime.demo_keys import DemoKeys


def serve_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.role != "all":
        settings = replace(settings, roles=frozenset({args.role}))
    if args.metrics_port is not None:
        settings = replace(settings, metrics_port=args.metrics_port)
    if args.metrics_host is not None:
        settings = replace(settings, metrics_host=args.metrics_host)
    if "api" not in settings.roles:
        try:
            metrics_port = serve_worker_metrics(settings, args.role)
        except OSError as error:
            where = f"{settings.metrics_host}:{settings.metrics_port}"
            print(f"claimledger cannot serve metrics on {where}: {error}", file=sys.stderr)
            return 2
        if PARENT_PID not in os.environ:  # a worker of serve: serve says how to stop it
            print(f"claimledger {args.role} running; stop it with SIGTERM or Ctrl-C")
            if metrics_port is not None:
                print(f"  metrics: http://{settings.metrics_host}:{metrics_port}/metrics")
            sys.stdout.flush()
        anyio.run(_workers_until_signalled, settings)
        return 0
    failed = claim_port(args)
    if failed is not None:
        return failed
    if args.embedded:
        settings = with_made_log_key(settings)
    anyio.run(_serve, args, settings, args.listening, backend_options={"use_uvloop": True})
    return 0


def with_made_log_key(settings: Settings) -> Settings:
    """The embedded server's settings signing with the key made in its data directory (at the
    first start), unless a key is configured."""
    if settings.log_key_file is not None or settings.log_key_seed is not None:
        return settings
    return replace(settings, log_key_file=made_key(made_key_file(settings)))


def _worker_environment(settings: Settings) -> dict[str, str]:
    """The worker processes' environment: this one's, with the log's key file when this
    process chose it."""
    environment = dict(os.environ)
    if settings.log_key_file is not None and settings.log_key_seed is None:
        environment["CLAIMLEDGER_LOG_KEY_FILE"] = str(settings.log_key_file)
    return environment


def claim_port(args: argparse.Namespace) -> int | None:
    """Bind the API's port: None once bound (the socket is kept in ``args.listening``), else the
    exit code, after one line on standard error saying why.

    ``serve_command`` calls it unless the command line already has: called before the embedded
    server is started, a start that cannot listen touches nothing at all, not even the data
    directory. A worker role (``--role projector|dispatcher``) listens on nothing.
    """
    if args.role not in ("all", "api") or getattr(args, "listening", None) is not None:
        return None
    try:
        args.listening = socket.create_server((args.host, args.port))
    except (OSError, OverflowError) as error:
        where = f"{args.host}:{args.port}"
        print(f"claimledger cannot listen on {where}: {_why(error)}", file=sys.stderr)
        return 2
    return None


def _why(error: OSError | OverflowError) -> str:
    """Why a port could not be bound, in a few words."""
    if isinstance(error, OverflowError):
        return "a port is a number from 0 to 65535"
    if error.errno == errno.EADDRINUSE:
        return (
            "the address is in use (another server is listening there; choose another --port,"
            " or PORT= with make run)"
        )
    # socket.create_server appends "(while attempting to bind on address …)": the address is
    # already in the sentence.
    return (error.strerror or str(error)).split(" (while attempting")[0]


async def _serve(args: argparse.Namespace, settings: Settings, listening: socket.socket) -> None:
    import uvicorn

    from claimledger.api.app import create_app
    from claimledger.runtime.bootstrap import started

    worker_roles = settings.roles - {"api"} if settings.worker_processes else frozenset()
    async with AsyncExitStack() as stack:
        services = await stack.enter_async_context(
            started(replace(settings, roles=settings.roles - worker_roles))
        )
        keys = await _demo(services, settings, embedded=args.embedded) if args.demo else None
        if worker_roles:
            await stack.enter_async_context(
                supervised_processes(
                    worker_roles, settings.require_database_url, env=_worker_environment(settings)
                )
            )
        base = f"http://{args.host}:{args.port}"
        print(f"claimledger is serving on {base}")
        print(f"  API docs:   {base}/schema")
        keyed = settings.log_key_file is not None or settings.log_key_seed is not None
        signed = f"its key: {base}/v1/log/key" if keyed else "unsigned: no log key is configured"
        print(f"  log:        {base}/v1/log/checkpoint ({signed})")
        if args.embedded:
            print(f"  database:   embedded PostgreSQL, data in {settings.data_dir}")
        if keys is not None:
            _print_keys(keys)
        sys.stdout.flush()
        config = uvicorn.Config(
            create_app(settings, services),
            http="httptools",
            log_level="info",
            access_log=False,
            # Open streams never end by themselves: a stop gives them this long, then closes them.
            timeout_graceful_shutdown=5,
        )
        # uvicorn stops gracefully on SIGTERM or SIGINT and then raises the signal again: once
        # it is done, that is no more than the services closing and the process ending.
        for stop in (signal.SIGTERM, signal.SIGINT):
            signal.signal(stop, _already_stopping)
        heap.settle()
        await uvicorn.Server(config).serve(sockets=[listening])


async def _demo(services: Services, settings: Settings, *, embedded: bool) -> DemoKeys:
    """The Tiotkino scenario in an empty ledger, and the demo's editor and admin keys: those kept
    from an earlier start while the database still accepts them, new ones otherwise."""
    from claimledger.runtime.demo import load_demo
    from claimledger.runtime.demo_keys import demo_keys
    from claimledger.runtime.keys import SYSTEM_KEY_ID
    from claimledger.store.events import is_empty

    if await is_empty(services.pool):
        writer = services.writer
        loaded = await writer.run(load_demo, writer.ledger, recorded_by=SYSTEM_KEY_ID)
        print(f"loaded the Tiotkino scenario ({loaded.written} entities and statements)")
    database_url = None if embedded else settings.require_database_url
    return await demo_keys(services.keys, settings.data_dir, database_url)


def _print_keys(keys: DemoKeys) -> None:
    print(f"  editor key: {keys.editor}")
    print(f"  admin key:  {keys.admin}")
    if not keys.kept:
        print(f"  (these keys could not be kept in {keys.path}; the next start makes new ones)")
    elif keys.renewed:
        print(f"  keys kept in {keys.path}; the next demo start prints them again")
    else:
        print(f"  keys from {keys.path}, as at the last start")


async def _workers_until_signalled(settings: Settings) -> None:
    """The projector or the dispatcher alone (no HTTP) until SIGTERM or SIGINT, or, for a worker
    process of ``serve``, until that server is gone."""
    parent = os.environ.get(PARENT_PID)
    # Only the workers: no event store, no read pools, no key store (they cost memory and
    # connections, and a worker uses none of them).
    await migrate(settings.require_database_url)
    # The projector's process works in batches (and the log's worker beside it); the
    # dispatcher's is settled as the API's.
    in_batches = "projector" in settings.roles
    if in_batches:
        garbage.take_over()
    else:
        heap.settle()
    async with background_workers(settings), anyio.create_task_group() as group:

        async def until_signalled() -> None:
            with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
                async for _ in signals:
                    break
            group.cancel_scope.cancel()

        group.start_soon(until_signalled)
        if in_batches:
            group.start_soon(garbage.keep_collecting)
        if parent is not None:
            await until_parent_gone(int(parent))
            group.cancel_scope.cancel()


def _already_stopping(signum: int, frame: object) -> None:
    """The signal uvicorn raises again after it has stopped: the stop is under way."""
