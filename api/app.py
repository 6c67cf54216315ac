"""The one wiring point: ``create_app(settings)`` builds the HTTP application and its lifespan."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from litestar import Litestar, Router
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from claimledger.api.auth import KeyStore, authorize
from claimledger.api.bodies import StrictRequest
from claimledger.api.contract import StructContract, without_null_parameters
from claimledger.api.deps import DEPENDENCIES
from claimledger.api.options import EveryMethodAllowed
from claimledger.api.parameters import DeclaredParametersOnly
from claimledger.api.problems import EXCEPTION_HANDLERS
from claimledger.api.reads import ReadSource
from claimledger.api.routes import claims, health, incidents, sources, stream, timeline, webhooks
from claimledger.api.routes.stream import StreamCount
from claimledger.domain.ledger import Ledger
from claimledger.projections.watcher import PositionWatcher
from claimledger.runtime.migrations import migrate
from claimledger.runtime.settings import Settings
from claimledger.runtime.workers import background_workers, supervised
from claimledger.runtime.writer import Writer
from claimledger.store.db import create_pool
from claimledger.store.eventstore import open_ledger
from claimledger.webhooks.delivery import new_client

VERSION = "0.1.0"


def create_app(settings: Settings) -> Litestar:
    """Build the API for ``settings``; its database must already be reachable."""
    url = settings.require_database_url

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await migrate(url)
        write_pool = await create_pool(url, size=4)
        # Reads have a pool of their own, so that many readers never queue behind writes' lookups.
        read_url = settings.read_database_url or url
        read_pool = await create_pool(read_url, size=settings.read_pool_size)

        def new_ledger() -> Ledger:
            return open_ledger(
                url,
                pool_size=settings.write_pool_size,
                clock_skew_seconds=settings.clock_skew_seconds,
            )

        async def primary_restored() -> None:
            # Connections made before the server went away are dead: make new ones.
            await writer.reopen()
            await write_pool.expire_connections()
            if settings.read_database_url is None:
                await read_pool.expire_connections()

        async def replica_restored() -> None:
            await read_pool.expire_connections()

        watcher = PositionWatcher(
            url,
            poll_seconds=settings.poll_seconds,
            settle_seconds=settings.settle_seconds,
            on_restored=primary_restored,
        )
        writer = Writer(
            await anyio.to_thread.run_sync(new_ledger),
            write_pool,
            threads=settings.write_pool_size,
            available=lambda: watcher.available is not False,
            reopen=new_ledger,
        )
        primary_reads = ReadSource(
            read_pool if settings.read_database_url is None else write_pool, watcher
        )
        reads = primary_reads
        if settings.read_database_url is not None:
            # A replica has a tracking row of its own, which says what its rows hold.
            reads = ReadSource(
                read_pool,
                PositionWatcher(
                    read_url,
                    poll_seconds=settings.poll_seconds,
                    settle_seconds=settings.settle_seconds,
                    listen=False,
                    on_restored=replica_restored,
                ),
            )
        app.state.settings = settings
        app.state.pool = write_pool
        app.state.reads = reads
        app.state.primary_reads = primary_reads
        app.state.webhook_client = new_client(settings.delivery_options())
        app.state.key_store = KeyStore(write_pool, cache_seconds=settings.key_cache_seconds)
        app.state.writer = writer
        app.state.watcher = watcher
        app.state.streams = StreamCount(settings.max_streams)
        try:
            async with anyio.create_task_group() as group:
                await group.start(supervised, "the position watcher", watcher.run)
                if reads is not primary_reads:
                    await group.start(supervised, "the replica's watcher", reads.watcher.run)
                async with background_workers(settings, on_advance=watcher.advance) as workers:
                    app.state.workers = workers
                    yield
                group.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                await app.state.webhook_client.aclose()
                await writer.close()
                await read_pool.close()
                await write_pool.close()

    v1 = Router(
        "/v1",
        route_handlers=[
            sources.register_source,
            sources.rate_source,
            sources.list_sources,
            sources.get_source,
            incidents.open_incident,
            incidents.revise_incident,
            incidents.add_claim,
            incidents.list_incidents,
            incidents.get_incident,
            incidents.incident_timeline,
            claims.record_statement,
            claims.record_statement_batch,
            claims.withdraw_statement,
            claims.give_verdict,
            claims.get_claim,
            claims.claim_history,
            timeline.timeline,
            stream.stream,
            webhooks.create_webhook,
            webhooks.list_webhooks,
            webhooks.get_webhook,
            webhooks.update_webhook,
            webhooks.delete_webhook,
            webhooks.list_deliveries,
            webhooks.replay_webhook,
            webhooks.test_webhook,
        ],
        guards=[authorize],
        security=[{"bearer": []}],
    )
    app = Litestar(
        route_handlers=[health.health, health.ready, health.describe_problem, v1],
        lifespan=[lifespan],
        dependencies=DEPENDENCIES,
        exception_handlers=EXCEPTION_HANDLERS,
        request_class=StrictRequest,
        plugins=[StructContract(), DeclaredParametersOnly(), EveryMethodAllowed()],
        request_max_body_size=settings.max_body_bytes,
        openapi_config=openapi_config(),
        debug=False,
    )
    # Built now, before anything serves it, so that both the served and the committed
    # documents are the tidied one.
    without_null_parameters(app.openapi_schema)
    return app


def openapi_document() -> str:
    """The OpenAPI document as committed in ``openapi/openapi.json``."""
    app = create_app(Settings(database_url="postgresql://unused@localhost/unused"))
    return json.dumps(app.openapi_schema.to_schema(), indent=2, sort_keys=True) + "\n"


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="claimledger",
        version=VERSION,
        description=(
            "An event-sourced ledger of contested reports: statements about claims, the derived "
            "status of every claim with its reasons, timelines, and the record as known at any "
            "past moment."
        ),
        path="/schema",
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer", description="API key")
            }
        ),
    )
