"""The status rule against every `expect` of the Tiotkino scenario, with no I/O."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from uuid import UUID, uuid4

from claimledger.domain.status import StanceRecord, derive_status
from claimledger.domain.values import Stance
from claimledger.runtime.demo import Scenario, load_scenario


def test_every_step_of_the_scenario_gives_its_expected_status() -> None:
    scenario: Scenario = load_scenario()
    names = {s.key: s.name for s in scenario.sources}
    source_ids: dict[str, UUID] = defaultdict(uuid4)
    in_view: dict[str, list[StanceRecord]] = defaultdict(list)
    seen: list[str] = []
    for position, step in enumerate(scenario.steps, start=1):
        in_view[step.claim].append(
            StanceRecord(
                statement_id=uuid4(),
                source_id=source_ids[step.source],
                source_name=names[step.source],
                stance=Stance(step.stance),
                published_at=datetime.fromisoformat(step.published_at),
                position=position,
                evidence_kinds=tuple(e.kind for e in step.evidence),
            )
        )
        seen.append(derive_status(in_view[step.claim]).status.value)
    assert seen == [step.expect for step in scenario.steps]
    finals = {claim: derive_status(records).status.value for claim, records in in_view.items()}
    assert finals == scenario.final


def test_the_confirmed_entry_names_the_denials_against_it() -> None:
    scenario = load_scenario()
    names = {s.key: s.name for s in scenario.sources}
    steps = [step for step in scenario.steps if step.claim == "entered"]
    records = [
        StanceRecord(
            statement_id=uuid4(),
            source_id=uuid4(),
            source_name=names[step.source],
            stance=Stance(step.stance),
            published_at=datetime.fromisoformat(step.published_at),
            position=position,
            evidence_kinds=tuple(e.kind for e in step.evidence),
        )
        for position, step in enumerate(steps, start=1)
    ]
    derived = derive_status(records)
    assert derived.status.value == "confirmed"
    assert derived.reason.endswith(
        "; against it: denied by Federal Security Service of the Russian Federation (FSB),"
        " Ministry of Defence of the Russian Federation"
    )
    denials = [r.statement_id for r in records if r.stance is Stance.DENIES]
    assert derived.opposing_ids == tuple(denials)
