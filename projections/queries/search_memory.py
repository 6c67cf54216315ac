"""Where each search's last window of statements began, remembered per database pool.

Of the statements, a search as known now ranks its window: the ``search_plan.WINDOW`` most
recently recorded ones that match the query and its filters. Statements are never deleted
and their words never change, so once a window began at ``start`` (the recorded_at of its oldest
statement), the same search's windows from then on lie among the statements recorded at
``start`` or later: there are at least as many matches there already. A query whose words were
common once and are rare lately is read newest first through many statements before its window
is full; asked again, the words index finds its matches among those recorded since ``start``
(``search_plan.begun_since`` decides when that is cheaper). The hits are the same either way.

What is remembered is kept with the pool it was learned through (a pool serves one database),
and forgotten with it; at most ``KEPT`` searches a pool, the least recently used go first
(``Kept``, which also keeps the texts a search parsed).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from datetime import datetime
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

KEPT = 1024


class Kept(OrderedDict[K, V]):
    """At most ``most`` entries; the least recently used is forgotten first."""

    def __init__(self, most: int) -> None:
        super().__init__()
        self.most = most

    def recall(self, key: K) -> V | None:
        value = self.get(key)
        if value is not None:
            self.move_to_end(key)
        return value

    def keep(self, key: K, value: V) -> None:
        self[key] = value
        self.move_to_end(key)
        if len(self) > self.most:
            self.popitem(last=False)


_starts: WeakKeyDictionary[Any, Kept[Hashable, datetime]] = WeakKeyDictionary()


def recall(pool: Any, search: Hashable) -> datetime | None:
    """Where the last full window of ``search`` through ``pool`` began, if it is remembered."""
    try:
        starts = _starts.get(pool)
    except TypeError:  # a connection given as it is, which is not remembered by
        return None
    return None if starts is None else starts.recall(search)


def learn(pool: Any, search: Hashable, start: datetime) -> None:
    """The window of ``search`` through ``pool`` began at ``start`` (it held ``WINDOW``)."""
    try:
        starts = _starts.setdefault(pool, Kept(KEPT))
    except TypeError:
        return
    starts.keep(search, start)
