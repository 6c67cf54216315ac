"""The write baselines: the eventsourcing application's own save rates, in-process, no HTTP.

``python -m bench.baseline`` with a job (JSON) on standard input: it opens the ledger with
``store.eventstore.open_ledger`` against the run's database, builds ``Statement.record(...)``
aggregates like the corpus's statements (on its claims, by its sources) *before* timing, and then
times ``ledger.save(aggregate)`` one at a time (``kind: single``) or ``ledger.save(*aggregates)``
with 1,000 per call (``kind: batch``), bounded in count and time. It prints one JSON result.
"""

from __future__ import annotations

import gc
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

from bench.client import percentile
from bench.corpus import ExtraStatements, Meta
from bench.jobs import answer_job


def statement_draft(body: dict[str, Any]) -> Any:
    from claimledger.domain.statement import StatementDraft
    from claimledger.domain.values import Evidence, Stance

    return StatementDraft(
        source_id=body["source_id"],
        stance=Stance(body["stance"]),
        published_at=datetime.fromisoformat(body["published_at"].replace("Z", "+00:00")),
        quote=body.get("quote"),
        language=body.get("language"),
        url=body.get("url"),
        channel=body.get("channel"),
        evidence=tuple(Evidence(**e) for e in body.get("evidence", ())),
        credibility=body.get("credibility"),
    )


def aggregates(meta: Meta, count: int, seed: int) -> list[Any]:
    from claimledger.domain.statement import Statement
    from claimledger.runtime.keys import SYSTEM_KEY_ID

    incident_of = {claim.id: claim.incident_id for claim in meta.claims}
    extra = ExtraStatements(meta, seed)
    published = datetime.now(UTC) - timedelta(hours=1)
    recorded_by = SYSTEM_KEY_ID
    made = []
    for _ in range(count):
        body = extra.next(published)
        made.append(
            Statement.record(
                claim_id=body["claim_id"],
                incident_id=incident_of[body["claim_id"]],
                draft=statement_draft(body),
                recorded_by=recorded_by,
            )
        )
    return made


def run(job: dict[str, Any]) -> dict[str, Any]:
    from claimledger.store.eventstore import open_ledger

    meta = msgspec.json.decode(Path(job["meta"]).read_bytes(), type=Meta)
    batch = int(job.get("batch", 1000))
    single = job["kind"] == "single"
    count = int(job["count"]) if single else int(job["batches"]) * batch
    warmup = int(job.get("warmup", 0))
    made = aggregates(meta, count + warmup * (1 if single else batch), int(job["seed"]))
    del meta
    ledger = open_ledger(job["url"], pool_size=2, clock_skew_seconds=300)
    try:
        if single:
            for aggregate in made[:warmup]:
                ledger.save(aggregate)
            calls = [[a] for a in made[warmup:]]
        else:
            for start in range(0, warmup * batch, batch):
                ledger.save(*made[start : start + batch])
            rest = made[warmup * batch :]
            calls = [rest[i : i + batch] for i in range(0, len(rest), batch)]
        gc.collect()
        latencies: list[float] = []
        saved = 0
        budget = float(job["seconds"])
        started = time.perf_counter()
        for call in calls:
            began = time.perf_counter()
            ledger.save(*call)
            done = time.perf_counter()
            latencies.append((done - began) * 1000)
            saved += len(call)
            if done - started > budget:
                break
        elapsed = time.perf_counter() - started
    finally:
        ledger.close()
    return {
        "kind": job["kind"],
        "statements": saved,
        "calls": len(latencies),
        "elapsed_s": elapsed,
        "per_s": saved / elapsed if elapsed > 0 else 0.0,
        "p50_ms": percentile(latencies, 0.5),
        "p99_ms": percentile(latencies, 0.99),
    }


if __name__ == "__main__":
    raise SystemExit(answer_job(run))
