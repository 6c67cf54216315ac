"""The incident headline rule: which of its claims' statuses an incident is shown with."""

from __future__ import annotations

from collections.abc import Mapping

from claimledger.domain.values import Status

# An incident's headline is the first of these that any of its claims holds: contention and
# verification first, then one-sided claims.
HEADLINE_ORDER = (
    Status.CONTESTED,
    Status.DISPUTED,
    Status.REFUTED,
    Status.CONFIRMED,
    Status.DENIED,
    Status.CLAIMED,
    Status.RETRACTED,
    Status.UNVERIFIED,
)


def headline(counts: Mapping[str, int]) -> Status:
    """The headline of an incident whose claims hold these statuses (how many hold each)."""
    return next((s for s in HEADLINE_ORDER if counts.get(s, 0) > 0), Status.UNVERIFIED)
