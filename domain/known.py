"""The ids a ledger knows exist. Aggregates are never deleted, so an id once seen stays valid:
the ledger keeps what it learns (bounded) instead of loading the aggregate again."""

from __future__ import annotations

from uuid import UUID

_KEPT = 200_000


class KnownIds:
    """Claims with their incident, and sources, known to exist."""

    def __init__(self) -> None:
        self._claim_incident: dict[UUID, UUID] = {}
        self._sources: set[UUID] = set()

    def incident_of(self, claim_id: UUID) -> UUID | None:
        return self._claim_incident.get(claim_id)

    def has_source(self, source_id: UUID) -> bool:
        return source_id in self._sources

    def unknown(self, claim_id: UUID, source_ids: set[UUID]) -> tuple[set[UUID], set[UUID]]:
        """Which of a statement's claim and sources are not known to exist (yet)."""
        claims = set() if claim_id in self._claim_incident else {claim_id}
        return claims, {s for s in source_ids if s not in self._sources}

    def remember(self, *, claims: dict[UUID, UUID], sources: set[UUID]) -> None:
        """Learn ids that exist (claim to incident, sources) from a lookup faster than ours."""
        for claim_id, incident_id in claims.items():
            self.claim(claim_id, incident_id)
        for source_id in sources:
            self.source(source_id)

    def claim(self, claim_id: UUID, incident_id: UUID) -> None:
        if len(self._claim_incident) >= _KEPT:
            self._claim_incident.clear()
        self._claim_incident[claim_id] = incident_id

    def source(self, source_id: UUID) -> None:
        if len(self._sources) >= _KEPT:
            self._sources.clear()
        self._sources.add(source_id)
