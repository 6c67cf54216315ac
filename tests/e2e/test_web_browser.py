"""The workspace in a real browser: search for the Tyotkino raid, read it as known at 10:00 and by
what was published before 11:00, compare two moments, and watch a badge change live when a
statement is recorded.

Debian's Chromium (``$CHROMIUM``, else ``/usr/bin/chromium``), headless, drives a real
``claimledger serve`` over the demo. Every request the pages make is recorded; any that leaves
the server fails the test (and is refused). The screenshots in the README are taken here: into
``$CLAIMLEDGER_SCREENSHOTS`` when set (``CLAIMLEDGER_SCREENSHOTS=docs/screenshots``), else into a
temporary directory, so a test run changes no file of the checkout. A missing Chromium is a
failure, never a skip.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import anyio
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from claimledger.runtime.demo import load_scenario
from tests.e2e.processes import ROOT, claimledger, environment, free_port, post, serving
from tests.e2e.test_docs_browser import local, new_key, recorded

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
TIMEOUT_MS = 15_000


async def test_the_workspace_in_a_browser(database_url: str, tmp_path: Path) -> None:
    if not os.path.isfile(CHROMIUM):  # noqa: ASYNC240 (one stat, before anything starts)
        pytest.fail(
            f"no Chromium at {CHROMIUM}: install it (`apt-get install -y chromium`) or set "
            "CHROMIUM; the workspace cannot be tested without a browser"
        )
    wanted = os.environ.get("CLAIMLEDGER_SCREENSHOTS")
    shots = ROOT / wanted if wanted else tmp_path
    await anyio.to_thread.run_sync(workspace_in_a_browser, database_url, shots)


def workspace_in_a_browser(database_url: str, shots: Path) -> None:
    env = environment(DATABASE_URL=database_url)
    claimledger(["demo", "load"], env=env)
    editor = new_key(env, "editor")
    port = free_port()
    shots.mkdir(parents=True, exist_ok=True)
    with serving([], env=env, port=port) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            context = browser.new_context(viewport={"width": 1000, "height": 800})
            context.set_default_timeout(TIMEOUT_MS)
            expect.set_options(timeout=TIMEOUT_MS)
            errors: list[str] = []
            requests = recorded(context, f"127.0.0.1:{port}", errors)
            page = context.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on(
                "console",
                lambda message: errors.append(message.text) if message.type == "error" else None,
            )

            find_the_raid(page, base, shots)
            as_known_at_ten(page, shots)
            published_before_eleven(page, shots)
            compare(page, shots)
            live(page, base, editor, shots)
            at_a_phones_width(page, shots)

            # Leaving a live page ends its stream: the browser counts that as a failed request.
            ended = f"{base}/v1/stream failed"
            errors = [error for error in errors if error != ended]
            assert not errors, f"the pages failed: {errors}"
            assert any(urlsplit(url).path == "/v1/stream" for url in requests)
            outside = [url for url in requests if not local(url, f"127.0.0.1:{port}")]
            assert not outside, f"the workspace asked for something elsewhere: {outside}"
        finally:
            browser.close()


def timeline(page: Page) -> int:
    heading = page.locator("#timeline-heading .count").inner_text()
    found = re.search(r"\((\d+) statements?", heading)
    assert found, heading
    return int(found.group(1))


def find_the_raid(page: Page, base: str, shots: Path) -> None:
    """Home lists the incidents with their headline, a map, and Tyotkino among the places; its
    search finds the raid."""
    page.goto(f"{base}/")
    expect(page.get_by_role("heading", name="Incidents", exact=True)).to_be_visible()
    raid = page.locator("li.incident", has_text="Tyotkino")
    expect(raid).to_have_count(1)
    expect(page.locator("figure.map svg circle")).to_have_count(1)
    expect(page.locator("#moment-slider")).to_be_visible()
    page.screenshot(path=shots / "home.png")
    # The filters update the list in place.
    page.get_by_label("Status").select_option("refuted")
    expect(page.locator("#list-heading")).to_have_text("0 incidents, newest first")
    # htmx pushes the address once the list is swapped in: wait for it, then read it.
    expect(page).to_have_url(re.compile(r"[?&]status=refuted(&|$)"))
    assert parse_qs(urlsplit(page.url).query) == {"status": ["refuted"]}
    page.get_by_label("Status").select_option("")
    expect(raid).to_have_count(1)
    # The search box finds it by the village's name, its title marked where it matches.
    page.get_by_label("Search claims, quotes, incidents and sources").fill("Tyotkino")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"/search\?q=Tyotkino"))
    expect(page.locator("mark", has_text="Tyotkino").first).to_be_visible()
    page.screenshot(path=shots / "search.png")
    hit = page.locator("li.hit-incident", has_text="Cross-border raid")
    hit.get_by_role("link").click()
    expect(page.locator("h1")).to_contain_text("Cross-border raid")
    assert timeline(page) == 13


def as_known_at_ten(page: Page, shots: Path) -> None:
    """The moment set to 10:00 shows the earlier status and the shorter timeline."""
    final_headline = page.locator("#claims-heading .badge").inner_text()
    page.get_by_label("As known at (UTC)").fill("2024-03-12T10:00:00")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"known_at=2024-03-12T10%3A00%3A00Z"))
    expect(page.locator("#claims-heading .badge")).to_have_text("claimed")
    assert final_headline != "claimed"
    assert timeline(page) == 5
    expect(page.locator("#moment-shown")).to_contain_text("as known at 2024-03-12 10:00:00 UTC")
    page.locator("#claims-heading").scroll_into_view_if_needed()
    page.screenshot(path=shots / "incident-at-ten.png")


def published_before_eleven(page: Page, shots: Path) -> None:
    """The other time axis: what had been published before 11:00 includes the 10:15 post the
    ledger learned only at 13:47, which the record as known at 11:00 does not."""
    page.get_by_label("As known at (UTC)").fill("2024-03-12T11:00:00")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"known_at=2024-03-12T11%3A00%3A00Z"))
    assert timeline(page) == 5
    page.get_by_label("Published before (instead of recorded by)").check()
    page.wait_for_url(re.compile(r"published_before=2024-03-12T11%3A00%3A00Z"))
    assert timeline(page) == 6
    authors = page.locator("li.statement .meta a", has_text="Siberian Battalion")
    expect(authors).to_have_count(2)


def compare(page: Page, shots: Path) -> None:
    """What the ledger learned between 10:00 and 12:00: the FSB's denial, and the status change
    it caused."""
    page.get_by_label("Published before (instead of recorded by)").uncheck()
    page.wait_for_url(re.compile(r"known_at=2024-03-12T11%3A00%3A00Z"))
    page.get_by_label("As known at (UTC)").fill("2024-03-12T12:00:00")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"known_at=2024-03-12T12%3A00%3A00Z"))
    page.get_by_label("What changed since (UTC)").fill("2024-03-12T10:00:00")
    page.get_by_role("button", name="Compare").click()
    page.wait_for_url(re.compile(r"since=2024-03-12T10%3A00"))
    expect(page.locator("#changes-heading")).to_contain_text("2 changes recorded after")
    expect(page.locator("li.change-status_changed")).to_contain_text("claimed → disputed")
    page.locator("#compare-heading").scroll_into_view_if_needed()
    page.screenshot(path=shots / "incident-compare.png")


def live(page: Page, base: str, editor: str, shots: Path) -> None:
    """At "now" the page follows the stream: a statement recorded over the API changes a badge."""
    page.get_by_role("link", name="Now", exact=True).click()
    # "Now" keeps the comparison, and drops the moment.
    page.wait_for_url(lambda url: set(parse_qs(urlsplit(url).query)) == {"since"})
    scenario = load_scenario()
    independent = scenario.claim_id("raid", "independent")
    badge = page.locator(f"#claim-{independent} .badge")
    expect(badge).to_have_text("claimed")
    # Once the stream has answered, whatever is recorded next reaches the page.
    with page.expect_response(lambda response: urlsplit(response.url).path == "/v1/stream"):
        page.reload()
    published = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    post(
        base,
        f"/v1/claims/{independent}/statements",
        {
            "source_id": str(scenario.source_id("svoboda")),
            "stance": "refutes",
            "published_at": published,
            "quote": "<script>alert('no')</script> The units are Russian citizens.",
            "language": "en",
        },
        editor,
    )
    expect(badge).to_have_text("refuted")
    assert timeline(page) == 14
    expect(page.locator("#live-status")).to_contain_text("Updated at")
    expect(page.locator("blockquote", has_text="<script>alert('no')</script>")).to_have_count(1)
    page.locator(f"#claim-{independent}").scroll_into_view_if_needed()
    page.screenshot(path=shots / "incident-live.png")


def at_a_phones_width(page: Page, shots: Path) -> None:
    """At a phone's width nothing overflows sideways."""
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.evaluate("window.scrollTo(0, 0)")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide at a phone's 390"
    page.screenshot(path=shots / "incident-phone.png")
