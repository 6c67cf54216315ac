"""The private server for fault tests: a restart keeps data; a standby lags by its delay."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from tests.pgcluster import PgCluster, free_port


def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> float:
    """Poll until ``condition`` holds; the seconds it took."""
    started = time.monotonic()
    for _ in range(int(timeout / 0.05) + 1):
        if condition():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            break
        time.sleep(0.05)
    raise AssertionError(f"not true within {timeout}s")


def count(url: str) -> int:
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as connection:
        row = connection.execute("SELECT count(*) FROM items").fetchone()
    assert row is not None
    total: int = row[0]
    return total


def test_an_immediate_stop_keeps_committed_rows(pg_dir: Path) -> None:
    with PgCluster(pg_dir / "pg", free_port()) as cluster:
        cluster.init()
        cluster.start()
        url = cluster.create_database("fault")
        assert url == f"postgresql://postgres@127.0.0.1:{cluster.port}/fault"
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute("CREATE TABLE items (name text)")
            connection.execute("INSERT INTO items VALUES ('kept')")

        cluster.stop("immediate")
        assert not cluster.running()
        cluster.start()

        assert cluster.running()
        with psycopg.connect(url) as connection:
            assert connection.execute("SELECT name FROM items").fetchall() == [("kept",)]
    assert not (pg_dir / "pg").exists()


def test_a_standby_shows_a_commit_only_after_its_apply_delay(pg_dir: Path) -> None:
    with PgCluster(pg_dir / "primary", free_port()) as primary:
        primary.init()
        primary.start()
        with psycopg.connect(primary.url(), autocommit=True) as connection:
            connection.execute("CREATE TABLE items (name text)")
        standby_cm = PgCluster.standby_of(primary, pg_dir / "standby", free_port(), 1.0)
        with standby_cm as standby, psycopg.connect(standby.url(), autocommit=True) as reader:
            assert reader.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                reader.execute("LISTEN anything")

            with psycopg.connect(primary.url(), autocommit=True) as connection:
                connection.execute("INSERT INTO items VALUES ('late')")
            inserted = time.monotonic()
            assert count(standby.url()) == 0

            wait_for(lambda: count(standby.url()) == 1)
            assert time.monotonic() - inserted >= 0.8
