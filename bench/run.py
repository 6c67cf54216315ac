"""The benchmark run: corpus, fresh database, servers, every figure and its baseline, results.

The order of the phases (each bounded in count and time):

1. generate (or reuse) the corpus; create a fresh database and migrate it; make an admin key;
2. ``claimledger serve --role api`` (no projector): import the entities, grade the sources over
   HTTP, measure the in-process batched save, import the statements (timed: *batch import*),
   import the withdrawals, send batches over HTTP, measure the in-process batched save again;
3. ``claimledger serve`` (all roles): time its projector catching up from position 0 to the head
   (*projector catch-up*); read its RSS; stop it;
4. ``claimledger rebuild`` with no server running (*rebuild*); then, still with none, the
   transparency log's tree built from position 0 in a process of its own (*log catch-up*);
5. ``claimledger serve`` again, ``VACUUM ANALYZE`` (the state autovacuum reaches by itself soon
   after a bulk load), then: in-process single saves, single statements over HTTP, in-process
   single saves again; the bare lookup app and the read routes (an inclusion proof among them)
   at concurrency 32, the bare app again; write → visible; write → webhook; the server's RSS;
6. stop everything, drop the database, write ``results.json`` and print the table.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import msgspec
import psycopg

from bench.corpus import DEFAULT_SEED, SCALES, Corpus, CorpusScale, ExtraStatements, rfc3339
from bench.logtree import inclusion_requests
from bench.processes import (
    ROOT,
    BenchError,
    Server,
    bare_argv,
    cli,
    cli_json,
    free_port,
    fresh_database,
    postgres_server,
    run_module,
    serve_argv,
)
from bench.report import markdown

CONCURRENCY = 32


@dataclass(frozen=True, slots=True)
class Plan:
    """How long and how much each phase measures, per scale."""

    corpus: CorpusScale
    seconds: float  # each closed-loop measurement
    warmup: float  # before each closed-loop measurement, not counted
    batch_baseline_batches: int  # in-process batches of 1,000, each of the two times
    http_batches: int  # POST /v1/statements:batch requests of 1,000
    single_count: int  # upper bound of single saves / single POSTs per measurement
    read_targets: int  # distinct ids (and moments) each read route cycles through
    visible_samples: int
    webhook_samples: int
    catch_up_window: float  # at most this long measuring the projector's catch-up
    catch_up_timeout: float
    import_timeout: float

    @property
    def name(self) -> str:
        return self.corpus.name


PLANS = {
    "quick": Plan(
        SCALES["quick"],
        seconds=3.0,
        warmup=1.0,
        batch_baseline_batches=5,
        http_batches=5,
        single_count=3_000,
        read_targets=2_000,
        visible_samples=200,
        webhook_samples=100,
        catch_up_window=15,
        catch_up_timeout=300,
        import_timeout=600,
    ),
    "medium": Plan(
        SCALES["medium"],
        seconds=5.0,
        warmup=1.0,
        batch_baseline_batches=10,
        http_batches=10,
        single_count=10_000,
        read_targets=10_000,
        visible_samples=300,
        webhook_samples=200,
        catch_up_window=60,
        catch_up_timeout=900,
        import_timeout=1200,
    ),
    "full": Plan(
        SCALES["full"],
        seconds=10.0,
        warmup=2.0,
        batch_baseline_batches=20,
        http_batches=20,
        single_count=20_000,
        read_targets=20_000,
        visible_samples=500,
        webhook_samples=300,
        catch_up_window=180,
        catch_up_timeout=1800,
        import_timeout=1800,
    ),
}


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


@contextmanager
def phase(name: str, timings: dict[str, float]) -> Iterator[None]:
    say(f"{name} ...")
    started = time.monotonic()
    try:
        yield
    finally:
        timings[name] = round(time.monotonic() - started, 2)
        say(f"{name}: {timings[name]:.1f} s")


class Run:
    def __init__(self, plan: Plan, *, seed: int, work: Path, corpus: Corpus) -> None:
        self.plan = plan
        self.seed = seed
        self.work = work
        self.corpus = corpus
        self.meta_path = str(corpus.directory / "meta.json")
        self.results: dict[str, Any] = {}
        self.timings: dict[str, float] = {}
        self.url = ""
        self.key = ""
        self.rng = random.Random(seed + 1)
        self.env = dict(os.environ, CLAIMLEDGER_WEBHOOK_ALLOW_PRIVATE="true")
        self.env.pop("DATABASE_URL", None)
        self.rss_samples: dict[str, dict[str, int]] = {}
        self.entities_head = 0

    # -- helpers --------------------------------------------------------------------------------

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url, autocommit=True, connect_timeout=10) as connection:
            cursor = connection.execute(query, params or None)
            return cursor.fetchall() if cursor.description else []

    def scalar(self, query: str, *params: Any) -> Any:
        rows = self.sql(query, *params)
        return rows[0][0] if rows else None

    def requests_file(self, name: str, requests: list[tuple[str, str, Any]]) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        path = self.work / f"{slug}.requests.ndjson"
        encode = msgspec.json.Encoder().encode
        with path.open("wb") as out:
            out.writelines(encode(list(request)) + b"\n" for request in requests)
        return str(path)

    def closed(
        self,
        port: int,
        name: str,
        requests: list[tuple[str, str, Any]],
        *,
        concurrency: int,
        seconds: float,
        warmup: float = 0.0,
        max_requests: int | None = None,
        expect: tuple[int, ...] = (200, 201),
        auth: bool = True,
    ) -> dict[str, Any]:
        job: dict[str, Any] = {
            "kind": "closed",
            "port": port,
            "requests_file": self.requests_file(name, requests),
            "concurrency": concurrency,
            "duration": seconds,
            "warmup": warmup,
            "expect": list(expect),
            "headers": {"Authorization": f"Bearer {self.key}"} if auth else {},
        }
        if max_requests is not None:
            job["max_requests"] = max_requests
        result = run_module("bench.client", job, timeout=seconds + warmup + 120)
        say(
            f"  {name}: {result['count']} ok, {result['errors']} errors, {result['rps']:,.0f}/s,"
            f" p50 {result['p50_ms'] or 0:.2f} ms, p99 {result['p99_ms'] or 0:.2f} ms,"
            f" client CPU {result.get('client_cpu_share') or 0:.0%}"
        )
        if result["errors"]:
            say(f"  {name}: first error: {result['first_error']}")
        return result

    def extra_bodies(self, count: int, seed: int) -> list[dict[str, Any]]:
        extra = ExtraStatements(self.corpus.meta, seed)
        published = datetime.now(UTC) - timedelta(hours=1)
        bodies = []
        for _ in range(count):
            body = extra.next(published)
            del body["type"]
            bodies.append(body)
        return bodies

    def statement_posts(self, count: int, seed: int) -> list[tuple[str, str, Any]]:
        posts = []
        for body in self.extra_bodies(count, seed):
            claim_id = body.pop("claim_id")
            posts.append(("POST", f"/v1/claims/{claim_id}/statements", body))
        return posts

    def baseline(self, kind: str, **job: Any) -> dict[str, Any]:
        job.update(kind=kind, url=self.url, meta=self.meta_path)
        result = run_module("bench.baseline", job, timeout=float(job["seconds"]) + 300)
        say(
            f"  in-process {kind} save: {result['statements']} statements,"
            f" {result['per_s']:,.0f}/s (p50 {result['p50_ms']:.2f} ms per call)"
        )
        return result

    def serve(self, name: str, port: int, role: str = "all") -> Server:
        server = Server(name, serve_argv(self.url, port, role), env=self.env, log_dir=self.work)
        server.start()
        return server

    def rss(self, label: str, server: Server) -> None:
        status = server.status()
        self.rss_samples[label] = status
        say(
            f"  RSS of {server.name} ({label}): {status.get('VmRSS', 0) / 1024:.1f} MB"
            f" in {status.get('processes', 0)} processes"
            + "".join(
                f", {name.removeprefix('VmRSS ')} {kb / 1024:.1f}"
                for name, kb in status.items()
                if name.startswith("VmRSS ")
            )
        )

    # -- phases ---------------------------------------------------------------------------------

    def prepare(self) -> None:
        cli(["migrate", "--database-url", self.url], timeout=120, env=self.env)
        made = cli_json(
            ["keys", "create", "--role", "admin", "--name", "bench", "--database-url", self.url],
            timeout=120,
            env=self.env,
        )
        self.key = str(made["secret"])

    def load(self, stack: ExitStack) -> None:
        """Phase 2: the corpus through the import path, with the write baselines around it."""
        plan = self.plan
        port = free_port()
        api = self.serve("serve-api", port, role="api")
        stack.callback(api.stop)
        api.wait_healthy(port)
        cli(
            ["import", str(self.corpus.entities), "--database-url", self.url],
            timeout=plan.import_timeout,
            env=self.env,
        )
        ratings = [
            ("POST", f"/v1/sources/{s.id}/ratings", {"reliability": s.grade})
            for s in self.corpus.meta.sources
        ]
        self.closed(
            port, "grade sources", ratings, concurrency=4, seconds=120, max_requests=len(ratings)
        )
        self.entities_head = self.head()
        batch_job = {
            "batches": plan.batch_baseline_batches,
            "seconds": plan.seconds * 3,
            "warmup": 1,
        }
        before = self.baseline("batch", seed=self.seed + 10, **batch_job)
        began = time.monotonic()
        imported = cli_json(
            ["import", str(self.corpus.statements), "--database-url", self.url],
            timeout=plan.import_timeout,
            env=self.env,
        )
        statements, seconds = int(imported["records"]), float(imported["seconds"])
        self.results["batch_import_wall_s"] = time.monotonic() - began
        say(f"  imported {statements} statements in {seconds:.1f} s")
        cli(
            ["import", str(self.corpus.withdrawals), "--database-url", self.url],
            timeout=plan.import_timeout,
            env=self.env,
        )

        batches = []
        for index in range(plan.http_batches):
            items = self.extra_bodies(1000, self.seed + 100 + index)
            batches.append(("POST", "/v1/statements:batch", {"statements": items}))
        http = self.closed(
            port,
            "POST /v1/statements:batch",
            batches,
            concurrency=1,
            seconds=plan.seconds * 5,
            max_requests=len(batches),
        )
        after = self.baseline("batch", seed=self.seed + 11, **batch_job)
        self.single_api_only(port)
        self.rss("after the import, API only", api)
        api.stop()

        baseline = (before["per_s"] + after["per_s"]) / 2
        r = self.results
        r["in_process_batch_save_per_s"] = baseline
        r["in_process_batch_save_runs_per_s"] = [before["per_s"], after["per_s"]]
        r["batch_per_s"] = statements / seconds
        r["batch_ratio"] = r["batch_per_s"] / baseline
        r["batch_import_s"] = seconds
        http_rate = http["count"] * 1000 / http["elapsed_s"] if http["elapsed_s"] else None
        r["batch_http_per_s"] = http_rate
        r["batch_http_ratio"] = http_rate / baseline if http_rate else None
        r["batch_http_p50_ms"] = http["p50_ms"]

    def catch_up(self) -> None:
        """Phase 3: a fresh ``serve`` projects the ledger from position 0.

        The rate is taken over the statement part of the ledger: from the first look at the
        projector's position past the entities (sources, incidents, claims, ratings) to the head,
        or to the end of the plan's window, whichever comes first (the rebuild that follows
        projects everything in any case).
        """
        head = self.head()
        port = free_port()
        server = self.serve("serve-catch-up", port)
        started = time.monotonic()
        first: tuple[float, int] | None = None
        position = 0
        deadline = started + self.plan.catch_up_timeout
        window_end: float | None = None
        try:
            with psycopg.connect(self.url, autocommit=True, connect_timeout=10) as connection:
                while position < head:
                    now = time.monotonic()
                    if now > deadline:
                        raise BenchError(f"the projector reached {position} of {head} in time")
                    if window_end is not None and now > window_end:
                        break
                    if server.process is not None and server.process.poll() is not None:
                        raise BenchError(f"serve exited:\n{server.log_tail()}")
                    row = connection.execute(
                        "SELECT position FROM views.tracking WHERE projection = 'views'"
                    ).fetchone()
                    position = int(row[0]) if row else 0
                    now = time.monotonic()
                    if first is None and position >= self.entities_head:
                        first = (now, position)
                        window_end = now + self.plan.catch_up_window
                    if position < head:
                        time.sleep(0.05)
                finished = time.monotonic()
            self.rss("after projecting the corpus", server)
        finally:
            server.stop()
        r = self.results
        r["projector_events"] = head
        r["projector_caught_up"] = position >= head
        if first is None or finished - first[0] < 0.5:
            # Caught up before a second look: count from the start of the process.
            first = (started, 0)
        r["projector_events_measured"] = position - first[1]
        r["projector_events_per_s"] = (position - first[1]) / (finished - first[0])
        r["projector_measured_s"] = finished - first[0]
        say(
            f"  projector: {position - first[1]} events in {finished - first[0]:.1f} s,"
            f" {r['projector_events_per_s']:,.0f} events/s"
            + ("" if position >= head else f" (stopped at {position} of {head})")
        )

    def peer(self) -> None:
        """The eventsourcing library's ``ProjectionRunner`` on the same ledger (``bench.peer``),
        for as long as the projector's catch-up was timed at most."""
        seconds = max(10.0, min(float(self.results["projector_measured_s"]), 120.0))
        job = {"url": self.url, "head": self.head(), "seconds": seconds}
        result = run_module("bench.peer", job, timeout=seconds + 120)
        r = self.results
        r["projector_peer_events_per_s"] = result["events_per_s"]
        r["projector_peer_events"] = result["events"]
        r["projector_peer_ratio"] = r["projector_events_per_s"] / result["events_per_s"]
        say(
            f"  the library's ProjectionRunner: {result['events']} events in"
            f" {result['seconds']:.1f} s, {result['events_per_s']:,.0f} events/s"
            f" (the projector: {r['projector_peer_ratio']:.1f} x)"
        )

    def head(self) -> int:
        return int(
            self.scalar("SELECT coalesce(max(notification_id), 0) FROM es.claimledger_events")
        )

    def rebuild(self) -> None:
        """Phase 4: ``claimledger rebuild`` with nothing else running."""
        began = time.monotonic()
        rebuilt = cli_json(
            ["rebuild", "--database-url", self.url],
            timeout=self.plan.catch_up_timeout,
            env=self.env,
        )
        wall = time.monotonic() - began
        events, seconds = int(rebuilt["events"]), float(rebuilt["seconds"])
        r = self.results
        r["rebuild_s"] = seconds
        r["rebuild_wall_s"] = wall
        r["rebuild_events"] = events
        r["rebuild_events_per_s"] = events / seconds if seconds else None
        say(f"  rebuild: {events} events in {seconds:.1f} s ({wall:.1f} s with start-up)")

    def log_catch_up(self) -> None:
        """Phase 4, continued: the log's tree from position 0, with no server running (emptied
        first if a ``serve`` grew it); compared with the projector's catch-up of this run."""
        built = run_module("bench.logtree", {"url": self.url}, timeout=self.plan.catch_up_timeout)
        r = self.results
        rate, projector = built["events_per_s"], r.get("projector_events_per_s")
        r["log_catch_up_events_per_s"] = rate
        r["log_catch_up_events"] = built["events"]
        r["log_catch_up_s"] = built["seconds"]
        r["log_catch_up_emptied_leaves"] = built["emptied"]
        r["log_catch_up_ratio"] = rate / projector if rate and projector else None
        say(
            f"  log catch-up: {built['events']} leaves in {built['seconds']:.1f} s,"
            f" {rate or 0:,.0f} events/s (emptied {built['emptied']} leaves first)"
        )

    def serving(self, stack: ExitStack) -> None:
        """Phase 5: writes, reads and freshness against ``claimledger serve``."""
        port = free_port()
        server = self.serve("serve", port)
        stack.callback(server.stop)
        server.wait_healthy(port)
        self.sql(
            "VACUUM (ANALYZE) es.claimledger_events, views.sources, views.source_ratings,"
            " views.incidents, views.incident_revisions, views.claims, views.claim_verdicts,"
            " views.statements, views.claim_history, views.outbox, transparency.leaves,"
            " transparency.nodes"
        )
        self.single(port)
        self.reads(port, stack)
        self.freshness(port)
        self.rss("at the end", server)

    def single_api_only(self, port: int) -> None:
        """Single statements against ``serve --role api``: the write path without a projector
        sharing the process (for comparison with the figure against ``serve``)."""
        plan = self.plan
        job = {"count": plan.single_count, "seconds": plan.seconds, "warmup": 50}
        baseline = self.baseline("single", seed=self.seed + 12, **job)
        http = self.closed(
            port,
            "POST /v1/claims/{id}/statements (API only)",
            self.statement_posts(plan.single_count, self.seed + 13),
            concurrency=1,
            seconds=plan.seconds,
            warmup=plan.warmup,
            max_requests=plan.single_count,
        )
        r = self.results
        r["in_process_single_save_api_only_per_s"] = baseline["per_s"]
        r["single_append_api_only_per_s"] = http["rps"]
        r["single_append_api_only_p50_ms"] = http["p50_ms"]
        r["single_append_api_only_p99_ms"] = http["p99_ms"]
        r["single_append_api_only_ratio"] = http["rps"] / baseline["per_s"]

    def single(self, port: int) -> None:
        plan = self.plan
        job = {"count": plan.single_count, "seconds": plan.seconds, "warmup": 50}
        before = self.baseline("single", seed=self.seed + 20, **job)
        posts = self.statement_posts(plan.single_count, self.seed + 21)
        http = self.closed(
            port,
            "POST /v1/claims/{id}/statements",
            posts,
            concurrency=1,
            seconds=plan.seconds,
            warmup=plan.warmup,
            max_requests=plan.single_count,
        )
        wide = self.closed(
            port,
            "POST /v1/claims/{id}/statements, 8 at once",
            posts,
            concurrency=8,
            seconds=plan.seconds,
            warmup=plan.warmup,
            max_requests=plan.single_count,
        )
        after = self.baseline("single", seed=self.seed + 22, **job)
        baseline = (before["per_s"] + after["per_s"]) / 2
        r = self.results
        r["in_process_single_save_per_s"] = baseline
        r["in_process_single_save_runs_per_s"] = [before["per_s"], after["per_s"]]
        r["in_process_single_save_p50_ms"] = before["p50_ms"]
        r["single_append_per_s"] = http["rps"]
        r["single_append_p50_ms"] = http["p50_ms"]
        r["single_append_p99_ms"] = http["p99_ms"]
        r["single_append_ratio"] = http["rps"] / baseline
        r["single_append_errors"] = http["errors"]
        r["single_append_c8_per_s"] = wide["rps"]
        r["single_append_c8_p50_ms"] = wide["p50_ms"]
        r["single_append_c8_p99_ms"] = wide["p99_ms"]
        r["single_append_c8_ratio"] = wide["rps"] / baseline

    def moments(self, count: int) -> list[str]:
        """Instants spread over the time the corpus was being recorded."""
        shares = [0.1 + 0.89 * i / max(1, count - 1) for i in range(count)]
        rows = self.sql(
            "SELECT unnest(percentile_disc(%s::float8[]) WITHIN GROUP (ORDER BY recorded_at))"
            " FROM views.statements",
            shares,
        )
        return [row[0].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") for row in rows]

    def searches(self, count: int, moments: list[str]) -> list[tuple[str, str, Any]]:
        """Searches as a desk types them: mostly a place's name (alone, with a word of the
        incident's title, or in another case), some a common word of the quotes, a quarter as
        known at a past moment."""
        rng = self.rng
        places = [
            row[0]
            for row in self.sql(
                "SELECT place ->> 'name' FROM views.incidents WHERE place IS NOT NULL"
                " ORDER BY position LIMIT 2000"
            )
        ]
        common = ("explosions", "satellite imagery", "footage geolocated", "ministry losses")
        requests = []
        for _ in range(count):
            place = rng.choice(places)
            q = rng.choice((place, place, place.lower(), f"shelling {place}", f"{place} or drone"))
            if rng.random() < 0.1:
                q = rng.choice(common)
            params = {"q": q, "limit": "20"}
            if rng.random() < 0.25:
                params["known_at"] = rng.choice(moments)
            requests.append(("GET", f"/v1/search?{urlencode(params)}", None))
        return requests

    def reads(self, port: int, stack: ExitStack) -> None:
        plan = self.plan
        bare_port = free_port()
        bare = Server("bare", bare_argv(self.url, bare_port), env=self.env, log_dir=self.work)
        bare.start()
        stack.callback(bare.stop)
        bare.wait_healthy(bare_port)
        meta = self.corpus.meta
        rng = self.rng
        claims = [c.id for c in rng.choices(meta.claims, k=plan.read_targets)]
        incidents = rng.choices(meta.incidents, k=plan.read_targets)
        moments = self.moments(64)
        # Proofs against the tree as it is now (serve's log worker may grow it meanwhile).
        tree_size = int(self.scalar("SELECT size FROM transparency.tree"))
        self.results["log_tree_size_read"] = tree_size
        routes: dict[str, list[tuple[str, str, Any]]] = {
            "timeline": [("GET", f"/v1/incidents/{i}/timeline?limit=20", None) for i in incidents],
            "claim_known_at": [
                ("GET", f"/v1/claims/{c}?known_at={rng.choice(moments)}", None) for c in claims
            ],
            "incidents_list": [
                ("GET", f"/v1/incidents?status=disputed&known_at={m}", None) for m in moments
            ],
            "search": self.searches(plan.read_targets, moments),
            "incident_page": [("GET", f"/incidents/{i}", None) for i in incidents],
            "inclusion_proof": inclusion_requests(tree_size, plan.read_targets, rng),
        }
        bare_requests = [("GET", f"/bare/{c}", None) for c in claims]

        def measure(name: str, target: int, requests: list[tuple[str, str, Any]]) -> Any:
            return self.closed(
                target,
                name,
                requests,
                concurrency=CONCURRENCY,
                seconds=plan.seconds,
                warmup=plan.warmup,
                expect=(200,),
                auth=False,
            )

        first = measure("bare lookup", bare_port, bare_requests)
        measured = {name: measure(name, port, requests) for name, requests in routes.items()}
        # Writes at the readers' concurrency, against the same baseline.
        writes = self.closed(
            port,
            "POST /v1/claims/{id}/statements, 32 at once",
            self.statement_posts(plan.single_count, self.seed + 40),
            concurrency=CONCURRENCY,
            seconds=plan.seconds,
            warmup=plan.warmup,
            max_requests=plan.single_count,
        )
        second = measure("bare lookup (again)", bare_port, bare_requests)
        bare.stop()
        baseline = (first["rps"] + second["rps"]) / 2
        r = self.results
        r["baseline_lookup_rps"] = baseline
        r["baseline_lookup_runs_rps"] = [first["rps"], second["rps"]]
        r["baseline_lookup_p50_ms"] = first["p50_ms"]
        r["baseline_lookup_p99_ms"] = first["p99_ms"]
        r["baseline_lookup_client_cpu_share"] = first["client_cpu_share"]
        r["single_append_c32_per_s"] = writes["rps"]
        r["single_append_c32_ratio"] = writes["rps"] / baseline
        r["single_append_c32_p50_ms"] = writes["p50_ms"]
        r["single_append_c32_p99_ms"] = writes["p99_ms"]
        r["single_append_c32_errors"] = writes["errors"]
        r["read"] = {
            name: {
                "rps": result["rps"],
                "ratio": result["rps"] / baseline,
                "p50_ms": result["p50_ms"],
                "p99_ms": result["p99_ms"],
                "errors": result["errors"],
                "client_cpu_share": result["client_cpu_share"],
                "first_error": result["first_error"],
            }
            for name, result in measured.items()
        }

    def freshness(self, port: int) -> None:
        plan = self.plan
        posts = self.statement_posts(plan.visible_samples, self.seed + 30)
        visible = run_module(
            "bench.client",
            {
                "kind": "visible",
                "port": port,
                "key": self.key,
                "requests_file": self.requests_file("visible", posts),
                "samples": plan.visible_samples,
                "duration": plan.seconds * 5,
            },
            timeout=plan.seconds * 5 + 120,
        )
        say(
            f"  write → visible: p50 {visible['p50_ms'] or 0:.1f} ms,"
            f" p99 {visible['p99_ms'] or 0:.1f} ms, {visible['count']} samples,"
            f" {visible['errors']} errors"
        )
        r = self.results
        r["visible_p50_ms"] = visible["p50_ms"]
        r["visible_p99_ms"] = visible["p99_ms"]
        r["visible_after_ack_p50_ms"] = visible["after_ack_p50_ms"]
        r["visible_samples"] = visible["count"]
        r["visible_errors"] = visible["errors"]

        posts = self.statement_posts(plan.webhook_samples, self.seed + 31)
        hooks = run_module(
            "bench.client",
            {
                "kind": "webhook",
                "port": port,
                "key": self.key,
                "requests_file": self.requests_file("webhook", posts),
                "samples": plan.webhook_samples,
                "duration": plan.seconds * 10,
                "timeout": 5.0,
            },
            timeout=plan.seconds * 10 + 180,
        )
        if not hooks.get("available"):
            r["webhook_p50_ms"] = r["webhook_p99_ms"] = None
            r["webhook_note"] = (
                f"POST /v1/webhooks answered {hooks.get('status')}: webhooks not available"
            )
            say(f"  webhooks: {r['webhook_note']}")
            return
        r["webhook_p50_ms"] = hooks["p50_ms"]
        r["webhook_p99_ms"] = hooks["p99_ms"]
        r["webhook_samples"] = hooks["count"]
        r["webhook_missing"] = hooks["missing"]
        r["webhook_unverified"] = hooks["unverified"]
        if hooks["missing"] or hooks["unverified"] or hooks["errors"]:
            r["webhook_note"] = (
                f"{hooks['missing']} not delivered within 5 s, {hooks['unverified']} with a bad"
                f" signature, {hooks['errors']} failed writes; {hooks.get('first_error')}"
            )
        say(
            f"  write → webhook: p50 {hooks['p50_ms'] or 0:.1f} ms,"
            f" p99 {hooks['p99_ms'] or 0:.1f} ms, {hooks['count']} samples,"
            f" {hooks['missing']} missing"
        )


def code_version() -> dict[str, Any]:
    """The commit measured, and the files that differed from it (the tree is shared)."""

    def git(*args: str) -> str:
        try:
            done = subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            return ""
        return done.stdout

    changed = [line[3:] for line in git("status", "--porcelain").splitlines() if line[3:]]
    return {"commit": git("rev-parse", "HEAD").strip(), "changed_files": changed}


def execute(
    scale: str, *, seed: int = DEFAULT_SEED, out: Path, corpus_root: Path
) -> dict[str, Any]:
    from bench.corpus import load_or_generate

    plan = PLANS[scale]
    started = time.monotonic()
    when = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    code = code_version()
    timings: dict[str, float] = {}
    with phase("corpus", timings):
        corpus = load_or_generate(plan.corpus, seed, corpus_root)
    work = corpus_root / "runs" / f"{scale}-{when.replace(':', '')}"
    work.mkdir(parents=True, exist_ok=True)
    say(f"logs and request files in {work}")
    run = Run(plan, seed=seed, work=work, corpus=corpus)
    run.timings = timings
    steps: list[tuple[str, Callable[[ExitStack], None]]] = [
        ("load", run.load),
        ("projector catch-up", lambda _: run.catch_up()),
        ("projector peer", lambda _: run.peer()),
        ("rebuild", lambda _: run.rebuild()),
        ("log catch-up", lambda _: run.log_catch_up()),
        ("serving", run.serving),
    ]
    with ExitStack() as stack:
        server_url = stack.enter_context(postgres_server())
        run.url = stack.enter_context(fresh_database(server_url))
        say(f"database {run.url.rsplit('/', 1)[-1]}")
        with phase("prepare", timings):
            run.prepare()
        for name, step in steps:
            with phase(name, timings):
                step(stack)
    rss = [s.get("VmRSS", 0) / 1024 for s in run.rss_samples.values()]
    results: dict[str, Any] = {
        "scale": scale,
        "statements": corpus.meta.statements,
        "when": when,
        **run.results,
        "rss_after_catchup_mb": run.rss_samples.get("after projecting the corpus", {}).get(
            "VmRSS", 0
        )
        / 1024,
        "rss_end_mb": run.rss_samples.get("at the end", {}).get("VmRSS", 0) / 1024,
        "rss_mb": max(rss) if rss else None,
        "rss_samples_kb": run.rss_samples,
        "rss_processes": max((s.get("processes", 0) for s in run.rss_samples.values()), default=0),
        "corpus": {
            "seed": seed,
            "incidents": len(corpus.meta.incidents),
            "claims": len(corpus.meta.claims),
            "sources": len(corpus.meta.sources),
            "withdrawals": corpus.meta.withdrawals,
            "backdated": corpus.meta.backdated,
            "by_stance": corpus.meta.by_stance,
        },
        "phase_seconds": timings,
        "total_seconds": round(time.monotonic() - started, 1),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "code": code,
    }
    for requests in work.glob("*.requests.ndjson"):  # kept only when a run fails
        requests.unlink()
    out.write_bytes(msgspec.json.format(msgspec.json.encode(results), indent=2) + b"\n")
    say(f"wrote {out} ({results['total_seconds']:.0f} s in all)")
    print(markdown(results))
    return results


DEFAULT_OUT = ROOT / "bench" / "results.json"
DEFAULT_CORPUS = ROOT / "bench" / "corpus"
__all__ = ["DEFAULT_CORPUS", "DEFAULT_OUT", "PLANS", "execute", "rfc3339"]
