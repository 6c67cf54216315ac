"""How a search reads each kind's texts: through its words index, or newest first.

A search ranks, of each kind, at most ``WINDOW`` matches: the most recently recorded ones. When
a query's words are rare, the words index finds every match and the newest are kept. When they
are common (a word in one quote of ten), fetching every match to keep the newest would cost
thousands of row reads; reading the texts newest first and stopping at the ``WINDOW``-th match
costs a few hundred. Which way is cheaper depends on how many texts hold the words, which
PostgreSQL's statistics tell (``pg_stats.most_common_elems`` of each ``words`` column).

The estimate is an upper bound (a query's words together are no more common than its rarest
one), and words common overall may be rare lately: a query read newest first is read only so
far (``reach``) before the words index is asked after all. Either way the hits are the same: the
choice changes what a search costs, never what it finds.
"""

from __future__ import annotations

import math
import re
import time
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg

from claimledger.store.db import Db

# Matches ranked of each kind at most.
WINDOW = 200
# Reading one text in recorded order and testing its words, against fetching one match the
# words index found (measured on the bench corpus: about 0.6 µs against 5 µs).
_SCAN_COST = 0.12
# Through the words index with a filter's index beside it, reading one entry of either list,
# against fetching one text both hold (a bitmap's work, against a row's).
_ENTRY_COST = 0.05
# Statistics are read again after this long (PostgreSQL's autovacuum refreshes them).
_STATS_SECONDS = 60.0
# A query read newest first reads at least this many times as far as the estimate says it must.
_REACH = 4

_TOKEN = re.compile(r"'((?:[^']|'')*)'(?::[*A-D]+)?|<\d*-?>|[&|!()]")


@dataclass(frozen=True, slots=True)
class WordShares:
    """One kind's texts: how many there are, and the share of them holding each of their
    common words. A word not listed is taken as rare: the words index finds it, and if it has
    become common since the statistics were taken, that costs time, not hits."""

    rows: float
    shares: dict[str, float]

    def share(self, lexeme: str) -> float:
        return self.shares.get(lexeme, 0.0)


@dataclass(slots=True)
class _Cache:
    read_at: float = -math.inf
    tables: dict[str, WordShares] = field(default_factory=dict)
    # The share of incidents in each country, and of statements of each stance.
    values: dict[str, dict[str, float]] = field(default_factory=dict)
    # The bounds of the histogram of statements' recorded_at, oldest first: each part between
    # two holds about as many statements.
    recorded: list[datetime] = field(default_factory=list)


_cache = _Cache()

# The rows: as the statistics collector counts them (kept as rows come and go; a rebuild's
# TRUNCATE leaves ``reltuples`` unknown until the next ANALYZE), or as ANALYZE last saw them.
# With them, the common countries of incidents and stances of statements, for the filters, and
# the histogram of statements' recorded_at, for windows that begin where the last one did.
_STATS = """
SELECT s.tablename, s.attname, greatest(c.reltuples, t.n_live_tup) AS rows,
       CASE WHEN s.attname = 'words' THEN s.most_common_elems::text::text[]
            ELSE s.most_common_vals::text::text[] END AS elems,
       CASE WHEN s.attname = 'words' THEN s.most_common_elem_freqs
            ELSE s.most_common_freqs END AS freqs,
       CASE WHEN s.attname = 'recorded_at' THEN s.histogram_bounds::text::timestamptz[]
            END AS bounds
FROM pg_stats s
JOIN pg_stat_user_tables t ON t.schemaname = s.schemaname AND t.relname = s.tablename
JOIN pg_class c ON c.oid = t.relid
WHERE s.schemaname = 'views' AND (s.attname = 'words'
    OR (s.tablename, s.attname) IN (('incidents', 'country'), ('statements', 'stance'),
                                    ('statements', 'recorded_at')))
"""


async def word_shares(db: Db) -> dict[str, WordShares]:
    """Each searched table's word shares, as PostgreSQL last measured them (re-read at most
    once a minute by each process)."""
    now = time.monotonic()
    if now - _cache.read_at < _STATS_SECONDS:
        return _cache.tables
    rows: list[asyncpg.Record] = list(await db.fetch(_STATS))
    tables, values, recorded = {}, {}, []
    for row in rows:
        elems, freqs = row["elems"] or [], row["freqs"] or []
        # (After the words' shares come three more numbers: the least, the greatest, nulls.)
        shares = dict(zip(elems, freqs, strict=False))
        if row["attname"] == "words":
            tables[row["tablename"]] = WordShares(rows=max(0.0, float(row["rows"])), shares=shares)
        elif row["attname"] == "recorded_at":
            recorded = list(row["bounds"] or [])
        else:
            values[row["attname"]] = shares
    _cache.read_at, _cache.tables, _cache.values = now, tables, values
    _cache.recorded = recorded
    return tables


async def kept(db: Db, country: str | None, stances: Sequence[str]) -> tuple[float, float]:
    """The share of incidents in ``country``, and of statements of ``stances`` (1 when not
    asked), as the statistics last counted them. A value they do not list is taken as rare:
    searching its few texts through the words index costs little."""
    await word_shares(db)
    values = _cache.values
    in_country = 1.0 if country is None else values.get("country", {}).get(country, 0.0)
    of_stances = 1.0
    if stances:
        of_stances = min(1.0, sum(values.get("stance", {}).get(s, 0.0) for s in stances))
    return in_country, of_stances


def forget() -> None:
    """Read the statistics again at the next search (after an ``ANALYZE``)."""
    _cache.read_at = -math.inf


class _Reader:
    """A tsquery's text form, read as PostgreSQL binds it: ``!`` tightest, then ``&`` and the
    phrase operators (``<->``, ``<N>``), then ``|``. Each part is an operator, or (as a tuple)
    a word."""

    def __init__(self, tsquery: str, shares: WordShares) -> None:
        self.parts: list[str | tuple[str]] = [
            m.group(0) if m.group(1) is None else (m.group(1).replace("''", "'"),)
            for m in _TOKEN.finditer(tsquery)
        ]
        self.at = 0
        self.shares = shares

    def _peek(self) -> str | tuple[str] | None:
        return self.parts[self.at] if self.at < len(self.parts) else None

    def _take(self) -> str | tuple[str] | None:
        part = self._peek()
        self.at += 1
        return part

    def _operand(self) -> float:
        part = self._take()
        if isinstance(part, tuple):
            return self.shares.share(part[0])
        if part == "!":
            self._operand()
        elif part == "(":
            value = self.either()
            self._take()  # its ")"
            return value
        return 1.0

    def _both(self) -> float:
        value = self._operand()
        while isinstance(part := self._peek(), str) and part[0] in "&<":
            self._take()
            value = min(value, self._operand())
        return value

    def either(self) -> float:
        value = self._both()
        while self._peek() == "|":
            self._take()
            value = min(1.0, value + self._both())
        return value


def estimate(tsquery: str, shares: WordShares) -> float:
    """The share of texts that may match ``tsquery`` (PostgreSQL's text form of a tsquery):
    words joined by ``&`` or a phrase no more than the rarest, ``|`` the sum, ``!`` anything."""
    reader = _Reader(tsquery, shares)
    return reader.either() if reader.parts else 0.0


def narrower(tsquery: str, shares: WordShares | None, in_country: float) -> bool:
    """Whether a country keeps fewer texts than ``tsquery`` matches: then its incidents' texts
    are found first and their words tested, else the matches are found and their country."""
    return shares is not None and in_country < estimate(tsquery, shares)


def reach(
    tsquery: str, shares: WordShares | None, in_country: float = 1.0, of_stances: float = 1.0
) -> int | None:
    """How many texts, newest first, to read for ``WINDOW`` matches of ``tsquery``; None when
    the words index is cheaper (or nothing is known of the table yet).

    ``in_country`` and ``of_stances`` are the shares of texts the filters keep. Read newest
    first, a text must pass them too; through the index, a country's texts are found by its
    incidents and a stance's beside the words: the texts of both are fetched, after the two
    lists are read."""
    if shares is None or shares.rows <= WINDOW:
        return None
    words = estimate(tsquery, shares)
    share = words * in_country * of_stances
    if share <= 0:
        return None
    newest_first = WINDOW / share * _SCAN_COST
    by_index = share * shares.rows
    filtered = in_country < 1 or of_stances < 1
    if filtered:
        listed = (
            words + (in_country if in_country < 1 else 0) + (of_stances if of_stances < 1 else 0)
        )
        by_index += _ENTRY_COST * listed * shares.rows
    if newest_first >= by_index:
        return None
    if filtered:
        # The texts of both are as many as the shares say only if the words and the filter are
        # unrelated, which the statistics cannot tell (a stance's own wording, a country's own
        # places). So no further than the matches would need if they were, nor than costs what
        # the index would; then the index, which reads the lists of both, answers: when they
        # are related, little or nothing to fetch.
        return math.ceil(min(_REACH * WINDOW / share, by_index / _SCAN_COST))
    # A read newest first stops at the WINDOW-th match, so how far it may go costs nothing
    # while the words are as common lately as they are overall. When they are not (a word of
    # last year's news), it may go as far as costs what the index would, then the index
    # answers: at most twice the index's cost, and mostly far less.
    return math.ceil(max(_REACH * WINDOW / share, by_index / _SCAN_COST))


def begun_since(tsquery: str, shares: WordShares | None, start: datetime) -> datetime | None:
    """Where to ask the words index for a window of statements that last began at ``start``
    (``search_memory``): the histogram's bound at or before it, when finding the matches among
    the statements recorded since costs less than reading those newest first; else None.

    (The bound, not ``start``: a statement written with the bound is planned for what the bound
    holds, and bounds are few.)"""
    bounds = _cache.recorded
    at = bisect_right(bounds, start) - 1
    if shares is None or at < 0 or len(bounds) < 2:
        return None
    since = shares.rows * (len(bounds) - 1 - at) / (len(bounds) - 1)
    matches = estimate(tsquery, shares) * shares.rows
    if (matches + since) * _ENTRY_COST + WINDOW >= since * _SCAN_COST:
        return None
    return bounds[at]
