"""The API docs pages in a real browser: each renders with nothing but the app to talk to.

Debian's Chromium (``$CHROMIUM``, else ``/usr/bin/chromium``), headless, opens every docs page
of a real ``claimledger serve``. Every request the pages make is recorded and any that leaves
the server fails the test (and is refused, so the run is the same with or without a network).
Swagger UI's "Try it out" runs a public read, and a read that needs the admin key entered in its
"Authorize" dialog. A missing Chromium is a failure, never a skip.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx
import pytest
from playwright.sync_api import BrowserContext, Locator, Page, Route, expect, sync_playwright

from tests.e2e.processes import claimledger, environment, free_port, post, serving

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
TIMEOUT_MS = 15_000


async def test_every_docs_page_renders_offline_and_swagger_tries_requests(
    database_url: str,
) -> None:
    if not os.path.isfile(CHROMIUM):  # noqa: ASYNC240 (one stat, before anything starts)
        pytest.fail(
            f"no Chromium at {CHROMIUM}: install it (`apt-get install -y chromium`) or set "
            "CHROMIUM; the docs pages cannot be tested without a browser"
        )
    await anyio.to_thread.run_sync(docs_in_a_browser, database_url)


def docs_in_a_browser(database_url: str) -> None:
    env = environment(DATABASE_URL=database_url)
    editor = new_key(env, "editor")
    admin = new_key(env, "admin")
    port = free_port()
    with serving([], env=env, port=port) as base:
        post(base, "/v1/incidents", {"title": "Drone strike on the Tiotkino depot"}, editor)
        document: dict[str, Any] = httpx.get(f"{base}/schema/openapi.json", timeout=30).json()
        summaries = [
            operation["summary"]
            for item in document["paths"].values()
            for operation in item.values()
        ]
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
            try:
                context = browser.new_context()
                context.set_default_timeout(TIMEOUT_MS)
                errors: list[str] = []
                requests = recorded(context, f"127.0.0.1:{port}", errors)
                page = context.new_page()
                page.on("pageerror", lambda error: errors.append(str(error)))

                redoc(page, base, summaries)
                rapidoc(page, base, summaries)
                swagger(page, base, len(summaries), admin)

                assert not errors, f"the pages failed: {errors}"
                tried = ("/v1/incidents", "/v1/webhooks")
                calls = [url for url in requests if urlsplit(url).path in tried]
                assert len(calls) == 3, f"Swagger UI did not call the server: {requests}"
                outside = [url for url in requests if not local(url, f"127.0.0.1:{port}")]
                assert not outside, f"the docs pages asked for something elsewhere: {outside}"
            finally:
                browser.close()


def new_key(env: dict[str, str], role: str) -> str:
    created = claimledger(["keys", "create", "--role", role, "--name", f"docs {role}"], env=env)
    return created.strip().splitlines()[-1]


def local(url: str, netloc: str) -> bool:
    """Whether ``url`` stays on this server: its own URLs, its blobs, and inline data."""
    url = url.removeprefix("blob:")
    parts = urlsplit(url)
    return parts.scheme == "data" or (parts.scheme == "http" and parts.netloc == netloc)


def recorded(context: BrowserContext, netloc: str, failures: list[str]) -> list[str]:
    """Every URL the context's pages ask for; those elsewhere are also refused.

    A request that fails, or that the server answers with an error other than the 401 the test
    asks for, is added to ``failures``.
    """
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    context.on("requestfailed", lambda request: failures.append(f"{request.url} failed"))
    context.on(
        "response",
        lambda response: (
            failures.append(f"{response.url} answered {response.status}")
            if response.status >= 400 and urlsplit(response.url).path != "/v1/webhooks"
            else None
        ),
    )

    def refuse(route: Route) -> None:
        route.abort("blockedbyclient")

    context.route(lambda url: not local(url, netloc), refuse)
    return requests


def redoc(page: Page, base: str, summaries: list[str]) -> None:
    """Redoc at ``/schema`` shows the title and every operation (``/`` is the workspace)."""
    page.goto(f"{base}/schema")
    expect(page.locator("#redoc h1")).to_contain_text("claimledger")
    expect(page.locator("#redoc h2").first).to_be_visible()
    shown = set(page.locator("#redoc h2").all_inner_texts())
    missing = [summary for summary in summaries if summary not in shown]
    assert not missing, f"Redoc does not show {missing}"


def rapidoc(page: Page, base: str, summaries: list[str]) -> None:
    """RapiDoc fetches the document from the server and lists every operation."""
    page.goto(f"{base}/schema/rapidoc")
    expect(page.locator("rapi-doc .nav-bar-path").first).to_be_visible()
    shown = " ".join(page.locator("rapi-doc .nav-bar-path").all_inner_texts())
    missing = [summary for summary in summaries if summary not in shown]
    assert not missing, f"RapiDoc does not show {missing}"


def swagger(page: Page, base: str, operations: int, admin: str) -> None:
    """Swagger UI lists every operation; "Try it out" answers 200 with and without a key."""
    page.goto(f"{base}/schema/swagger")
    expect(page.locator(".opblock")).to_have_count(operations)

    incidents = try_out(page, "incidents", "listIncidents")
    answered(incidents, "200")
    expect(incidents.locator(".live-responses-table")).to_contain_text(
        "Tiotkino depot", timeout=TIMEOUT_MS
    )

    # Webhooks are the admin's: without the key the answer is 401, with it 200.
    webhooks = try_out(page, "webhooks", "listWebhooks")
    answered(webhooks, "401")
    page.locator(".auth-wrapper button.authorize").click()
    dialog = page.locator(".modal-ux")
    dialog.locator("input").fill(admin)
    dialog.locator("button.authorize").click()
    dialog.locator("button.btn-done").click()
    webhooks.locator("button.execute").click()
    answered(webhooks, "200")


def try_out(page: Page, tag: str, operation_id: str) -> Locator:
    """Open one operation, press "Try it out" and "Execute"; the operation's block."""
    block = page.locator(f"#operations-{tag}-{operation_id}")
    block.locator(".opblock-summary").click()
    block.locator("button.try-out__btn").click()
    block.locator("button.execute").click()
    return block


def answered(block: Locator, status: str) -> None:
    """The operation's last "Execute" shows the server's answer with ``status``."""
    code = block.locator(".live-responses-table tr.response td.response-col_status")
    expect(code).to_have_text(status, timeout=TIMEOUT_MS)
