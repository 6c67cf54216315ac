"""Archives: an import that keeps when things were learned, an export that gives every read back
(as known at any moment), and imports that can be run again."""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import anyio
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from claimledger.api.app import create_app
from claimledger.domain.errors import InvalidInput
from claimledger.domain.incident import IncidentDraft
from claimledger.domain.ledger import Ledger
from claimledger.domain.source import Source
from claimledger.domain.statement import statement_id_for
from claimledger.domain.values import SourceKind
from claimledger.runtime.keys import SYSTEM_KEY_ID
from claimledger.runtime.settings import Settings
from claimledger.store.db import connect
from claimledger.store.events import head_position
from claimledger.store.recorder import keeping_moments
from tests.conftest import Databases
from tests.e2e.processes import environment
from tests.helpers import event_count, import_lines

KEEP = "--keep-recorded-at"
MOMENTS = [
    "2024-03-12T04:03:00Z",
    "2024-03-12T05:30:00Z",
    "2024-03-12T09:15:00Z",
    "2024-03-12T10:30:00Z",
    "2024-03-12T12:30:00Z",
    "2024-03-12T16:00:00Z",
]


@dataclass
class Done:
    code: int
    out: str
    err: str


async def claimledger(*args: str | Path, url: str) -> Done:
    done = await anyio.run_process(
        [sys.executable, "-m", "claimledger.cli", *map(str, args)],
        env=environment(DATABASE_URL=url),
        check=False,
    )
    return Done(done.returncode, done.stdout.decode(), done.stderr.decode())


def ndjson(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(msgspec.json.encode(line) + b"\n" for line in lines))
    return path


@dataclass(frozen=True)
class Ids:
    a: UUID
    b: UUID
    c: UUID
    incident: UUID
    k1: UUID
    k2: UUID
    s2: UUID


def archive() -> tuple[Ids, list[dict[str, Any]]]:
    """Every kind of record, learned over a day: sources, a rating and a re-rating, an incident
    and its revision, claims, verdicts, statements (by key, by id, by content) and withdrawals."""
    ids = Ids(*(uuid4() for _ in range(7)))
    day = "2024-03-12T"

    def at(time: str) -> str:
        return f"{day}{time}:00Z"

    def said(claim: UUID, source: UUID, stance: str, published: str, **more: Any) -> dict[str, Any]:
        return {
            "type": "statement",
            "claim_id": str(claim),
            "source_id": str(source),
            "stance": stance,
            "published_at": at(published),
            **more,
        }

    lines: list[dict[str, Any]] = [
        {"type": "source", "id": str(ids.a), "name": "Group", "kind": "armed_group"},
        {"type": "source", "id": str(ids.b), "name": "Ministry", "kind": "government"},
        {
            "type": "source",
            "id": str(ids.c),
            "name": "Newsroom",
            "kind": "media",
            "url": "https://n.example",
        },
        {
            "type": "incident",
            "id": str(ids.incident),
            "title": "Raid",
            "place": {"name": "Tyotkino", "country": "RU", "lat": 51.27, "lon": 34.3},
            "occurred_from": at("00:00"),
            "occurred_precision": "day",
            "tags": ["raid"],
        },
        {"type": "claim", "id": str(ids.k1), "incident_id": str(ids.incident), "text": "Entered"},
        {"type": "claim", "id": str(ids.k2), "incident_id": str(ids.incident), "text": "Held"},
        said(ids.k1, ids.a, "asserts", "04:30", idempotency_key="s1", quote="We are in"),
        said(ids.k1, ids.b, "denies", "05:00", id=str(ids.s2)),
        said(
            ids.k2,
            ids.c,
            "confirms",
            "06:00",
            evidence=[{"kind": "geolocation", "lat": 51.27, "lon": 34.3}],
            credibility=2,
        ),
        {"type": "source_rating", "source_id": str(ids.c), "reliability": "B"},
        {
            "type": "incident_revision",
            "incident_id": str(ids.incident),
            "title": "Raid (revised)",
            "tags": ["raid", "border"],
        },
        {"type": "verdict", "claim_id": str(ids.k1), "verdict": "mixed", "rationale": "Both"},
        said(ids.k1, ids.a, "retracts", "09:30", idempotency_key="s4"),
        {"type": "withdrawal", "statement_id": str(ids.s2), "reason": "misattributed"},
        {"type": "source_rating", "source_id": str(ids.c), "reliability": "A", "rationale": "Kept"},
        said(ids.k2, ids.b, "asserts", "11:00", via_source_id=str(ids.c), language="ru"),
        {"type": "withdrawal", "idempotency_key": "s4", "reason": "duplicate"},
        {"type": "verdict", "claim_id": str(ids.k2), "verdict": "true"},
    ]
    learned = ["04:00", "04:00", "04:01", "04:05", "04:05", "04:06", "04:40", "05:10", "06:05"]
    learned += ["07:00", "08:00", "09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00"]
    return ids, [line | {"recorded_at": at(t)} for line, t in zip(lines, learned, strict=True)]


def paths(ids: Ids) -> list[str]:
    return [
        "/v1/sources",
        *(f"/v1/sources/{s}" for s in (ids.a, ids.b, ids.c)),
        "/v1/incidents",
        f"/v1/incidents/{ids.incident}",
        f"/v1/incidents/{ids.incident}/timeline",
        *(f"/v1/claims/{k}" for k in (ids.k1, ids.k2)),
        *(f"/v1/claims/{k}/history" for k in (ids.k1, ids.k2)),
        "/v1/timeline",
    ]


async def reads(settings: Settings, ids: Ids) -> dict[tuple[str, str], tuple[int, Any]]:
    """Every read of these records, now and as known at each moment."""
    connection = await connect(settings.require_database_url)
    try:
        head = await head_position(connection)
    finally:
        await connection.close()
    answers = {}
    async with AsyncTestClient(app=create_app(settings)) as client:
        for path in paths(ids):
            for moment in [*MOMENTS, ""]:
                params = {"min_position": str(head)} | ({"known_at": moment} if moment else {})
                response = await client.get(path, params=params)
                answers[path, moment] = (response.status_code, response.json())
    return answers


async def test_an_export_imported_into_an_empty_ledger_gives_every_read_back(
    settings: Settings, databases: Databases, tmp_path: Path
) -> None:
    ids, lines = archive()
    first = settings.require_database_url
    imported = await claimledger(
        "import", "--keep-recorded-at", str(ndjson(tmp_path / "archive.ndjson", lines)), url=first
    )
    assert imported.code == 0, imported.err
    assert "imported 18 records" in imported.out
    exported = await claimledger("export", str(tmp_path / "first.ndjson"), url=first)
    assert exported.code == 0, exported.err
    assert "exported 18 records" in exported.out

    second = await databases.fresh()
    again = await claimledger(
        "import", "--keep-recorded-at", str(tmp_path / "first.ndjson"), url=second
    )
    assert again.code == 0, again.err
    assert (await claimledger("export", str(tmp_path / "second.ndjson"), url=second)).code == 0
    assert (tmp_path / "second.ndjson").read_bytes() == (tmp_path / "first.ndjson").read_bytes()

    before = await reads(settings, ids)
    after = await reads(replace(settings, database_url=second), ids)
    assert after == before
    # The comparison is of answers that tell the day apart.
    entered = f"/v1/claims/{ids.k1}"
    assert [before[entered, m][1]["status"] for m in MOMENTS[1:5]] == [
        "disputed",
        "disputed",
        "denied",
        "retracted",
    ]
    assert before[entered, MOMENTS[0]][0] == 404
    assert before[f"/v1/sources/{ids.c}", MOMENTS[2]][1]["reliability"] == "B"
    assert before[f"/v1/sources/{ids.c}", ""][1]["reliability"] == "A"
    assert before[f"/v1/incidents/{ids.incident}", MOMENTS[2]][1]["title"] == "Raid (revised)"
    assert len(before["/v1/timeline", ""][1]["items"]) == 5


async def test_running_an_import_again_skips_what_is_recorded(
    database_url: str, tmp_path: Path
) -> None:
    ids, lines = archive()
    file = ndjson(tmp_path / "archive.ndjson", lines)
    assert (
        await claimledger("import", "--keep-recorded-at", str(file), url=database_url)
    ).code == 0
    events = await event_count(database_url)
    again = await claimledger("import", "--keep-recorded-at", str(file), url=database_url)
    assert again.code == 0, again.err
    assert "imported 0 records, skipped 18 already recorded" in again.out
    figures = await claimledger(
        "import", "--keep-recorded-at", "--json", str(file), url=database_url
    )
    assert msgspec.json.decode(figures.out)["new"] == 0
    assert msgspec.json.decode(figures.out)["skipped"] == 18
    assert await event_count(database_url) == events

    # Without the moments: the same content, learned now, is new only where it is new.
    plain = [{k: v for k, v in line.items() if k != "recorded_at"} for line in lines]
    plain.append({"type": "source_rating", "source_id": str(ids.c), "reliability": "B"})
    rerun = await claimledger(
        "import", str(ndjson(tmp_path / "plain.ndjson", plain)), url=database_url
    )
    assert rerun.code == 0, rerun.err
    assert "imported 1 record (1 source rating), skipped 18" in rerun.out

    changed = [dict(line) for line in lines]
    changed[4]["text"] = "Entered, and stayed"
    refused = await claimledger(
        "import",
        "--keep-recorded-at",
        str(ndjson(tmp_path / "changed.ndjson", changed)),
        url=database_url,
    )
    assert refused.code == 1
    assert refused.err.count("\n") == 1
    assert f"line 5: claim {ids.k1} exists already with other content (text differ" in refused.err
    assert refused.err.rstrip().endswith("nothing was saved")

    rekeyed = [dict(line) for line in lines]
    rekeyed[6]["quote"] = "We are not in"
    file = ndjson(tmp_path / "rekeyed.ndjson", rekeyed)
    reused = await claimledger("import", "--keep-recorded-at", file, url=database_url)
    assert reused.code == 1
    key_id = statement_id_for("s1")
    assert (
        f"line 7: statement {key_id} (idempotency_key 's1') exists already with other content"
        " (quote differ)"
    ) in reused.err
    assert await event_count(database_url) == events + 1


async def test_a_bad_line_after_saved_batches_then_the_fixed_file_completes(
    database_url: str, tmp_path: Path
) -> None:
    lines = import_lines(1500, quote="report {n}")
    broken = [*lines[:1200], {**lines[1200], "stance": "maybe"}, *lines[1201:]]
    failed = await claimledger(
        "import", str(ndjson(tmp_path / "a.ndjson", broken)), url=database_url
    )
    assert failed.code == 1
    assert failed.err.count("\n") == 1, failed.err
    assert failed.err.startswith("import stopped at line 1201: ")
    assert "lines 1-1003 are saved (1003 new, 0 already recorded)" in failed.err
    assert await event_count(database_url) == 1003

    fixed = await claimledger("import", str(ndjson(tmp_path / "a.ndjson", lines)), url=database_url)
    assert fixed.code == 0, fixed.err
    assert "imported 500 records (500 statements), skipped 1003 already recorded" in fixed.out
    assert await event_count(database_url) == 1503


async def test_kept_moments_must_be_in_order_past_and_after_the_ledgers_latest(
    database_url: str, tmp_path: Path
) -> None:
    _, lines = archive()
    file = ndjson(tmp_path / "archive.ndjson", lines)
    assert (await claimledger("import", KEEP, file, url=database_url)).code == 0
    events = await event_count(database_url)
    source = {"type": "source", "name": "Late", "kind": "osint"}
    cases = [
        (
            [source | {"recorded_at": "2024-03-12T14:00:00Z"}],
            "line 1: recorded_at 2024-03-12T14:00:00+00:00 is before"
            " 2024-03-12T15:00:00+00:00, the latest moment",
        ),
        (
            [source | {"recorded_at": "2099-01-01T00:00:00Z"}],
            "line 1: recorded_at 2099-01-01T00:00:00+00:00 is in the future",
        ),
        ([source], "line 1: recorded_at is missing"),
        (
            [
                source | {"recorded_at": "2024-03-13T10:00:00Z"},
                source | {"name": "Earlier", "recorded_at": "2024-03-13T09:00:00Z"},
            ],
            "line 2: recorded_at 2024-03-13T09:00:00+00:00 is before line 1's",
        ),
    ]
    for n, (bad, sentence) in enumerate(cases):
        done = await claimledger(
            "import",
            "--keep-recorded-at",
            str(ndjson(tmp_path / f"{n}.ndjson", bad)),
            url=database_url,
        )
        assert done.code == 1, (bad, done.out)
        assert sentence in done.err, done.err
        assert done.err.count("\n") == 1
    kept = [source | {"recorded_at": "2024-03-13T10:00:00Z"}]
    without_flag = await claimledger(
        "import", str(ndjson(tmp_path / "k.ndjson", kept)), url=database_url
    )
    assert without_flag.code == 1
    assert "recorded_at and recorded_by are kept only with --keep-recorded-at" in without_flag.err
    assert await event_count(database_url) == events
    later = await claimledger(
        "import", "--keep-recorded-at", str(tmp_path / "k.ndjson"), url=database_url
    )
    assert later.code == 0, later.err
    assert await event_count(database_url) == events + 1


async def test_a_kept_moment_before_the_newest_is_refused_under_the_tables_lock(
    ledger: Ledger,
) -> None:
    def scenario() -> None:
        # What a writer beside the import does between the import's check and its save.
        ledger.open_incident(IncidentDraft(title="Now"), recorded_by=SYSTEM_KEY_ID)
        late = Source.register(
            name="Late",
            kind=SourceKind.OSINT,
            affiliation=None,
            channels=(),
            url=None,
            recorded_by=SYSTEM_KEY_ID,
            recorded_at=datetime(2024, 3, 12, 12, tzinfo=UTC),
        )
        with pytest.raises(InvalidInput, match=r"before .* the latest moment"), keeping_moments():
            ledger.create([late])
        assert not ledger.has(late.id)

    await anyio.to_thread.run_sync(scenario)


async def test_identical_lines_without_ids_are_records_of_their_own_once(
    database_url: str, tmp_path: Path
) -> None:
    source = {"type": "source", "name": "Observers", "kind": "osint"}
    incident = {"type": "incident", "id": str(uuid4()), "title": "Shelling"}
    claim = {"type": "claim", "id": str(uuid4()), "incident_id": incident["id"], "text": "It"}
    file = tmp_path / "same.ndjson"
    ndjson(file, [source, incident, claim])
    assert (await claimledger("import", file, url=database_url)).code == 0
    (source_id,) = [
        line["id"]
        for line in map(msgspec.json.decode, await exported_lines(database_url, tmp_path))
        if line["type"] == "source"
    ]
    said = {
        "type": "statement",
        "claim_id": claim["id"],
        "source_id": source_id,
        "stance": "asserts",
        "published_at": "2024-03-12T10:00:00Z",
    }
    ndjson(file, [source, incident, claim, said, said, said])
    first = await claimledger("import", file, url=database_url)
    assert "imported 3 records (3 statements), skipped 3" in first.out, first.err
    again = await claimledger("import", file, url=database_url)
    assert "imported 0 records, skipped 6" in again.out, again.err
    ndjson(file, [source, incident, claim, said, said, said, said])
    more = await claimledger("import", file, url=database_url)
    assert "imported 1 record (1 statement), skipped 6" in more.out, more.err


async def exported_lines(url: str, tmp_path: Path) -> list[bytes]:
    assert (await claimledger("export", tmp_path / "export.ndjson", url=url)).code == 0
    return (tmp_path / "export.ndjson").read_bytes().splitlines()
