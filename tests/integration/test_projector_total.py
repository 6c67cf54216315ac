"""The projector is total: whatever the write side stores, it applies, and nothing stops it.

Events here are written below the HTTP edge (as an older version, or another writer, could have
stored them): any Unicode, NUL included, and instants anywhere in the calendar, in any offset.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import anyio
import pytest
from eventsourcing.domain import Aggregate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claimledger.domain.claim import Claim, ClaimAdded, ClaimVerdictGiven
from claimledger.domain.incident import Incident, IncidentOpened, IncidentRevised
from claimledger.domain.ledger import Ledger
from claimledger.domain.source import Source, SourceRated, SourceRegistered
from claimledger.domain.statement import Statement, StatementRecorded, StatementWithdrawn
from claimledger.domain.values import (
    Evidence,
    Place,
    PlacePrecision,
    Reliability,
    SourceKind,
    Stance,
    TimePrecision,
    Verdict,
)
from claimledger.projections.decoding import EARLIEST, LATEST, REPLACEMENT, mended
from claimledger.projections.projector import Projector
from claimledger.projections.rebuild import rebuild
from claimledger.projections.tracking import projected_position
from claimledger.runtime.settings import Settings
from claimledger.store.db import Connection, close, connect
from claimledger.store.events import head_position
from tests.conftest import Keys
from tests.helpers import Client, eventually
from tests.integration.test_projector import dump
from tests.ledger_data import WRITER

# Any character a JSON string can carry in UTF-8 (every code point but the surrogates).
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
SOME_TEXT = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40)
OFFSETS = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
# The whole calendar, in any offset: the years 1 and 9999 in some offsets have no UTC form.
INSTANTS = st.datetimes(timezones=OFFSETS)
LATITUDES = st.floats(-90, 90)
LONGITUDES = st.floats(-180, 180)


places = st.builds(
    Place,
    name=TEXT,
    admin1=st.none() | TEXT,
    admin2=st.none() | TEXT,
    country=st.none() | TEXT,
    lat=st.none() | LATITUDES,
    lon=st.none() | LONGITUDES,
    precision=st.none() | st.sampled_from(PlacePrecision),
)
descriptions = st.fixed_dictionaries(
    {
        "title": TEXT,
        "summary": st.none() | TEXT,
        "place": st.none() | places,
        "occurred_from": st.none() | INSTANTS,
        "occurred_to": st.none() | INSTANTS,
        "occurred_precision": st.none() | st.sampled_from(TimePrecision),
        "tags": st.lists(TEXT, max_size=3).map(tuple),
    }
)
evidence = st.builds(
    Evidence,
    kind=TEXT,
    url=st.none() | TEXT,
    description=st.none() | TEXT,
    sha256=st.none() | TEXT,
    lat=st.none() | LATITUDES,
    lon=st.none() | LONGITUDES,
)


def one_of(items: list[Any]) -> st.SearchStrategy[Any]:
    """One of ``items`` (aggregates are not hashable, so they are drawn by index)."""
    return st.integers(0, len(items) - 1).map(items.__getitem__)


def some_of(items: list[Any], *, unique: bool = False) -> st.SearchStrategy[list[Any]]:
    if not items:
        return st.just([])
    indexes = st.lists(st.integers(0, len(items) - 1), max_size=2, unique=unique)
    return indexes.map(lambda chosen: [items[i] for i in chosen])


@st.composite
def ledgers(draw: st.DrawFn) -> list[Aggregate]:
    """A small ledger of every kind of event, each field drawn from its whole range."""
    sources = [
        Source._create(
            SourceRegistered,
            name=draw(TEXT),
            kind=draw(st.sampled_from(SourceKind)),
            affiliation=draw(st.none() | TEXT),
            channels=tuple(draw(st.lists(TEXT, max_size=3))),
            url=draw(st.none() | TEXT),
            recorded_by=WRITER,
        )
        for _ in range(draw(st.integers(1, 3)))
    ]
    for source in draw(some_of(sources)):
        source.trigger_event(
            SourceRated,
            reliability=draw(st.sampled_from(Reliability)),
            rationale=draw(st.none() | TEXT),
            recorded_by=WRITER,
        )
    description: dict[str, Any] = draw(descriptions)
    incident = Incident._create(IncidentOpened, **description, recorded_by=WRITER)
    if draw(st.booleans()):
        incident.trigger_event(IncidentRevised, **draw(descriptions), recorded_by=WRITER)
    claims = [
        Claim._create(ClaimAdded, incident_id=incident.id, text=draw(TEXT), recorded_by=WRITER)
        for _ in range(draw(st.integers(1, 2)))
    ]
    for claim in draw(some_of(claims)):
        claim.trigger_event(
            ClaimVerdictGiven,
            verdict=draw(st.sampled_from(Verdict)),
            rationale=draw(st.none() | TEXT),
            recorded_by=WRITER,
        )
    statements = [
        draw(statements_on(claims, incident, sources)) for _ in range(draw(st.integers(0, 6)))
    ]
    for statement in draw(some_of(statements, unique=True)):
        statement.trigger_event(StatementWithdrawn, reason=draw(TEXT), recorded_by=WRITER)
    return [*sources, incident, *claims, *statements]


@st.composite
def statements_on(
    draw: st.DrawFn, claims: list[Claim], incident: Incident, sources: list[Source]
) -> Statement:
    return Statement._create(
        StatementRecorded,
        claim_id=draw(one_of(claims)).id,
        incident_id=incident.id,
        source_id=draw(one_of(sources)).id,
        stance=draw(st.sampled_from(Stance)),
        published_at=draw(INSTANTS),
        quote=draw(st.none() | TEXT),
        language=draw(st.none() | TEXT),
        url=draw(st.none() | TEXT),
        channel=draw(st.none() | TEXT),
        via_source_id=draw(st.none() | one_of(sources).map(lambda s: s.id)),
        evidence=tuple(draw(st.lists(evidence, max_size=2))),
        credibility=draw(st.none() | st.integers(1, 6)),
        recorded_by=WRITER,
        fingerprint=None,
    )


async def applied_like_a_rebuild(database_url: str) -> None:
    """The projector reaches the head, sets nothing aside, and the views equal a rebuild."""
    connection = await connect(database_url)
    try:
        head = await head_position(connection)
        await Projector(database_url, batch_size=7).catch_up(connection)
        assert await projected_position(connection) == head
        assert await connection.fetchval("SELECT count(*) FROM views.skipped_events") == 0
        incremental = await dump(connection)
        await rebuild(database_url, batch_size=13)
        assert await dump(connection) == incremental
    finally:
        await close(connection)


async def test_the_projector_applies_whatever_the_write_side_stores(
    ledger: Ledger, database_url: str
) -> None:
    @settings(
        max_examples=30,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(ledgers())
    def stored_then_projected(aggregates: list[Aggregate]) -> None:
        ledger.save(*aggregates)
        anyio.run(applied_like_a_rebuild, database_url)

    await anyio.to_thread.run_sync(stored_then_projected)


async def test_nul_and_instants_outside_the_calendar_are_mended_not_refused(
    ledger: Ledger, db: Connection, database_url: str
) -> None:
    source = Source._create(
        SourceRegistered,
        name="x\x00",
        kind=SourceKind.MEDIA,
        affiliation=None,
        channels=("\x00",),
        url=None,
        recorded_by=WRITER,
    )
    incident = Incident._create(
        IncidentOpened,
        title="Raid\x00",
        summary=None,
        place=Place(name="Tyotkino\x00"),
        occurred_from=datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-14))),
        occurred_to=None,
        occurred_precision=None,
        tags=(),
        recorded_by=WRITER,
    )
    claim = Claim._create(ClaimAdded, incident_id=incident.id, text="c\x00", recorded_by=WRITER)
    statement = Statement._create(
        StatementRecorded,
        claim_id=claim.id,
        incident_id=incident.id,
        source_id=source.id,
        stance=Stance.ASSERTS,
        published_at=datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),
        quote="\x00quote",
        language=None,
        url=None,
        channel=None,
        via_source_id=None,
        evidence=(Evidence(kind="video", description="\x00"),),
        credibility=None,
        recorded_by=WRITER,
        fingerprint=None,
    )
    await anyio.to_thread.run_sync(lambda: ledger.save(source, incident, claim, statement))
    await applied_like_a_rebuild(database_url)
    assert await db.fetchval("SELECT name FROM views.sources") == f"x{REPLACEMENT}"
    assert await db.fetchval("SELECT channels FROM views.sources") == [REPLACEMENT]
    row = await db.fetchrow("SELECT title, place, occurred_from FROM views.incidents")
    assert row is not None
    assert row["title"] == f"Raid{REPLACEMENT}"
    assert row["place"]["name"] == f"Tyotkino{REPLACEMENT}"
    assert row["occurred_from"] == LATEST
    row = await db.fetchrow("SELECT quote, published_at, evidence FROM views.statements")
    assert row is not None
    assert row["quote"] == f"{REPLACEMENT}quote"
    assert row["published_at"] == EARLIEST
    assert row["evidence"][0]["description"] == REPLACEMENT
    feed = await db.fetchval("SELECT payload FROM views.outbox WHERE type = 'statement.recorded'")
    assert feed["quote"] == f"{REPLACEMENT}quote"
    assert await db.fetchval("SELECT status FROM views.claims") == "claimed"


async def raw_event(db: Connection, topic: str, state: bytes) -> int:
    """An event stored by some other writer, bypassing the application."""
    position: int = await db.fetchval(
        "INSERT INTO es.claimledger_events (originator_id, originator_version, topic, state)"
        " VALUES ($1, 1, $2, $3) RETURNING notification_id",
        uuid4(),
        topic,
        state,
    )
    return position


async def test_an_event_the_views_cannot_take_is_set_aside_and_the_ledger_goes_on(
    client: Client, keys: Keys, db: Connection
) -> None:
    undecodable = await raw_event(db, "domain.source:SourceRegistered", b'{"name": 5}')
    unknown = await raw_event(db, "domain.nowhere:Nothing", b"{}")
    answer = await client.post(
        "/v1/sources", json={"name": "After", "kind": "media"}, headers=keys.header("editor")
    )
    assert answer.status_code == 201, answer.text
    position = answer.json()["position"]
    read = await client.get("/v1/sources", params={"min_position": str(position)})
    assert read.status_code == 200, read.text
    assert [s["name"] for s in read.json()["items"]] == ["After"]
    skipped = await db.fetch("SELECT position, topic, error FROM views.skipped_events ORDER BY 1")
    assert [(r["position"], r["topic"]) for r in skipped] == [
        (undecodable, "domain.source:SourceRegistered"),
        (unknown, "domain.nowhere:Nothing"),
    ]
    assert "name" in skipped[0]["error"]
    ready = await client.get("/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["skipped_events"] == 2


@pytest.fixture
def quick_to_call_stuck(settings: Settings) -> Settings:
    return replace(settings, stuck_after_seconds=1.0, poll_seconds=0.1)


async def test_a_projector_that_cannot_advance_shows_in_ready_and_resumes(
    quick_to_call_stuck: Settings, keys: Keys, db: Connection
) -> None:
    from litestar.testing import AsyncTestClient

    from claimledger.api.app import create_app

    async with AsyncTestClient(app=create_app(quick_to_call_stuck)) as client:
        await db.execute("ALTER TABLE views.sources RENAME TO sources_away")
        answer = await client.post(
            "/v1/sources", json={"name": "Stuck", "kind": "media"}, headers=keys.header("editor")
        )
        assert answer.status_code == 201, answer.text
        position = answer.json()["position"]

        async def stuck() -> bool:
            ready = await client.get("/ready")
            body = ready.json()
            return (
                ready.status_code == 503 and body["status"] == "stuck" and body["projector_error"]
            )

        await eventually(stuck, what="/ready to say the projector is stuck")
        body = (await client.get("/ready")).json()
        assert body["projected_position"] == position - 1
        assert f"event {position} (domain.source:SourceRegistered" in body["projector_error"]
        assert "sources" in body["projector_error"]
        await db.execute("ALTER TABLE views.sources_away RENAME TO sources")

        async def ready() -> bool:
            return (await client.get("/ready")).status_code == 200

        await eventually(ready, what="the projector to resume")
        read = await client.get("/v1/sources", params={"min_position": str(position)})
        assert [s["name"] for s in read.json()["items"]] == ["Stuck"]
        assert (await client.get("/ready")).json()["projector_error"] is None


def test_an_instant_with_no_utc_form_is_clamped_to_the_calendar() -> None:
    early = b'{"published_at": "0001-01-01T00:00:00+14:00", "quote": "a\\u0000b"}'
    assert mended(early) == (
        b'{"published_at":"0001-01-02T00:00:00+00:00","quote":"a\xef\xbf\xbdb"}'
    )
    late = b'{"occurred_to": "9999-12-31T23:59:59-14:00"}'
    assert mended(late) == b'{"occurred_to":"9999-12-30T00:00:00+00:00"}'
    fine = b'{"occurred_to": "2024-03-12T06:00:00+03:00"}'
    assert mended(fine) == b'{"occurred_to":"2024-03-12T06:00:00+03:00"}'
