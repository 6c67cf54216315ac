"""A varied ledger written straight through the application, for projector tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import UUID

from claimledger.domain.incident import IncidentDraft
from claimledger.domain.ledger import Ledger
from claimledger.domain.receipts import StatementRequest
from claimledger.domain.statement import StatementDraft
from claimledger.domain.values import Reliability, SourceKind, Stance, Verdict
from claimledger.runtime.demo import load_demo, load_scenario
from claimledger.runtime.keys import SYSTEM_KEY_ID

WRITER = SYSTEM_KEY_ID


def populate(ledger: Ledger) -> None:
    """The Tiotkino scenario, then every other kind of event: ratings, revisions, verdicts,
    a backdated statement and withdrawals."""
    load_demo(ledger, recorded_by=WRITER)
    scenario = load_scenario()
    svoboda = scenario.source_id("svoboda")
    fsb = scenario.source_id("fsb")
    raid = scenario.incident_id("raid")
    control = scenario.claim_id("raid", "control")
    vehicle = scenario.claim_id("raid", "vehicle")
    ledger.rate_source(
        svoboda, reliability=Reliability.B, rationale="Track record", recorded_by=WRITER
    )
    ledger.revise_incident(
        raid, lambda draft: replace(draft, title="Raid (revised)"), recorded_by=WRITER
    )
    ledger.give_verdict(vehicle, verdict=Verdict.TRUE, rationale="Geolocated", recorded_by=WRITER)
    backdated = ledger.record_statement(
        StatementRequest(
            claim_id=control,
            draft=StatementDraft(
                source_id=svoboda,
                stance=Stance.REFUTES,
                published_at=datetime(2024, 3, 12, 10, 0, tzinfo=UTC),
            ),
        ),
        recorded_by=WRITER,
    )
    mistaken = ledger.record_statement(
        StatementRequest(
            claim_id=vehicle,
            draft=StatementDraft(
                source_id=fsb,
                stance=Stance.DENIES,
                published_at=datetime.now(UTC) - timedelta(days=1),
            ),
        ),
        recorded_by=WRITER,
    )
    ledger.withdraw_statement(mistaken.id, reason="wrong claim", recorded_by=WRITER)
    ledger.withdraw_statement(backdated.id, reason="duplicate", recorded_by=WRITER)


def populate_for_rebuilds(ledger: Ledger) -> None:
    """``populate``, then ``populate_incidents``: a ledger of several incidents to split."""
    populate(ledger)
    populate_incidents(ledger)


def media_source(ledger: Ledger, name: str) -> UUID:
    """A media source of that name, registered by the test writer."""
    return ledger.register_source(
        name=name,
        kind=SourceKind.MEDIA,
        affiliation=None,
        channels=(),
        url=None,
        recorded_by=WRITER,
    ).id


def populate_incidents(ledger: Ledger, count: int = 8) -> None:
    """``count`` more incidents, each with two claims and every kind of event on them, from
    sources shared by all: for rebuilds that split the incidents among workers."""
    sources = [media_source(ledger, f"Source {n}") for n in range(4)]
    ledger.rate_source(sources[0], reliability=Reliability.A, rationale=None, recorded_by=WRITER)
    stances = (Stance.ASSERTS, Stance.DENIES, Stance.CONFIRMS, Stance.REFUTES, Stance.RETRACTS)
    published = datetime.now(UTC) - timedelta(days=2)
    for n in range(count):
        incident = ledger.open_incident(IncidentDraft(title=f"Incident {n}"), recorded_by=WRITER)
        for c in range(2):
            claim_id = ledger.add_claim(incident.id, text=f"Claim {c}", recorded_by=WRITER).id
            said = [
                ledger.record_statement(
                    StatementRequest(
                        claim_id=claim_id,
                        draft=StatementDraft(
                            source_id=sources[(n + s) % len(sources)],
                            stance=stances[(n + c + s) % len(stances)],
                            published_at=published + timedelta(minutes=s),
                        ),
                    ),
                    recorded_by=WRITER,
                ).id
                for s in range(3 + n % 3)
            ]
            if (n + c) % 3 == 0:
                ledger.withdraw_statement(said[0], reason="mistaken", recorded_by=WRITER)
            if (n + c) % 4 == 1:
                ledger.give_verdict(
                    claim_id, verdict=Verdict.FALSE, rationale="checked", recorded_by=WRITER
                )
        ledger.revise_incident(
            incident.id, lambda draft: replace(draft, summary="revised"), recorded_by=WRITER
        )
