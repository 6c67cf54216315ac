"""The workspace's routes, its templates and its vendored assets, as the app registers them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from litestar import Router
from litestar.datastructures import CacheControlHeader
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from claimledger.api.web import maps, pages, records, search_page
from claimledger.api.web.errors import PAGE_ERRORS
from claimledger.api.web.fragments import claims, link, statements, when
from claimledger.api.web.moment import rendered
from claimledger.domain.values import reliability_label

HERE = Path(__file__).parent
ASSETS_PATH = "/web/assets"
# Each vendored folder is named for the npm package and version it was copied from.
HTMX = "htmx.org-2.0.11"
# An asset's folder carries its version (and the app's own files are small), so a day is fine.
_ASSET_CACHE = CacheControlHeader(public=True, max_age=24 * 3600)


def asset(name: str) -> str:
    """The URL of a file in ``static/``."""
    return f"{ASSETS_PATH}/{name}"


# How an occurrence is shown, by how precisely its time is known.
_PRECISE_TO = {
    "minute": "%Y-%m-%d %H:%M UTC",
    "hour": "%Y-%m-%d %H:00 UTC",
    "day": "%Y-%m-%d",
    "week": "the week of %Y-%m-%d",
    "month": "%B %Y",
    "year": "%Y",
}


def occurred(instant: datetime | None, precision: str | None) -> str:
    """When an incident occurred, no more precisely than it is known."""
    if instant is None:
        return ""
    pattern = _PRECISE_TO.get(str(precision or ""))
    return instant.astimezone(UTC).strftime(pattern) if pattern else when(instant)


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    """Jinja over ``templates/``, escaping everything it writes into HTML."""
    environment = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # The templates are the package's files: not looked at again on every page.
        auto_reload=False,
    )
    environment.filters.update(
        when=when, occurred=occurred, iso=rendered, reliability=reliability_label
    )
    environment.globals.update(
        asset=asset,
        link=link,
        statements=statements,
        claims_list=claims,
        map_svg=maps.svg,
        HTMX=HTMX,
    )
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment))


def web_router() -> Router:
    """The pages at ``/``, ``/search``, ``/incidents/…``, ``/claims/…``, ``/sources/…``; their
    assets at
    ``/web/assets/``. None is part of the OpenAPI document."""
    return Router(
        "/",
        route_handlers=[
            pages.home,
            pages.incident_page,
            records.claim_page,
            records.source_page,
            records.moments_fragment,
            search_page.search_page,
            create_static_files_router(
                path=ASSETS_PATH,
                directories=[HERE / "static"],
                name="web-assets",
                cache_control=_ASSET_CACHE,
                include_in_schema=False,
            ),
        ],
        exception_handlers=PAGE_ERRORS,
        include_in_schema=False,
    )
