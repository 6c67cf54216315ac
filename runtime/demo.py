"""The Tiotkino reference scenario: reading it, and loading it through the ledger application.

Every entity of the scenario has a fixed id, so loading it again finds what is there and writes
nothing twice; an interrupted load completes on the next run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Annotated
from uuid import UUID, uuid5

import msgspec

from claimledger.domain.incident import IncidentDraft
from claimledger.domain.ledger import Ledger
from claimledger.domain.receipts import StatementRequest
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
    affiliation: str | None = None
    channels: list[str] = []


class ScenarioClaim(msgspec.Struct, forbid_unknown_fields=True):
    key: str
    text: str


class ScenarioIncident(msgspec.Struct, forbid_unknown_fields=True):
    key: str
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


def load_demo(ledger: Ledger, *, recorded_by: UUID) -> LoadReport:
    """Load the scenario, writing only what the ledger does not hold yet."""
    scenario = load_scenario()
    written = already = 0

    def ensure(exists: bool) -> bool:
        nonlocal written, already
        if exists:
            already += 1
        else:
            written += 1
        return not exists

    for source in scenario.sources:
        source_id = scenario.source_id(source.key)
        if ensure(ledger.has(source_id)):
            ledger.register_source(
                name=source.name,
                kind=source.kind,
                affiliation=source.affiliation,
                channels=tuple(source.channels),
                url=None,
                recorded_by=recorded_by,
                source_id=source_id,
            )
    for incident in scenario.incidents:
        incident_id = scenario.incident_id(incident.key)
        if ensure(ledger.has(incident_id)):
            ledger.open_incident(
                _incident_draft(incident), recorded_by=recorded_by, incident_id=incident_id
            )
        for claim in incident.claims:
            claim_id = scenario.claim_id(incident.key, claim.key)
            if ensure(ledger.has(claim_id)):
                ledger.add_claim(
                    incident_id, text=claim.text, recorded_by=recorded_by, claim_id=claim_id
                )
    for number, step in enumerate(scenario.steps, start=1):
        request = StatementRequest(
            claim_id=scenario.claim_id(step.incident, step.claim),
            draft=scenario.step_draft(step),
            idempotency_key=f"demo:tiotkino:step:{number}",
        )
        receipt = ledger.record_statement(request, recorded_by=recorded_by)
        ensure(receipt.replayed)
    return LoadReport(written=written, already_there=already)


def _incident_draft(incident: ScenarioIncident) -> IncidentDraft:
    return IncidentDraft(
        title=incident.title,
        place=incident.place,
        occurred_from=incident.occurred_from,
        occurred_to=incident.occurred_to,
        occurred_precision=incident.occurred_precision,
        tags=tuple(incident.tags),
    )
