"""How a command fails: one sentence on standard error and an exit code, never a traceback.

=====  ==========================================================================================
code   meaning
=====  ==========================================================================================
0      done
1      the command ran and refused something: a bad line in a file, an id recorded with other
       content (what was saved before it is reported)
2      the command line is wrong: an unknown option, a missing file or a directory where a file
       belongs, a malformed database URL
3      the database is out of reach: no server answers, the connection is refused, the user,
       password or database name is not accepted
4      anything else (a fault of claimledger itself); ``CLAIMLEDGER_TRACEBACK=1`` shows where
130    interrupted (Ctrl-C)
=====  ==========================================================================================
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from eventsourcing.persistence import InterfaceError, OperationalError

from claimledger.store.db import CONNECTION_ERRORS

EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_DATABASE = 3
EXIT_FAULT = 4
EXIT_INTERRUPTED = 130

_DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    *CONNECTION_ERRORS,
    asyncpg.InvalidAuthorizationSpecificationError,
    asyncpg.InvalidCatalogNameError,
    asyncpg.ClientConfigurationError,
    OperationalError,
    InterfaceError,
)


def _database_errors() -> tuple[type[BaseException], ...]:
    """The errors that say the database is out of reach. psycopg's are among them only once
    psycopg is loaded: a process that never loaded it (a worker of ``serve``, 11 MB lighter)
    cannot have met them."""
    psycopg = sys.modules.get("psycopg")
    return _DATABASE_ERRORS if psycopg is None else (*_DATABASE_ERRORS, psycopg.OperationalError)


class CommandFailed(Exception):
    """A failure the command explains itself: ``str(error)`` is the sentence."""

    def __init__(self, sentence: str, code: int) -> None:
        super().__init__(sentence)
        self.code = code


@dataclass
class Outcome:
    """The exit code of a failed command, and which database it used (for the sentence)."""

    code: int = 0
    database: str | None = None


@contextmanager
def one_line() -> Iterator[Outcome]:
    """Turn what the block raises into one line on standard error and ``Outcome.code``."""
    outcome = Outcome()
    try:
        yield outcome
    except KeyboardInterrupt:
        outcome.code = _say("interrupted", EXIT_INTERRUPTED)
    except Exception as raised:
        error = _innermost(raised)
        if os.environ.get("CLAIMLEDGER_TRACEBACK"):
            raise
        if isinstance(error, CommandFailed):
            outcome.code = _say(str(error), error.code)
        elif isinstance(error, _database_errors()):
            where = f" at {outcome.database}" if outcome.database else ""
            detail = " ".join(str(error).split()) or type(error).__name__
            if isinstance(error, OSError) and error.strerror:
                detail = error.strerror
            outcome.code = _say(f"cannot use the database{where}: {detail}", EXIT_DATABASE)
        else:
            detail = " ".join(str(error).split())
            outcome.code = _say(f"failed: {type(error).__name__}: {detail}", EXIT_FAULT)


def _say(sentence: str, code: int) -> int:
    print(f"claimledger: {sentence}", file=sys.stderr)
    return code


def _innermost(error: BaseException) -> BaseException:
    """The error itself, out of the task groups (and their groups) it was raised through."""
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return error


def readable_file(path: Path) -> None:
    if not path.exists():
        raise CommandFailed(f"{path}: no such file", EXIT_USAGE)
    if path.is_dir():
        raise CommandFailed(f"{path} is a directory, not a file", EXIT_USAGE)
    if not os.access(path, os.R_OK):
        raise CommandFailed(f"{path}: permission denied", EXIT_USAGE)


def writable_file(path: Path) -> Path:
    """Where to write ``path``: a symbolic link's target; refused when that is not a regular file
    (a device, a pipe: the file is written beside it and renamed, which would replace it)."""
    path = path.resolve() if path.is_symlink() else path
    if path.is_dir():
        raise CommandFailed(f"{path} is a directory, not a file", EXIT_USAGE)
    if path.exists() and not path.is_file():
        raise CommandFailed(f"{path} is not a regular file (use - for standard output)", EXIT_USAGE)
    folder = path.parent
    if folder.exists() and not folder.is_dir():
        raise CommandFailed(f"{folder} is not a directory", EXIT_USAGE)
    if not folder.is_dir():
        raise CommandFailed(f"{folder}: no such directory", EXIT_USAGE)
    if not os.access(folder, os.W_OK):
        raise CommandFailed(f"{folder}: permission denied", EXIT_USAGE)
    return path


def check_database_url(url: str, *, name: str) -> str:
    """Refuse a URL no PostgreSQL client can use; where it points (without its password)."""
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict

    example = "postgresql://user:password@host:5432/database"
    if not url.startswith(("postgresql://", "postgres://")):
        raise CommandFailed(f"{name} is not a PostgreSQL URL (like {example})", EXIT_USAGE)
    try:
        info = conninfo_to_dict(url)
    except ProgrammingError as error:
        detail = " ".join(str(error).split())
        raise CommandFailed(f"{name} is not a usable URL: {detail}", EXIT_USAGE) from None
    for port in str(info.get("port") or "5432").split(","):
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise CommandFailed(f"{name} has the port {port!r}, not a number", EXIT_USAGE)
    host = str(info.get("host") or "localhost")
    return f"{host}:{info.get('port') or 5432}/{info.get('dbname') or 'postgres'}"
