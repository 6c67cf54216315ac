"""The one wiring point: ``create_app(settings)`` builds the HTTP application and its lifespan."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from litestar import Litestar, Router
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from claimledger.api.admission import GuardsInOneHook
from claimledger.api.auth import authorize
from claimledger.api.bodies import StrictRequest
from claimledger.api.contract import StructContract, without_null_parameters
from claimledger.api.deps import DEPENDENCIES
from claimledger.api.docs import DOCS_PATH, DocsRoutes, render_plugins
from claimledger.api.documentation import document_operations
from claimledger.api.metrics import RequestMetrics, metrics
from claimledger.api.options import EveryMethodAllowed
from claimledger.api.parameters import DeclaredParametersOnly
from claimledger.api.problems import EXCEPTION_HANDLERS
from claimledger.api.resolution import DependenciesInTurn
from claimledger.api.routes import (
    changes,
    claims,
    health,
    incidents,
    log,
    sources,
    stream,
    timeline,
    webhooks,
)
from claimledger.api.routes.search import search
from claimledger.api.routes.stream import StreamCount
from claimledger.api.web.routes import template_config, web_router
from claimledger.runtime.bootstrap import Services, started
from claimledger.runtime.settings import Settings

VERSION = "0.1.0"


def create_app(settings: Settings, services: Services | None = None) -> Litestar:
    """Build the API for ``settings``.

    Its services (``runtime.bootstrap``) are started in the app's lifespan, unless they are
    given, already started by the caller, who then stops them too.
    """

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            app.state.services = services or await stack.enter_async_context(started(settings))
            app.state.streams = StreamCount(settings.max_streams)
            yield

    v1 = Router(
        "/v1",
        route_handlers=[
            sources.register_source,
            sources.rate_source,
            sources.list_sources,
            sources.get_source,
            sources.source_record,
            incidents.open_incident,
            incidents.revise_incident,
            incidents.add_claim,
            incidents.list_incidents,
            incidents.get_incident,
            incidents.incident_timeline,
            changes.incident_changes,
            claims.record_statement,
            claims.record_statement_batch,
            claims.withdraw_statement,
            claims.give_verdict,
            claims.get_claim,
            claims.claim_history,
            claims.get_claim_review,
            timeline.timeline,
            search,
            stream.stream,
            webhooks.create_webhook,
            webhooks.list_webhooks,
            webhooks.get_webhook,
            webhooks.update_webhook,
            webhooks.delete_webhook,
            webhooks.list_deliveries,
            webhooks.replay_webhook,
            webhooks.test_webhook,
            log.latest_checkpoint,
            log.list_checkpoints,
            log.checkpoint_at,
            log.verifier_key,
            log.log_entries,
            log.inclusion_proof,
            log.consistency_proof,
        ],
        guards=[authorize],
        security=[{"bearer": []}],
    )
    app = Litestar(
        route_handlers=[
            health.health,
            health.ready,
            health.describe_problem,
            metrics,
            v1,
            web_router(),
        ],
        lifespan=[lifespan],
        dependencies=DEPENDENCIES,
        exception_handlers=EXCEPTION_HANDLERS,
        request_class=StrictRequest,
        plugins=[
            StructContract(),
            DeclaredParametersOnly(),
            GuardsInOneHook(),
            EveryMethodAllowed(),
            DependenciesInTurn(),
            DocsRoutes(),
        ],
        request_max_body_size=settings.max_body_bytes,
        openapi_config=openapi_config(),
        template_config=template_config(),
        debug=False,
    )
    # Built now, before anything serves it, so that both the served and the committed
    # documents are the tidied one.
    without_null_parameters(app.openapi_schema)
    document_operations(app.openapi_schema, app)
    # Around routing and error handling, so that 404s and errors are counted too.
    app.asgi_handler = RequestMetrics(app.asgi_handler)
    return app


def openapi_document() -> str:
    """The OpenAPI document as committed in ``openapi/openapi.json``."""
    app = create_app(Settings(database_url="postgresql://unused@localhost/unused"))
    return json.dumps(_sorted(app.openapi_schema.to_schema()), indent=2) + "\n"


def _sorted(node: Any) -> Any:
    """Keys in order, but ``application/json`` first among an answer's media types: a client
    generator takes the first it knows as the operation's answer."""
    if isinstance(node, dict):
        return {
            k: _sorted(node[k]) for k in sorted(node, key=lambda k: (k != "application/json", k))
        }
    if isinstance(node, list):
        return [_sorted(value) for value in node]
    return node


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="claimledger",
        version=VERSION,
        description=(
            "An event-sourced ledger of contested reports: statements about claims, the derived "
            "status of every claim with its reasons, timelines, and the record as known at any "
            "past moment."
        ),
        path=DOCS_PATH,
        render_plugins=render_plugins(),
        use_handler_docstrings=True,
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer", description="API key")
            }
        ),
    )
