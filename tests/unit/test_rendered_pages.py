"""The workspace's rendered pages: found by address and position, bounded by what they hold."""

from __future__ import annotations

from claimledger.api.web.cache import Rendered, RenderedPages


def page(size: int) -> Rendered:
    return Rendered("x" * size, "no-cache")


def test_a_page_is_found_at_its_position_only() -> None:
    pages = RenderedPages(budget=100)
    pages.put(("/incidents/1", (), 7), page(10))
    assert pages.get(("/incidents/1", (), 7)) == page(10)
    assert pages.get(("/incidents/1", (), 8)) is None
    assert pages.get(("/incidents/1", (("known_at", "2024-03-12T10:00:00Z"),), 7)) is None


def test_the_least_recently_read_pages_leave_first_within_the_budget() -> None:
    pages = RenderedPages(budget=100)
    for n in range(4):
        pages.put((f"/p/{n}", (), 1), page(30))
    assert pages.held <= 100
    assert pages.get(("/p/0", (), 1)) is None, "the oldest left"
    assert pages.get(("/p/1", (), 1)) is not None
    pages.put(("/p/4", (), 1), page(30))
    assert pages.get(("/p/1", (), 1)) is not None, "read just now, so kept"
    assert pages.get(("/p/2", (), 1)) is None
    pages.put(("/huge", (), 1), page(101))
    assert pages.get(("/huge", (), 1)) is None, "a page larger than the budget is not kept"
    assert pages.held <= 100
