"""Read queries over the views: what the API answers, as known now or at a past moment.

``known_at`` limits an answer to what the ledger had recorded by then (withdrawals and revisions
recorded later are not applied); ``published_before`` to what sources had said before then. A
claim's status under either is derived again with the domain's rule from its statements
(``facts``). One module a resource: ``sources``, ``incidents``, ``claims``, ``timelines``;
and one a reading across them: ``changes`` (what an incident learned between two moments),
``record`` (a source's track record), ``search`` (full text), ``exports`` (rows for CSV),
``moments`` (when an incident's record changed) and ``withdrawals`` (their reasons).
"""

from claimledger.projections.queries.facts import load_facts

__all__ = ["load_facts"]
