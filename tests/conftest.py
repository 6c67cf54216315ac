"""Shared fixtures: a real PostgreSQL, a fresh database per test, the app and its keys.

The server is ``DATABASE_URL`` when set, else an embedded one started for this run. Every test run
makes its own databases and drops them afterwards; a missing server is an error, never a skip.
"""

from __future__ import annotations

import inspect
import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from claimledger.api.app import create_app
from claimledger.domain.ledger import Ledger
from claimledger.runtime.bootstrap import Services, prepared, started
from claimledger.runtime.embedded import embedded_postgres
from claimledger.runtime.keys import Role
from claimledger.runtime.settings import Settings
from claimledger.store.db import Connection, close, connect


@pytest.fixture
def pg_dir() -> Iterator[Path]:
    """A directory for a private PostgreSQL (tests/pgcluster.py), outside pytest's own temporary
    root: another pytest session resets that to mode 0700, which the server's user cannot pass."""
    with tempfile.TemporaryDirectory(prefix="claimledger-pg-") as directory:
        yield Path(directory)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if isinstance(item, pytest.Function) and inspect.iscoroutinefunction(item.obj):
            item.add_marker(pytest.mark.anyio)


def with_database(url: str, dbname: str) -> str:
    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    return make_conninfo("", **params)


def as_url(conninfo: str) -> str:
    """asyncpg wants a URL; psycopg's conninfo is turned back into one."""
    params = conninfo_to_dict(conninfo)
    host = str(params.get("host") or "localhost")
    user = params.get("user") or "postgres"
    password = params.get("password") or ""
    auth = f"{user}:{password}@" if password else f"{user}@"
    dbname = params.get("dbname") or "postgres"
    if host.startswith("/"):
        return f"postgresql://{auth}/{dbname}?host={host}&port={params.get('port') or 5432}"
    return f"postgresql://{auth}{host}:{params.get('port') or 5432}/{dbname}"


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The PostgreSQL server this run uses."""
    configured = os.environ.get("DATABASE_URL")
    if configured:
        yield configured
        return
    with ExitStack() as stack:
        data_dir: Path = tmp_path_factory.mktemp("pg") / "data"
        yield stack.enter_context(embedded_postgres(data_dir))


@dataclass
class Databases:
    """Makes fresh, migrated databases from one template, and drops them all at the end."""

    server_url: str
    run_id: str
    template: str | None = None
    count: int = 0

    async def admin(self) -> asyncpg.Connection[Any]:
        return await asyncpg.connect(as_url(with_database(self.server_url, "postgres")))

    async def fresh(self) -> str:
        connection = await self.admin()
        try:
            if self.template is None:
                self.template = f"claimledger_test_{self.run_id}_tpl"
                await connection.execute(f'CREATE DATABASE "{self.template}"')
                await prepared(as_url(with_database(self.server_url, self.template)))
            self.count += 1
            name = f"claimledger_test_{self.run_id}_{self.count}"
            await connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        finally:
            await connection.close()
        return as_url(with_database(self.server_url, name))

    async def drop_all(self) -> None:
        connection = await self.admin()
        try:
            names = await connection.fetch(
                "SELECT datname FROM pg_database WHERE datname LIKE $1",
                f"claimledger_test_{self.run_id}_%",
            )
            for row in names:
                await connection.execute(f'DROP DATABASE IF EXISTS "{row["datname"]}" WITH (FORCE)')
        finally:
            await connection.close()


@pytest.fixture(scope="session")
async def databases(server_url: str) -> AsyncIterator[Databases]:
    registry = Databases(server_url=server_url, run_id=secrets.token_hex(4))
    try:
        yield registry
    finally:
        await registry.drop_all()


@pytest.fixture
async def database_url(databases: Databases) -> str:
    """A fresh, migrated database for this test alone."""
    return await databases.fresh()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "unused-embedded",
        webhook_allow_private=True,
        webhook_retry_schedule=(0.0, 0.05, 0.1, 0.2),
        key_cache_seconds=0.0,
        # A loaded machine may keep the projector behind for more than the default five seconds.
        min_position_wait_seconds=30.0,
    )


@dataclass(frozen=True)
class Keys:
    reader: str
    editor: str
    admin: str

    def header(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {getattr(self, role)}"}


@pytest.fixture
def quiet(settings: Settings) -> Settings:
    """This test's settings with no projector or dispatcher: for tests that write or project
    below the HTTP edge and run their own."""
    return replace(settings, roles=frozenset())


@pytest.fixture
async def services(quiet: Settings) -> AsyncIterator[Services]:
    """The services of this test's database (``runtime.bootstrap``), without workers."""
    async with started(quiet) as running:
        yield running


@pytest.fixture
async def keys(services: Services) -> Keys:
    store = services.keys
    made = {role: await store.create(name=f"test {role.label}", role=role) for role in Role}
    return Keys(
        reader=made[Role.READER].secret,
        editor=made[Role.EDITOR].secret,
        admin=made[Role.ADMIN].secret,
    )


@pytest.fixture
def ledger(services: Services) -> Ledger:
    """The write side on this test's database, for tests that write below the HTTP edge."""
    return services.writer.ledger


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Connection]:
    """A connection to this test's database."""
    connection = await connect(database_url)
    try:
        yield connection
    finally:
        await close(connection)


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app) as test_client:
        yield test_client
