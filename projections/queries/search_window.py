"""One kind's newest matches for a search: the statement that reads them, and its parameters.

Of each kind, a search ranks the ``search_plan.WINDOW`` most recently recorded texts that match:
found through the words index, or by reading the texts newest first (``search_plan.reach``), or
through the words index among the texts recorded since the same search's last window began
(``search_memory``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from claimledger.projections.queries.search_plan import WINDOW

# The query as PostgreSQL parsed it ($1, read once: ``search`` passes the parsed query's text).
QUERY = "$1::tsquery"
# The statements' words index holds their words and their stance, as '§' and the stance
# (``schema``), and is asked so.
STATEMENT_WORDS = "(s.words || array_to_tsvector(ARRAY['§' || s.stance]))"


def stance_marks(stances: Sequence[str]) -> str:
    """A tsquery's text holding any of ``stances`` as ``STATEMENT_WORDS`` marks them."""
    return " | ".join(f"'§{stance}'" for stance in stances)


class Params:
    """The parameters of one query, numbered as they are added ($1 is the parsed query, $2 the
    moment)."""

    def __init__(
        self,
        tsquery: str,
        known_at: datetime | None,
        reach: dict[str, int | None],
        narrower: frozenset[str] = frozenset(),
        since: dict[str, datetime] | None = None,
    ) -> None:
        self.params: list[Any] = [tsquery, known_at]
        # How far to read each table newest first (``search_plan.reach``); absent: by its index.
        self.reach = reach
        # The tables whose texts a filter keeps fewer of than the words match: its index
        # finds them (``search_plan.narrower``).
        self.narrower = narrower
        # What each table's words index is asked, when not its words and the query.
        self.asked: dict[str, str] = {}
        # The tables whose window lies among the texts recorded at this moment or later
        # (``search_plan.begun_since``): the words index finds the matches there.
        self.since = since or {}

    def __call__(self, value: Any) -> str:
        self.params.append(value)
        return f"${len(self.params)}"


@dataclass(frozen=True, slots=True)
class Twofold:
    """One condition written two ways that keep the same rows: one an index answers, one a row
    read newest first is tested by cheaply (a hashed look-up)."""

    indexed: str
    tested: str


def _either(condition: str | Twofold, indexed: bool) -> str:
    if isinstance(condition, str):
        return condition
    return condition.indexed if indexed else condition.tested


def window(
    sql: Params, table: str, alias: str, order: str, where: Sequence[str | Twofold], moment: bool
) -> str:
    """The ``WINDOW`` most recently recorded rows of ``views.<table>`` (as ``alias``) that hold
    the query's words and meet ``where``, newest first by ``order``.

    Found through the words index (among the texts recorded since ``sql.since`` names, if it
    names the table); or, when the words are common, by reading the table newest first (as known
    at $2, from there) until ``WINDOW`` match, giving up after its reach (the index then
    answers). Each gives the same rows."""
    order_by = f"ORDER BY {', '.join(f'{alias}.{column} DESC' for column in order.split())}"
    ordered = f"{order_by} LIMIT {WINDOW}"
    bounded = f" WHERE {alias}.recorded_at <= $2" if moment else ""
    words = f"{alias}.words @@ {QUERY}"
    indexed = table in sql.narrower
    asked = sql.asked.get(table, words)
    since = sql.since.get(table)
    # (A moment written out: the plan is made for the few texts it leaves, a bitmap of them
    # beside the words'. ``search_plan.begun_since`` gives few distinct moments.)
    recent = [] if since is None else [f"{alias}.recorded_at >= '{since.isoformat()}'::timestamptz"]
    matched = " AND ".join([asked, *recent, *(_either(w, indexed) for w in where)])
    # Through the words index alone: OFFSET 0 keeps the planner from reading the table newest
    # first for the LIMIT, or by the moment, in the hope of meeting matches soon (whether they
    # are common is for the branch below to decide).
    by_index = (
        f"SELECT * FROM (SELECT {alias}.* FROM views.{table} {alias} WHERE {matched} OFFSET 0)"
        f" {alias}{bounded} {ordered}"
    )
    reach = sql.reach.get(table)
    if reach is None or since is not None:
        return by_index
    # A power of two: few distinct statements for the server to plan and keep.
    rows = 1 << max(0, reach - 1).bit_length()
    newest = f"SELECT {alias}.* FROM views.{table} {alias}{bounded} {order_by} LIMIT {rows}"
    tested = " AND ".join([words, *(_either(w, False) for w in where)])
    return (
        f"WITH recent AS MATERIALIZED (SELECT * FROM ({newest}) {alias} WHERE {tested} {ordered}),"
        " found AS (SELECT count(*) AS n FROM recent)"
        f" SELECT * FROM recent WHERE (SELECT n FROM found) = {WINDOW}"
        f" UNION ALL SELECT * FROM ({by_index}) w WHERE (SELECT n FROM found) < {WINDOW}"
    )


def in_country(sql: Params, alias: str, country: str, moment: bool) -> Twofold:
    """The texts of the incidents described in ``country`` now, or at $2 (by their latest
    revision then), which are found once: through their incidents' index, or by a look-up."""
    named = sql(country)
    incidents = f"SELECT i.id FROM views.incidents i WHERE i.country = {named}"
    if moment:
        incidents = (
            "SELECT r.incident_id FROM views.incident_revisions r"
            f" WHERE r.country = {named} AND r.recorded_at <= $2 AND r.position ="
            " (SELECT max(l.position) FROM views.incident_revisions l"
            "  WHERE l.incident_id = r.incident_id AND l.recorded_at <= $2)"
        )
    # (``IS TRUE`` keeps the IN a hashed look-up, not a join that would lose the order read.)
    return Twofold(
        f"{alias}.incident_id = ANY(ARRAY({incidents}))",
        f"({alias}.incident_id IN ({incidents})) IS TRUE",
    )
