"""What each process of ``serve`` loads: every module a process imports stays in its memory, and
the three processes together have a bound (BENCHMARKS.md, the server's RSS).

Each check runs a fresh interpreter, imports what that process imports on its way to work, and
lists the heavy packages it loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("psycopg", "litestar", "jinja2", "psutil", "click", "rich", "pygments")


def loaded(code: str) -> list[str]:
    """The heavy packages loaded after running ``code`` in a new interpreter."""
    listing = f"import json, sys; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    result = subprocess.run(
        [sys.executable, "-c", f"{code}\n{listing}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    names: list[str] = json.loads(result.stdout.splitlines()[-1])
    return names


def test_a_worker_of_serve_loads_neither_the_event_store_nor_the_web_stack() -> None:
    # What `claimledger serve --role projector|dispatcher`, started by `serve`, does before its
    # workers start (the URLs it is given are those the server checked).
    code = (
        "import os\n"
        "os.environ['CLAIMLEDGER_PARENT_PID'] = '1'\n"
        "os.environ['DATABASE_READ_URL'] = 'postgresql://reader@127.0.0.1:5432/replica'\n"
        "import claimledger.cli.main as main\n"
        "args = main.build_parser().parse_args(\n"
        "    ['serve', '--role', 'projector', '--database-url', 'postgresql://127.0.0.1/x'])\n"
        "main.resolve_settings(args)\n"
        "main._handler('serve')\n"
        "import claimledger.runtime.workers, claimledger.runtime.migrations"
    )
    assert loaded(code) == []


def test_the_api_process_loads_no_command_line_toolkit() -> None:
    # httpx would load click, rich and pygments for its own command line.
    code = "import claimledger.cli.main as main\nmain._handler('serve')\nimport claimledger.api.app"
    assert loaded(code) == ["psycopg", "litestar", "jinja2"]
