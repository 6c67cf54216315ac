"""Full-text search over incidents, claims, statements and sources, as known now or at a moment.

Each searchable text has its words kept by PostgreSQL (``schema.SEARCH``), stemmed by the
'russian' configuration (Russian stems for Cyrillic, English ones for Latin-script words). A
query is read the same way by ``websearch_to_tsquery``, which takes any text (``"a phrase"``,
``or``, ``-word``) and never fails: "Тёткина" finds "Тёткино" through their stem, "destroying"
finds "destroyed", "Тьоткіно" finds "Тьоткіно".

Of each kind, the ``search_plan.WINDOW`` most recently recorded matches are ranked (all of
them when there are fewer): a common word's newest uses, not every use since the ledger began,
which would cost a read of each. Hits of every kind are ranked together by ``ts_rank``
(normalised by the text's length, so a short title that is all match ranks above a long quote
that mentions it), a title above a summary; equal ranks go incident, claim, statement, source,
then id. As known at a moment, a hit is what the ledger had recorded by then: an incident's
description current then, a statement withdrawn only if withdrawn by then.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from claimledger.domain.values import Stance
from claimledger.projections.queries import search_memory, search_plan
from claimledger.projections.queries.search_window import (
    QUERY,
    STATEMENT_WORDS,
    Params,
    Twofold,
    in_country,
    stance_marks,
    window,
)
from claimledger.projections.queries.snippets import START, STOP
from claimledger.store.db import Db, keeps_generic_plans, read_only, session

# The kinds of hit, in the order equal ranks are listed.
KINDS = ("incident", "claim", "statement", "source")

_PARSED = "websearch_to_tsquery('russian', $1)"
# A text this short is shown whole; a longer one by up to two passages around its matches.
_WHOLE = 400
_WHOLE_OPTIONS = f"StartSel={START}, StopSel={STOP}, HighlightAll=true"
_PASSAGES_OPTIONS = (
    f"StartSel={START}, StopSel={STOP}, MaxWords=30, MinWords=12, ShortWord=0,"
    ' MaxFragments=2, FragmentDelimiter=" … "'
)
_COLUMNS = (
    "kind",
    "kind_order",
    "id",
    "rank",
    "incident_id",
    "claim_id",
    "source_id",
    "stance",
    "language",
    "published_at",
    "recorded_at",
    "withdrawn_at",
    "title",
    # Of a statement: where its kind's window began, when the window is full (``search_memory``).
    "window_start",
    "document",
)


class NoWords(Exception):
    """A query with no word to search for: only punctuation, or words too common to be indexed
    (such as "the")."""

    def __str__(self) -> str:
        return "holds no word to search for (only punctuation or words as common as 'the')"


@dataclass(frozen=True, slots=True)
class SearchFilter:
    """What a search may be narrowed to; every filter given must hold."""

    kinds: Sequence[str] = ()
    incident_id: UUID | None = None
    country: str | None = None
    stances: Sequence[str] = ()

    def searched(self) -> list[str]:
        """The kinds the filters leave: a stance is a statement's; sources belong to no incident
        and no country."""
        kinds = [kind for kind in KINDS if not self.kinds or kind in self.kinds]
        if self.stances:
            kinds = [kind for kind in kinds if kind == "statement"]
        if self.incident_id is not None or self.country is not None:
            kinds = [kind for kind in kinds if kind != "source"]
        return kinds


def _select(kind: str, values: str) -> str:
    """The SELECT list of one kind's hits: ``values`` for every column but kind and order."""
    return f"SELECT '{kind}', {KINDS.index(kind)}, {values}"


_REVISION_ORDER = "recorded_at position"


def _incidents(sql: Params, filters: SearchFilter, moment: bool) -> str:
    # An incident is found by its latest revision (by $2): the description it had then.
    latest = (
        "SELECT max(l.position) FROM views.incident_revisions l WHERE l.incident_id = t.incident_id"
    )
    if moment:
        where = [f"t.position = ({latest} AND l.recorded_at <= $2)"]
    else:
        # ($2, the moment, is named even when it is None: PostgreSQL must learn its type.)
        where = ["$2::timestamptz IS NULL", f"t.position = ({latest})"]
    if filters.incident_id is not None:
        where.append(f"t.incident_id = {sql(filters.incident_id)}")
    if filters.country is not None:
        where.append(f"t.country = {sql(filters.country)}")
    # Its recorded_at (when it was opened) is looked up for the page's hits alone.
    return (
        _select(
            "incident",
            f"t.incident_id, ts_rank(t.words, {QUERY}, 1), t.incident_id, NULL::uuid,"
            " NULL::uuid, NULL::text, NULL::text, NULL::timestamptz, NULL::timestamptz,"
            " NULL::timestamptz, t.title, NULL::timestamptz,"
            " concat_ws(E'\\n', t.title, t.summary, t.place ->> 'name')",
        )
        + f" FROM ({window(sql, 'incident_revisions', 't', _REVISION_ORDER, where, moment)}) t"
    )


def _in_incident(
    sql: Params, filters: SearchFilter, alias: str, moment: bool
) -> list[str | Twofold]:
    where: list[str | Twofold] = [] if moment else ["$2::timestamptz IS NULL"]
    if filters.incident_id is not None:
        where.append(f"{alias}.incident_id = {sql(filters.incident_id)}")
    if filters.country is not None:
        where.append(in_country(sql, alias, filters.country, moment))
    return where


def _claims(sql: Params, filters: SearchFilter, moment: bool) -> str:
    where = _in_incident(sql, filters, "c", moment)
    return (
        _select(
            "claim",
            f"c.id, ts_rank(c.words, {QUERY}, 1), c.incident_id, c.id, NULL::uuid, NULL::text,"
            " NULL::text, NULL::timestamptz, c.recorded_at, NULL::timestamptz, c.text,"
            " NULL::timestamptz, c.text",
        )
        + f" FROM ({window(sql, 'claims', 'c', 'recorded_at id', where, moment)}) c"
    )


def _statements(sql: Params, filters: SearchFilter, moment: bool) -> str:
    # A statement without a quote has no text: a query of negations alone ("-word") would
    # match its empty words, with nothing to show.
    where = ["s.quote IS NOT NULL", *_in_incident(sql, filters, "s", moment)]
    asked = QUERY
    if filters.stances:
        where.append(f"s.stance = ANY({sql(list(filters.stances))}::text[])")
        # The index holds each statement's stance beside its words: it finds both at once.
        marks = stance_marks([Stance(stance).value for stance in filters.stances])
        asked = f"({QUERY} && {sql(marks)}::tsquery)"
    sql.asked["statements"] = f"{STATEMENT_WORDS} @@ {asked}"
    return (
        _select(
            "statement",
            f"s.id, ts_rank(s.words, {QUERY}, 1), s.incident_id, s.claim_id, s.source_id,"
            " s.stance, s.language, s.published_at, s.recorded_at,"
            " CASE WHEN $2::timestamptz IS NULL OR s.withdrawn_at <= $2 THEN s.withdrawn_at END,"
            f" NULL::text, CASE WHEN count(*) OVER () = {search_plan.WINDOW}"
            " THEN min(s.recorded_at) OVER () END, s.quote",
        )
        + f" FROM ({window(sql, 'statements', 's', 'recorded_at id', where, moment)}) s"
    )


def _sources(sql: Params, filters: SearchFilter, moment: bool) -> str:
    where = [] if moment else ["$2::timestamptz IS NULL"]
    return (
        _select(
            "source",
            f"s.id, ts_rank(s.words, {QUERY}, 1), NULL::uuid, NULL::uuid, s.id, NULL::text,"
            " NULL::text, NULL::timestamptz, s.recorded_at, NULL::timestamptz, s.name,"
            " NULL::timestamptz, s.name",
        )
        + f" FROM ({window(sql, 'sources', 's', 'recorded_at id', where, moment)}) s"
    )


# Each kind's table, in the order of ``KINDS``.
_TABLES = dict(zip(KINDS, ("incident_revisions", "claims", "statements", "sources"), strict=True))


async def _plan(
    db: Db,
    tsquery: str,
    known_at: datetime | None,
    kinds: list[str],
    filters: SearchFilter,
    begun: datetime | None,
) -> Params:
    """The parameters of this query, with how far to read the tables of ``kinds`` newest first
    and which a country narrows (``search_plan``); nothing read newest first when one incident
    is searched (its texts are few). ``begun``: where this search's last window of statements
    began (``search_memory``)."""
    if filters.incident_id is not None:
        return Params(tsquery, known_at, {})
    shares = await search_plan.word_shares(db)
    in_country, of_stances = await search_plan.kept(db, filters.country, filters.stances)
    # The shares of each table's texts the filters keep (sources have no country or stance).
    kept = {
        "incident_revisions": (in_country, 1.0),
        "claims": (in_country, 1.0),
        "statements": (in_country, of_stances),
    }
    tables = [_TABLES[kind] for kind in kinds]
    reach = {t: search_plan.reach(tsquery, shares.get(t), *kept.get(t, (1.0, 1.0))) for t in tables}
    narrower = frozenset(
        t
        for t in ("claims", "statements")
        if filters.country is not None and search_plan.narrower(tsquery, shares.get(t), in_country)
    )
    since = {}
    if begun is not None and reach.get("statements") is not None:
        start = search_plan.begun_since(tsquery, shares.get("statements"), begun)
        if start is not None:
            since["statements"] = start
    return Params(tsquery, known_at, reach, narrower, since)


_BRANCHES = {
    "incident": _incidents,
    "claim": _claims,
    "statement": _statements,
    "source": _sources,
}


async def search(
    db: Db,
    text: str,
    filters: SearchFilter,
    *,
    known_at: datetime | None,
    after: tuple[float, int, UUID] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Hits for ``text``, best first, after the cursor ``(rank, kind order, id)``, each with its
    snippet marked (``snippets.snippet_parts`` reads it); ``NoWords`` when the text holds no
    word to search for."""
    kinds = filters.searched()
    async with _generic_plans(db) as connection:
        tsquery = await _parsed(connection, text)
        if not tsquery:
            raise NoWords
        if not kinds:
            return []
        # Searches as known now only: a window as known at a moment is read newest first from
        # there, and the texts recorded since its start reach on to now.
        remembered = (tsquery, filters.country, tuple(sorted(filters.stances)))
        now = known_at is None and filters.incident_id is None
        begun = search_memory.recall(db, remembered) if now else None
        sql = await _plan(connection, tsquery, known_at, kinds, filters, begun)
        page = _page(sql, kinds, filters, known_at is not None, after, limit)
        rows = list(await connection.fetch(page, *sql.params))
    start = next((row["window_start"] for row in rows if row["window_start"] is not None), None)
    if start is not None and now:
        search_memory.learn(db, remembered, start)
    return rows


# The texts last searched for, as PostgreSQL parsed them (the same text always parses the same).
_parsings: search_memory.Kept[str, str] = search_memory.Kept(2048)


async def _parsed(connection: Db, text: str) -> str:
    """``text`` as a tsquery's text form; empty when it holds no word to search for."""
    tsquery = _parsings.recall(text)
    if tsquery is None:
        tsquery = str(await connection.fetchval(f"SELECT {_PARSED}::text", text) or "")
        _parsings.keep(text, tsquery)
    return tsquery


@asynccontextmanager
async def _generic_plans(db: Db) -> AsyncIterator[Db]:
    """A connection that plans each statement once, for any words: planning a search costs more
    than running it, and which way each table is read is written in the statement. A pool made
    for it (``keeps_generic_plans``) lends one as it is; any other sets it for a transaction."""
    if keeps_generic_plans(db):
        async with session(db) as connection:
            yield connection
    else:
        async with read_only(db) as connection:
            await connection.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            yield connection


def _page(
    sql: Params,
    kinds: list[str],
    filters: SearchFilter,
    moment: bool,
    after: tuple[float, int, UUID] | None,
    limit: int,
) -> str:
    """The statement of one page of hits of ``kinds``, its parameters added to ``sql``."""
    union = " UNION ALL ".join(_BRANCHES[kind](sql, filters, moment) for kind in kinds)
    where = ""
    if after is not None:
        rank, order, last = sql(after[0]), sql(after[1]), sql(after[2])
        where = (
            f" WHERE h.rank < {rank}::float8 OR (h.rank = {rank}::float8"
            f" AND (h.kind_order, h.id) > ({order}::int, {last}::uuid))"
        )
    order_by = " ORDER BY h.rank DESC, h.kind_order, h.id"
    page = f"SELECT * FROM ({union}) h({', '.join(_COLUMNS)}){where}{order_by} LIMIT {sql(limit)}"
    # A statement's title, its source's name, and an incident's recorded_at are looked up for
    # the page's hits alone.
    looked_up = {
        "title": "coalesce(h.title, (SELECT n.name FROM views.sources n WHERE n.id = h.source_id))",
        "recorded_at": "coalesce(h.recorded_at,"
        " (SELECT i.recorded_at FROM views.incidents i WHERE i.id = h.incident_id))",
    }
    columns = ", ".join(
        f"{looked_up[name]} AS {name}" if name in looked_up else f"h.{name}"
        for name in _COLUMNS
        if name != "document"
    )
    return (
        f"SELECT {columns}, ts_headline('russian', translate(h.document, '{START}{STOP}', ''),"
        f" {QUERY}, CASE WHEN length(h.document) <= {_WHOLE} THEN '{_WHOLE_OPTIONS}'"
        f" ELSE '{_PASSAGES_OPTIONS}' END) AS marked FROM ({page}) h{order_by}"
    )
