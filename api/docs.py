"""The API docs pages under ``/schema``: every script, style and icon they load comes from the app.

The pages are Litestar render plugins whose HTML names no other host: the scripts and styles are
the vendored copies in ``docs_assets/`` (see its README for their versions and licences), the
fonts are the system's own, and the OpenAPI document is written into the page itself.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from litestar import Request, Router
from litestar.config.app import AppConfig
from litestar.datastructures import CacheControlHeader
from litestar.openapi.plugins import OpenAPIRenderPlugin, YamlRenderPlugin
from litestar.plugins import InitPlugin
from litestar.static_files import create_static_files_router

DOCS_PATH = "/schema"
ASSETS_PATH = f"{DOCS_PATH}/assets"
ASSETS_DIR = Path(__file__).parent / "docs_assets"

# Each folder is named for the npm package and version it was copied from.
SWAGGER_UI = "swagger-ui-5.35.0"
REDOC = "redoc-2.5.4"
RAPIDOC = "rapidoc-9.3.8"

SANS = (
    'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", '
    '"Liberation Sans", sans-serif'
)
MONO = (
    'ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", "Liberation Mono", '
    "monospace"
)

# An asset's folder carries its version, so a browser may keep it for a week.
_ASSET_CACHE = CacheControlHeader(public=True, max_age=7 * 24 * 3600)
_FAVICON = f'<link rel="icon" type="image/svg+xml" href="{ASSETS_PATH}/favicon.svg">'
_STYLE = "<style>body { margin: 0; padding: 0 }</style>"


def asset(folder: str, name: str) -> str:
    """The URL of a vendored file."""
    return f"{ASSETS_PATH}/{folder}/{name}"


def assets_router() -> Router:
    """Serves ``docs_assets/`` at ``/schema/assets/``, outside the OpenAPI document."""
    return create_static_files_router(
        path=ASSETS_PATH,
        directories=[ASSETS_DIR],
        name="docs-assets",
        cache_control=_ASSET_CACHE,
        include_in_schema=False,
    )


class DocsRoutes(InitPlugin):
    """Adds the assets the docs pages load (``/`` is the workspace's home page)."""

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.route_handlers.append(assets_router())
        return app_config


class _Page(OpenAPIRenderPlugin):
    """A docs page: its own ``<head>`` lines and ``<body>``, around the shared frame."""

    def __init__(self, path: str) -> None:
        super().__init__(path=path, favicon=_FAVICON, style=_STYLE)

    def inline_document(self, request: Request[Any, Any, Any], schema: dict[str, Any]) -> bytes:
        """The OpenAPI document as a JavaScript literal that no text in it can close early."""
        return self.render_json(request, schema).replace(b"<", b"\\u003c")

    def page(self, schema: dict[str, Any], head: str, body: bytes) -> bytes:
        title = html.escape(str(schema["info"]["title"]))
        return b"".join(
            [
                b'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
                b'<meta name="viewport" content="width=device-width, initial-scale=1">',
                f"<title>{title}</title>{self.favicon}{self.style}{head}</head>".encode(),
                b"<body>",
                body,
                b"</body></html>",
            ]
        )


class SwaggerPage(_Page):
    """Swagger UI at ``/schema/swagger``: every operation, with "Try it out" against this server."""

    def __init__(self) -> None:
        super().__init__("/swagger")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        """The page, with the document inline and the requests sent to this same origin."""
        head = (
            f'<link rel="stylesheet" href="{asset(SWAGGER_UI, "swagger-ui.css")}">'
            f"<style>.swagger-ui, .swagger-ui .info .title, .swagger-ui .opblock-tag "
            f"{{ font-family: {SANS} }} .swagger-ui :is(code, pre, .microlight, textarea) "
            f"{{ font-family: {MONO} }}</style>"
            f'<script src="{asset(SWAGGER_UI, "swagger-ui-bundle.js")}"></script>'
        )
        body = b"".join(
            [
                b"<div id='swagger-ui'></div><script>window.ui = SwaggerUIBundle({spec: ",
                self.inline_document(request, openapi_schema),
                # No validatorUrl: Swagger UI would otherwise send the document to an online
                # validator. BaseLayout has no bar for loading other documents.
                b", dom_id: '#swagger-ui', deepLinking: true, validatorUrl: null,"
                b" layout: 'BaseLayout', presets: [SwaggerUIBundle.presets.apis]});</script>",
            ]
        )
        return self.page(openapi_schema, head, body)


class RedocPage(_Page):
    """Redoc at ``/schema`` and ``/schema/redoc``: the contract to read, in three panels."""

    def __init__(self) -> None:
        super().__init__("/redoc")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        """The page, with the document inline and the system's fonts in Redoc's theme."""
        options = {
            "theme": {
                "typography": {
                    "fontFamily": SANS,
                    "headings": {"fontFamily": SANS},
                    "code": {"fontFamily": MONO},
                }
            }
        }
        head = f'<script src="{asset(REDOC, "redoc.standalone.js")}"></script>'
        body = b"".join(
            [
                b"<div id='redoc'></div><script>Redoc.init(",
                self.inline_document(request, openapi_schema),
                b", ",
                json.dumps(options).encode(),
                b", document.getElementById('redoc'));</script>",
            ]
        )
        return self.page(openapi_schema, head, body)


class RapidocPage(_Page):
    """RapiDoc at ``/schema/rapidoc``: the contract and a request form on one page."""

    def __init__(self) -> None:
        super().__init__("/rapidoc")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        """The page, told not to load its web fonts and to use the system's."""
        head = f'<script type="module" src="{asset(RAPIDOC, "rapidoc-min.js")}"></script>'
        body = (
            f'<rapi-doc spec-url="{html.escape(self.get_openapi_json_route(request))}"'
            f' load-fonts="false" regular-font="{html.escape(SANS)}"'
            f' mono-font="{html.escape(MONO)}" show-header="false"></rapi-doc>'
        )
        return self.page(openapi_schema, head, body.encode())


def render_plugins() -> list[OpenAPIRenderPlugin]:
    """The pages under ``/schema``; the first is also served at ``/schema`` itself."""
    return [
        RedocPage(),
        SwaggerPage(),
        RapidocPage(),
        YamlRenderPlugin(path=["/openapi.yaml", "/openapi.yml"]),
    ]
