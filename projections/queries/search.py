"""Full-text search over incidents, claims, statements and sources, as known now or at a moment.

Each searchable text has its words kept by PostgreSQL (``schema.SEARCH``), stemmed by the
'russian' configuration (Russian stems for Cyrillic, English ones for Latin-script words). A
query is read the same way by ``websearch_to_tsquery``, which takes any text (``"a phrase"``,
``or``, ``-word``) and never fails: "Тёткина" finds "Тёткино" through their stem, "destroying"
finds "destroyed", "Тьоткіно" finds "Тьоткіно".

Hits of every kind are ranked together by ``ts_rank`` (normalised by the text's length, so a
short title that is all match ranks above a long quote that mentions it), a title above a
summary; equal ranks go incident, claim, statement, source, then id. As known at a moment, a hit
is what the ledger had recorded by then: an incident's description current then, a statement
withdrawn only if withdrawn by then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from claimledger.store.db import Db

# The kinds of hit, in the order equal ranks are listed.
KINDS = ("incident", "claim", "statement", "source")

# A snippet's matches are marked with two characters of Unicode's private use area (taken out
# of the text first), never with markup: ``snippet_parts`` splits on them.
START, STOP = "\ue000", "\ue001"
_QUERY = "websearch_to_tsquery('russian', $1)"
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
    "document",
)


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


class _Sql:
    """The parameters of one query, numbered as they are added ($1 is the query text, $2 the
    moment)."""

    def __init__(self, text: str, known_at: datetime | None) -> None:
        self.params: list[Any] = [text, known_at]

    def __call__(self, value: Any) -> str:
        self.params.append(value)
        return f"${len(self.params)}"


def _select(kind: str, values: str) -> str:
    """The SELECT list of one kind's hits: ``values`` for every column but kind and order."""
    return f"SELECT '{kind}', {KINDS.index(kind)}, {values}"


def _country_of(incident: str, moment: bool) -> str:
    """The country of the incident ``incident`` as described now, or at $2."""
    if not moment:
        return f"(SELECT i.country FROM views.incidents i WHERE i.id = {incident})"
    return (
        f"(SELECT r.country FROM views.incident_revisions r WHERE r.incident_id = {incident}"
        " AND r.recorded_at <= $2 ORDER BY r.position DESC LIMIT 1)"
    )


def _incidents(sql: _Sql, filters: SearchFilter, moment: bool) -> str:
    # An incident is found by its latest revision (by $2): the description it had then.
    latest = (
        "SELECT max(l.position) FROM views.incident_revisions l WHERE l.incident_id = t.incident_id"
    )
    where = [f"t.words @@ {_QUERY}"]
    if moment:
        where += ["t.recorded_at <= $2", f"t.position = ({latest} AND l.recorded_at <= $2)"]
    else:
        # ($2, the moment, is named even when it is None: PostgreSQL must learn its type.)
        where += ["$2::timestamptz IS NULL", f"t.position = ({latest})"]
    if filters.incident_id is not None:
        where.append(f"t.incident_id = {sql(filters.incident_id)}")
    if filters.country is not None:
        where.append(f"t.country = {sql(filters.country)}")
    # Its recorded_at (when it was opened) is looked up for the page's hits alone.
    return (
        _select(
            "incident",
            f"t.incident_id, ts_rank(t.words, {_QUERY}, 1), t.incident_id, NULL::uuid,"
            " NULL::uuid, NULL::text, NULL::text, NULL::timestamptz, NULL::timestamptz,"
            " NULL::timestamptz, t.title,"
            " concat_ws(E'\\n', t.title, t.summary, t.place ->> 'name')",
        )
        + f" FROM views.incident_revisions t WHERE {' AND '.join(where)}"
    )


def _in_incident(sql: _Sql, filters: SearchFilter, alias: str, moment: bool) -> list[str]:
    where = [
        f"{alias}.words @@ {_QUERY}",
        f"($2::timestamptz IS NULL OR {alias}.recorded_at <= $2)",
    ]
    if filters.incident_id is not None:
        where.append(f"{alias}.incident_id = {sql(filters.incident_id)}")
    if filters.country is not None:
        where.append(f"{_country_of(f'{alias}.incident_id', moment)} = {sql(filters.country)}")
    return where


def _claims(sql: _Sql, filters: SearchFilter, moment: bool) -> str:
    where = _in_incident(sql, filters, "c", moment)
    return (
        _select(
            "claim",
            f"c.id, ts_rank(c.words, {_QUERY}, 1), c.incident_id, c.id, NULL::uuid, NULL::text,"
            " NULL::text, NULL::timestamptz, c.recorded_at, NULL::timestamptz, c.text, c.text",
        )
        + f" FROM views.claims c WHERE {' AND '.join(where)}"
    )


def _statements(sql: _Sql, filters: SearchFilter, moment: bool) -> str:
    where = _in_incident(sql, filters, "s", moment)
    if filters.stances:
        where.append(f"s.stance = ANY({sql(list(filters.stances))}::text[])")
    return (
        _select(
            "statement",
            f"s.id, ts_rank(s.words, {_QUERY}, 1), s.incident_id, s.claim_id, s.source_id,"
            " s.stance, s.language, s.published_at, s.recorded_at,"
            " CASE WHEN $2::timestamptz IS NULL OR s.withdrawn_at <= $2 THEN s.withdrawn_at END,"
            " NULL::text, s.quote",
        )
        + f" FROM views.statements s WHERE {' AND '.join(where)}"
    )


def _sources(sql: _Sql, filters: SearchFilter, moment: bool) -> str:
    return (
        _select(
            "source",
            f"s.id, ts_rank(s.words, {_QUERY}, 1), NULL::uuid, NULL::uuid, s.id, NULL::text,"
            " NULL::text, NULL::timestamptz, s.recorded_at, NULL::timestamptz, s.name, s.name",
        )
        + f" FROM views.sources s WHERE s.words @@ {_QUERY}"
        " AND ($2::timestamptz IS NULL OR s.recorded_at <= $2)"
    )


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
    snippet marked by ``START`` and ``STOP`` (``snippet_parts`` reads it)."""
    kinds = filters.searched()
    if not kinds:
        return []
    sql = _Sql(text, known_at)
    moment = known_at is not None
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
    return list(
        await db.fetch(
            f"SELECT {columns}, ts_headline('russian', translate(h.document, '{START}{STOP}', ''),"
            f" {_QUERY}, CASE WHEN length(h.document) <= {_WHOLE} THEN '{_WHOLE_OPTIONS}'"
            f" ELSE '{_PASSAGES_OPTIONS}' END) AS marked FROM ({page}) h{order_by}",
            *sql.params,
        )
    )


async def has_words(db: Db, text: str) -> bool:
    """Whether ``text`` holds a word to search for (not only punctuation or words too common to
    be indexed, such as "the")."""
    return bool(await db.fetchval(f"SELECT numnode({_QUERY}) > 0", text))


def snippet_parts(marked: str) -> list[tuple[str, bool]]:
    """A marked snippet as its parts, each plain text and whether it is a match."""
    parts: list[tuple[str, bool]] = []
    head, *rest = marked.split(START)
    if head:
        parts.append((head, False))
    for piece in rest:
        match, _, after = piece.partition(STOP)
        if match:
            parts.append((match, True))
        if after:
            parts.append((after, False))
    return parts
