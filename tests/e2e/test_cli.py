"""The command line against a real database: migrate, keys, demo loading without duplicates,
and every failure as one line with its exit code."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

from tests.conftest import as_url, with_database
from tests.e2e.processes import claimledger, completed, environment
from tests.helpers import event_count


async def test_demo_load_twice_writes_once(database_url: str) -> None:
    env = environment(DATABASE_URL=database_url)
    first = claimledger(["demo", "load"], env=env)
    assert "loaded the Tiotkino scenario" in first
    after_first = await event_count(database_url)
    # 8 sources, 2 incidents, 6 claims and 14 statements.
    assert after_first == 30
    second = claimledger(["demo", "load", "--database-url", database_url], env=environment())
    assert "already loaded" in second
    assert await event_count(database_url) == after_first


async def test_keys_create_prints_the_key_alone_on_its_last_line(database_url: str) -> None:
    env = environment(DATABASE_URL=database_url)
    out = claimledger(["keys", "create", "--role", "editor", "--name", "desk"], env=env)
    key = out.strip().splitlines()[-1]
    assert key.startswith("clk_")
    assert " " not in key
    listing = claimledger(["keys", "list"], env=env)
    assert "desk" in listing
    assert key not in listing


async def test_migrate_is_idempotent(database_url: str) -> None:
    env = environment(DATABASE_URL=database_url)
    assert "nothing" in claimledger(["migrate"], env=env)


def refused_port() -> int:
    """A port on this machine where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def failing(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return completed(args, env=env)


# Every command that touches the database, each way it can fail, and the exit code it gives.
DATABASE_COMMANDS = [
    ["migrate"],
    ["demo", "load"],
    ["keys", "list"],
    ["keys", "create", "--role", "editor", "--name", "desk"],
    ["rebuild"],
    ["export", "{tmp}/out.ndjson"],
    ["import", "{tmp}/good.ndjson"],
    ["serve", "--port", "0"],
]


def error_table(database_url: str) -> list[tuple[str, list[str], dict[str, str | None], int, str]]:
    unreachable = f"postgresql://postgres@127.0.0.1:{refused_port()}/postgres"
    missing_database = as_url(with_database(database_url, "no_such_database"))
    table: list[tuple[str, list[str], dict[str, str | None], int, str]] = []
    for command in DATABASE_COMMANDS:
        name = " ".join(command[:2])
        table += [
            (
                f"{name}: malformed URL",
                command,
                {"DATABASE_URL": "mysql://x"},
                2,
                "not a PostgreSQL URL",
            ),
            (
                f"{name}: malformed --database-url",
                [*command, "--database-url", "postgresql://h:port/x"],
                {"DATABASE_URL": None},
                2,
                "has the port 'port', not a number",
            ),
            (
                f"{name}: unreachable",
                command,
                {"DATABASE_URL": unreachable},
                3,
                "cannot use the database at 127.0.0.1:",
            ),
            (
                f"{name}: no such database",
                command,
                {"DATABASE_URL": missing_database},
                3,
                "does not exist",
            ),
        ]
    table += [
        (
            "import: missing file",
            ["import", "{tmp}/absent.ndjson"],
            {},
            2,
            "absent.ndjson: no such file",
        ),
        ("import: a directory", ["import", "{tmp}"], {}, 2, "is a directory, not a file"),
        (
            "import: bad line",
            ["import", "{tmp}/bad.ndjson"],
            {},
            1,
            "import stopped at line 2: type: 'rumour' is not one of source, source_rating,",
        ),
        (
            "import: a value not in its set",
            ["import", "{tmp}/blog.ndjson"],
            {},
            1,
            "line 1: kind: 'blog' is not one of armed_group, government,",
        ),
        ("export: a pipe", ["export", "{tmp}/pipe"], {}, 2, "pipe is not a regular file"),
        (
            "export: under a file",
            ["export", "{tmp}/good.ndjson/out.ndjson"],
            {},
            2,
            "good.ndjson is not a directory",
        ),
        ("export: a directory", ["export", "{tmp}"], {}, 2, "is a directory, not a file"),
        (
            "export: no such directory",
            ["export", "{tmp}/absent/out.ndjson"],
            {},
            2,
            "absent: no such directory",
        ),
        ("unknown option", ["migrate", "--colour"], {}, 2, "unrecognized arguments: --colour"),
        # verify's own codes: 1 is kept for a tampered log, so a check that cannot run is 2.
        (
            "verify: unreachable",
            ["verify"],
            {"DATABASE_URL": unreachable},
            2,
            "cannot use the database at 127.0.0.1:",
        ),
        ("verify: no such database", ["verify"], {"DATABASE_URL": missing_database}, 2, "exist"),
        ("verify: not a key", ["verify", "--key", "a+b"], {}, 2, "--key is not a verifier key"),
        (
            "check-log: missing checkpoint",
            ["check-log", "{tmp}/absent.txt", "--url", unreachable, "--key", "a+b"],
            {},
            2,
            "absent.txt: No such file or directory",
        ),
        (
            "check-log: not a key",
            ["check-log", "{tmp}/good.ndjson", "--url", "http://127.0.0.1:1", "--key", "a+b"],
            {},
            2,
            "--key is not a verifier key",
        ),
    ]
    return table


async def test_every_failure_is_one_line_and_an_exit_code(
    database_url: str, tmp_path: Path
) -> None:
    (tmp_path / "good.ndjson").write_text(
        '{"type": "source", "name": "Observers", "kind": "osint"}\n'
    )
    (tmp_path / "bad.ndjson").write_text(
        '{"type": "source", "name": "Observers", "kind": "osint"}\n{"type": "rumour"}\n'
    )
    (tmp_path / "blog.ndjson").write_text('{"type": "source", "name": "Blog", "kind": "blog"}\n')
    os.mkfifo(tmp_path / "pipe")
    failures = []
    for case, args, overrides, code, sentence in error_table(database_url):
        env = environment(
            **{"DATABASE_URL": database_url, "CLAIMLEDGER_TRACEBACK": None, **overrides}
        )
        done = failing([a.replace("{tmp}", str(tmp_path)) for a in args], env)
        lines = done.stderr.strip().splitlines()
        if (
            done.returncode != code
            or len(lines) != 1
            or sentence not in done.stderr
            or "Traceback" in done.stderr
        ):
            failures.append(f"{case}: exit {done.returncode}, stderr:\n{done.stderr}")
    assert not failures, "\n".join(failures)
    assert (tmp_path / "pipe").is_fifo(), "a refused export leaves the pipe as it was"


async def test_export_to_standard_output_and_through_a_link(
    database_url: str, tmp_path: Path
) -> None:
    env = environment(DATABASE_URL=database_url, CLAIMLEDGER_TRACEBACK=None)
    assert failing(["demo", "load"], env).returncode == 0
    streamed = failing(["export", "-"], env)
    assert streamed.returncode == 0, streamed.stderr
    lines = streamed.stdout.splitlines()
    assert len(lines) == 30
    assert all(line.startswith('{"type":') for line in lines)
    assert "exported 30 records to standard output" in streamed.stderr
    target = tmp_path / "archive.ndjson"
    link = tmp_path / "latest.ndjson"
    link.symlink_to(target)
    through = failing(["export", str(link)], env)
    assert through.returncode == 0, through.stderr
    assert link.is_symlink(), "the link stays a link; its target holds the export"
    assert target.read_text().splitlines() == lines
