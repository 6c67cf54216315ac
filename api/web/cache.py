"""Rendered pages, kept by address and the read model's position.

A page shows what the views held at some position; until the projector moves on, the same
address renders the same page again. Most of a page's time is its rendering, so a page read
again at the same position is answered from here. Bounded by the bytes it holds; the least
recently read pages go first. One per app (``app.state``): apps on other databases never share.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from litestar import Request

Key = tuple[str, tuple[tuple[str, str], ...], int]
BUDGET_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Rendered:
    """A page as sent: its HTML and its ``Cache-Control``."""

    html: str
    cache_control: str


class RenderedPages:
    """The least recently read pages leave first once the pages hold ``budget`` characters."""

    def __init__(self, budget: int = BUDGET_BYTES) -> None:
        self.budget = budget
        self.held = 0
        self._pages: OrderedDict[Key, Rendered] = OrderedDict()

    def get(self, key: Key) -> Rendered | None:
        found = self._pages.get(key)
        if found is not None:
            self._pages.move_to_end(key)
        return found

    def put(self, key: Key, page: Rendered) -> None:
        if len(page.html) > self.budget:
            return
        earlier = self._pages.pop(key, None)
        if earlier is not None:
            self.held -= len(earlier.html)
        self._pages[key] = page
        self.held += len(page.html)
        while self.held > self.budget:
            _, gone = self._pages.popitem(last=False)
            self.held -= len(gone.html)


def rendered_pages(request: Request[Any, Any, Any]) -> RenderedPages:
    """The app's rendered pages (made at the first page read)."""
    state = request.app.state
    pages: RenderedPages | None = state.get("rendered_pages")
    if pages is None:
        pages = RenderedPages()
        state.rendered_pages = pages
    return pages
