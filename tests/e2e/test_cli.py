"""The command line against a real database: migrate, keys, and demo loading without duplicates."""

from __future__ import annotations

from tests.e2e.processes import claimledger, environment
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
