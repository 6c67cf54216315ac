"""Schemathesis against the real server: every phase and every check, bounded in time.

The server runs as ``claimledger serve`` on a fresh database with the demo scenario and an admin
key; the schemathesis command line tests the OpenAPI document the server itself serves, with the
settings in ``schemathesis.toml`` beside this file. ``--max-time`` bounds the whole run: examples
and coverage run once, then fuzzing and stateful testing repeat until it is spent.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import anyio

from tests.e2e.processes import claimledger, environment, free_port, serving

CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_TIME = 100
# Longer than the 5 s a GET with a not yet projected `min_position` may wait.
REQUEST_TIMEOUT = 10
EXCLUDED = [
    # An endless Server-Sent Events stream.
    "--exclude-path",
    "/v1/stream",
    # Sends a real delivery to the subscribed URL.
    "--exclude-name",
    "POST /v1/webhooks/{webhook_id}/test",
]


OPTIONS = {
    "--phases": "examples,coverage,fuzzing,stateful",
    "--checks": "all",
    "--max-examples": "10",
    "--max-time": str(MAX_TIME),
    "--request-timeout": str(REQUEST_TIMEOUT),
    # No example database: earlier runs' failures are not replayed.
    "--generation-database": "none",
}


def schemathesis(base: str, key: str, work: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run"]
    return subprocess.run(
        [
            *command,
            f"{base}/schema/openapi.json",
            "--header",
            f"Authorization: Bearer {key}",
            *EXCLUDED,
            *(part for option in OPTIONS.items() for part in option),
            "--no-color",
        ],
        # Its crash cache lands here, not in the work tree.
        cwd=work,
        capture_output=True,
        text=True,
        timeout=MAX_TIME + 90,
        check=False,
    )


async def test_schemathesis_finds_no_failure(database_url: str, tmp_path: Path) -> None:
    env = environment(DATABASE_URL=database_url)
    claimledger(["demo", "load"], env=env)
    key = claimledger(["keys", "create", "--role", "admin", "--name", "schemathesis"], env=env)
    key = key.strip().splitlines()[-1]

    def run() -> subprocess.CompletedProcess[str]:
        with serving([], env=env, port=free_port()) as base:
            return schemathesis(base, key, tmp_path)

    done = await anyio.to_thread.run_sync(run)
    assert done.returncode == 0, (
        f"schemathesis exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    )
