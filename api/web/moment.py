"""The "as known at" control of every page: its parameters, its form, and how pages are cached.

A page's moment travels in its URL as ``known_at`` (recorded by then) or ``published_before``
(published before then), exactly as the API takes them, so a shared link shows what its sender
saw. The control's form sends ``at`` (a date-time in UTC, as a ``datetime-local`` input gives it)
and ``axis``; the page answers with a redirect to the same page with the moment in its canonical
parameter, which also works without JavaScript.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from urllib.parse import urlencode

from claimledger.api.reads import BadParameter, parse_instant
from claimledger.projections.queries.moment import Moment
from claimledger.projections.watcher import PositionWatcher

IMMUTABLE = "public, max-age=31536000, immutable"
# What a datetime-local input sends: no offset, read as UTC (the control says so).
_LOCAL = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$")
TIME_PARAMETERS = ("known_at", "published_before", "at", "axis")


def moment_of(known_at: str | None, published_before: str | None) -> Moment:
    """The moment a page's URL asks about; a malformed one is a 400 naming the parameter."""
    return Moment(
        known_at=parse_instant("known_at", known_at),
        published_before=parse_instant("published_before", published_before),
    )


def rendered(instant: datetime) -> str:
    """An instant as the URL carries it: UTC, with microseconds when it has them."""
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def field_instant(name: str, value: str | None) -> datetime | None:
    """A moment from a form's field: RFC 3339, or a ``datetime-local`` value read as UTC;
    empty is none."""
    text = (value or "").strip()
    if not text:
        return None
    return parse_instant(name, text + "Z" if _LOCAL.match(text) else text)


def chosen(at: str, axis: str | None) -> dict[str, str]:
    """The canonical parameters of a moment chosen in the control's form (none: now)."""
    if axis not in (None, "", "published"):
        raise BadParameter("axis", f"{axis!r} is not 'published' (or empty)")
    instant = field_instant("at", at)
    if instant is None:
        return {}
    return {"published_before" if axis == "published" else "known_at": rendered(instant)}


def url_with(path: str, params: Iterable[tuple[str, str]]) -> str:
    """``path`` with these query parameters (none: the bare path)."""
    query = urlencode(list(params))
    return f"{path}?{query}" if query else path


def canonical(path: str, query: Iterable[tuple[str, str]], at: str, axis: str | None) -> str:
    """Where the control's form leads: the page's own filters, and the moment chosen."""
    kept = [(name, value) for name, value in query if name not in TIME_PARAMETERS]
    return url_with(path, [*kept, *chosen(at, axis).items()])


def moment_params(moment: Moment) -> dict[str, str]:
    """The query parameters that carry ``moment`` (links between pages keep it)."""
    found = {}
    if moment.known_at is not None:
        found["known_at"] = rendered(moment.known_at)
    if moment.published_before is not None:
        found["published_before"] = rendered(moment.published_before)
    return found


def cache_control(moment: Moment, watcher: PositionWatcher) -> str:
    """Immutable when the page shows the record as known before the settled horizon: nothing
    recorded later can change it. Anything else may change at the next write."""
    horizon = watcher.horizon
    if moment.known_at is not None and horizon is not None and moment.known_at < horizon:
        return IMMUTABLE
    return "no-cache"


def control(path: str, query: Mapping[str, list[str]], moment: Moment) -> dict[str, object]:
    """What the control's template needs: the current choice, and the filters to keep."""
    shown = moment.published_before if moment.known_at is None else moment.known_at
    kept = [
        (name, value)
        for name, values in query.items()
        if name not in TIME_PARAMETERS
        for value in values
    ]
    return {
        "path": path,
        "kept": kept,
        "at": "" if shown is None else shown.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        "published": moment.known_at is None and moment.published_before is not None,
        "now_url": url_with(path, kept),
        "moment": moment,
    }
