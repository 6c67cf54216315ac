"""The Tiotkino reference scenario: reading it, and loading it through the ledger application.

Every entity of the scenario has a fixed id, so loading it again finds what is there and writes
nothing twice; an interrupted load completes on the next run.

Into a ledger that holds nothing learned after the scenario's day (an empty one, or one holding
an interrupted load), every record is written at the moment the scenario says the desk learned
it, so the record as known at any moment of 12 March 2024 tells the story as it unfolded. A
ledger that holds other, later records cannot be given records learned before them (answers
already given about those moments would change): there, the missing records are written now.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Annotated
from uuid import UUID, uuid5

import msgspec

from claimledger.domain.archive import latest_recorded_at
from claimledger.domain.claim import Claim
from claimledger.domain.incident import Incident, IncidentDraft
from claimledger.domain.ledger import Ledger
from claimledger.domain.receipts import StatementRequest
from claimledger.domain.source import Source
from claimledger.domain.statement import StatementDraft
from claimledger.domain.values import (
    Evidence,
    Place,
    SourceKind,
    Stance,
    TimePrecision,
)

DEMO_NAMESPACE = UUID("0f7d3a52-8c61-5b7e-b7c4-2f1e9d6a4c30")

Aware = Annotated[datetime, msgspec.Meta(tz=True)]


class ScenarioSource(msgspec.Struct, forbid_unknown_fields=True):
    key: str
    name: str
    kind: SourceKind
    recorded_at: Aware
    affiliation: str | None = None
    channels: list[str] = []


class ScenarioClaim(msgspec.Struct, forbid_unknown_fields=True):
    key: str
    text: str


class ScenarioIncident(msgspec.Struct, forbid_unknown_fields=True):
    """An incident and its claims, all learned at ``recorded_at``."""

    key: str
    recorded_at: Aware
    title: str
    claims: list[ScenarioClaim]
    place: Place | None = None
    occurred_from: Aware | None = None
    occurred_to: Aware | None = None
    occurred_precision: TimePrecision | None = None
    tags: list[str] = []


class ScenarioStep(msgspec.Struct, forbid_unknown_fields=True):
    incident: str
    claim: str
    source: str
    stance: Stance
    published_at: str
    recorded_at: Aware
    expect: str
    quote: str | None = None
    channel: str | None = None
    via: str | None = None
    evidence: list[Evidence] = []


class Scenario(msgspec.Struct, forbid_unknown_fields=True):
    about: str
    timezone_note: str
    sources: list[ScenarioSource]
    incidents: list[ScenarioIncident]
    steps: list[ScenarioStep]
    final: dict[str, str]

    def source_id(self, key: str) -> UUID:
        return uuid5(DEMO_NAMESPACE, f"source:{key}")

    def incident_id(self, key: str) -> UUID:
        return uuid5(DEMO_NAMESPACE, f"incident:{key}")

    def claim_id(self, incident_key: str, claim_key: str) -> UUID:
        return uuid5(DEMO_NAMESPACE, f"claim:{incident_key}:{claim_key}")

    def step_draft(self, step: ScenarioStep) -> StatementDraft:
        return StatementDraft(
            source_id=self.source_id(step.source),
            stance=step.stance,
            published_at=datetime.fromisoformat(step.published_at),
            quote=step.quote,
            channel=step.channel,
            via_source_id=self.source_id(step.via) if step.via else None,
            evidence=tuple(step.evidence),
        )


def load_scenario() -> Scenario:
    data = resources.files("claimledger.runtime").joinpath("scenarios/tiotkino.json").read_bytes()
    return msgspec.json.decode(data, type=Scenario)


@dataclass(frozen=True, slots=True)
class LoadReport:
    written: int
    already_there: int
    # Whether what was written was written at the scenario's moments (else now).
    at_archive_times: bool = True


def load_demo(ledger: Ledger, *, recorded_by: UUID) -> LoadReport:
    """Load the scenario, writing only what the ledger does not hold yet (see the module for
    when it is written at the scenario's moments)."""
    scenario = load_scenario()
    latest = latest_recorded_at(ledger)
    last_step = max(step.recorded_at for step in scenario.steps)
    archive = latest is None or latest <= last_step

    def moment(recorded_at: datetime) -> datetime | None:
        if not archive:
            return None
        return recorded_at if latest is None else max(recorded_at, latest)

    entities = [
        entity for entity in _entities(scenario, recorded_by, moment) if not ledger.has(entity.id)
    ]
    if entities:
        ledger.create(entities)
    written = len(entities)
    already = len(scenario.sources) + sum(1 + len(i.claims) for i in scenario.incidents) - written
    steps = sorted(enumerate(scenario.steps, start=1), key=lambda pair: pair[1].recorded_at)
    for number, step in steps:
        request = StatementRequest(
            claim_id=scenario.claim_id(step.incident, step.claim),
            draft=scenario.step_draft(step),
            idempotency_key=f"demo:tiotkino:step:{number}",
            recorded_at=moment(step.recorded_at),
        )
        receipt = ledger.record_statement(request, recorded_by=recorded_by)
        if receipt.replayed:
            already += 1
        else:
            written += 1
    return LoadReport(written=written, already_there=already, at_archive_times=archive)


def _entities(
    scenario: Scenario, recorded_by: UUID, moment: Callable[[datetime], datetime | None]
) -> Iterator[Source | Incident | Claim]:
    """Every source, incident and claim of the scenario, unsaved, in the order they were learned."""
    for source in scenario.sources:
        yield Source.register(
            name=source.name,
            kind=source.kind,
            affiliation=source.affiliation,
            channels=tuple(source.channels),
            url=None,
            recorded_by=recorded_by,
            source_id=scenario.source_id(source.key),
            recorded_at=moment(source.recorded_at),
        )
    for incident in scenario.incidents:
        incident_id = scenario.incident_id(incident.key)
        yield Incident.open(
            _incident_draft(incident),
            recorded_by=recorded_by,
            incident_id=incident_id,
            recorded_at=moment(incident.recorded_at),
        )
        for claim in incident.claims:
            yield Claim.add(
                incident_id=incident_id,
                text=claim.text,
                recorded_by=recorded_by,
                claim_id=scenario.claim_id(incident.key, claim.key),
                recorded_at=moment(incident.recorded_at),
            )


def _incident_draft(incident: ScenarioIncident) -> IncidentDraft:
    return IncidentDraft(
        title=incident.title,
        place=incident.place,
        occurred_from=incident.occurred_from,
        occurred_to=incident.occurred_to,
        occurred_precision=incident.occurred_precision,
        tags=tuple(incident.tags),
    )
