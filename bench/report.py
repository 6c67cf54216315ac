"""The targets, and the markdown table that shows each figure next to its baseline and target."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

READ_ROUTES = {
    "timeline": "GET /v1/incidents/{id}/timeline?limit=20",
    "claim_known_at": "GET /v1/claims/{id}?known_at=T",
    "incidents_list": "GET /v1/incidents?status=disputed&known_at=T",
    "search": "GET /v1/search?q=…",
    "incident_page": "GET /incidents/{id} (the workspace's page)",
    "inclusion_proof": "GET /v1/log/proofs/inclusion?index=I&tree_size=N",
}
# What a read route must keep at concurrency 32 on the full corpus, when it is not a share of
# the bare lookup's rate and a p99 of 30 ms: (share of the baseline or None, p99 in ms).
READ_TARGETS: dict[str, tuple[float | None, float]] = {
    "search": (None, 50),
    "incident_page": (None, 100),
    "inclusion_proof": (None, 30),
}


@dataclass(frozen=True, slots=True)
class Row:
    figure: str
    value: str
    baseline: str
    ratio: str
    target: str
    met: str


def _num(value: Any, digits: int = 0, unit: str = "") -> str:
    if value is None:
        return "null"
    if isinstance(value, float) and digits:
        return f"{value:,.{digits}f}{unit}"
    return f"{round(value):,}{unit}"


def _ms(value: Any) -> str:
    return "null" if value is None else f"{value:.1f} ms"


def _ratio(value: Any) -> str:
    return "—" if value is None else f"{value:.2f}"


def _met(ok: bool | None, *, full_only: bool = False, scale: str = "full") -> str:
    if ok is None:
        return "n/a"
    word = "yes" if ok else "**no**"
    if full_only and scale != "full":
        return f"({'yes' if ok else 'no'}; target is for full scale)"
    return word


def _all(*checks: bool | None) -> bool | None:
    if any(check is None for check in checks):
        return None
    return all(bool(check) for check in checks)


def _ge(value: Any, bound: float) -> bool | None:
    return None if value is None else bool(value >= bound)


def _le(value: Any, bound: float) -> bool | None:
    return None if value is None else bool(value <= bound)


def rows(r: dict[str, Any]) -> list[Row]:
    scale = str(r.get("scale"))
    met: Callable[..., str] = lambda ok, full_only=False: _met(  # noqa: E731
        ok, full_only=full_only, scale=scale
    )
    out = [
        Row(
            "Single statement over HTTP (POST /v1/claims/{id}/statements, one at a time)",
            f"{_num(r.get('single_append_per_s'))}/s, p50 {_ms(r.get('single_append_p50_ms'))},"
            f" p99 {_ms(r.get('single_append_p99_ms'))}",
            f"in-process `ledger.save(agg)`: {_num(r.get('in_process_single_save_per_s'))}/s",
            _ratio(r.get("single_append_ratio")),
            "≥ 0.6 x baseline",
            met(_ge(r.get("single_append_ratio"), 0.6)),
        ),
        Row(
            "Single statements over HTTP, 8 at once (for comparison)",
            f"{_num(r.get('single_append_c8_per_s'))}/s,"
            f" p50 {_ms(r.get('single_append_c8_p50_ms'))},"
            f" p99 {_ms(r.get('single_append_c8_p99_ms'))}",
            "same baseline (one at a time)",
            _ratio(r.get("single_append_c8_ratio")),
            "(no target)",
            "—",
        ),
        Row(
            "Single statements over HTTP, 32 connections at once",
            f"{_num(r.get('single_append_c32_per_s'))}/s,"
            f" p50 {_ms(r.get('single_append_c32_p50_ms'))},"
            f" p99 {_ms(r.get('single_append_c32_p99_ms'))}",
            f"bare lookup route: {_num(r.get('baseline_lookup_rps'))} req/s",
            _ratio(r.get("single_append_c32_ratio")),
            "≥ 0.5 x baseline",
            met(_ge(r.get("single_append_c32_ratio"), 0.5), full_only=True),
        ),
        Row(
            "Single statements over HTTP against `serve --role api` (no projector in-process)",
            f"{_num(r.get('single_append_api_only_per_s'))}/s,"
            f" p50 {_ms(r.get('single_append_api_only_p50_ms'))},"
            f" p99 {_ms(r.get('single_append_api_only_p99_ms'))}",
            "in-process `ledger.save(agg)` then:"
            f" {_num(r.get('in_process_single_save_api_only_per_s'))}/s",
            _ratio(r.get("single_append_api_only_ratio")),
            "(no target)",
            "—",
        ),
        Row(
            "Batch import (`claimledger import`, statements)",
            f"{_num(r.get('batch_per_s'))}/s",
            f"in-process `ledger.save(*1000 aggs)`: {_num(r.get('in_process_batch_save_per_s'))}/s",
            _ratio(r.get("batch_ratio")),
            "≥ 10,000/s and ≥ 0.5 x baseline",
            met(_all(_ge(r.get("batch_per_s"), 10_000), _ge(r.get("batch_ratio"), 0.5))),
        ),
        Row(
            "Batch over HTTP (`POST /v1/statements:batch`, 1,000 per request)",
            f"{_num(r.get('batch_http_per_s'))}/s",
            f"same baseline: {_num(r.get('in_process_batch_save_per_s'))}/s",
            _ratio(r.get("batch_http_ratio")),
            "(no target; for comparison)",
            "—",
        ),
        Row(
            "Projector catch-up (`serve`, from position 0)",
            f"{_num(r.get('projector_events_per_s'))} events/s"
            f" ({_num(r.get('projector_events_measured'))} events timed of"
            f" {_num(r.get('projector_events'))}"
            + (")" if r.get("projector_caught_up") else "; the time window ended first)"),
            f"the library's `ProjectionRunner`: {_num(r.get('projector_peer_events_per_s'))}"
            " events/s",
            _ratio(r.get("projector_peer_ratio")),
            "≥ 20,000 events/s and ≥ 10 x the peer",
            met(
                _all(
                    _ge(r.get("projector_events_per_s"), 20_000),
                    _ge(r.get("projector_peer_ratio"), 10),
                )
            ),
        ),
        Row(
            "Full rebuild (`claimledger rebuild`)",
            f"{_num(r.get('rebuild_s'), 1, ' s')}",
            f"{_num(r.get('rebuild_events'))} events, {_num(r.get('rebuild_events_per_s'))}/s",
            "—",
            "≤ 90 s for 1M statements",
            met(_le(r.get("rebuild_s"), 90), full_only=True),
        ),
        Row(
            "Log catch-up (the transparency log's tree from position 0, alone)",
            f"{_num(r.get('log_catch_up_events_per_s'))} events/s"
            f" ({_num(r.get('log_catch_up_events'))} events in"
            f" {_num(r.get('log_catch_up_s'), 1, ' s')})",
            f"the projector's catch-up: {_num(r.get('projector_events_per_s'))} events/s",
            _ratio(r.get("log_catch_up_ratio")),
            "≥ 20,000 events/s",
            met(_ge(r.get("log_catch_up_events_per_s"), 20_000)),
        ),
    ]
    base = r.get("baseline_lookup_rps")
    read = r.get("read") or {}
    for key, label in READ_ROUTES.items():
        fig = read.get(key) or {}
        share, p99 = READ_TARGETS.get(key, (0.6, 30))
        fast = _le(fig.get("p99_ms"), p99)
        errors = fig.get("errors")
        first = str(fig.get("first_error")).replace("|", "\\|")  # inside a table cell
        failed = f" ({errors:,} failed: {first})" if errors else ""
        out.append(
            Row(
                f"Read, concurrency 32: `{label}`",
                f"{_num(fig.get('rps'))} req/s, p50 {_ms(fig.get('p50_ms'))},"
                f" p99 {_ms(fig.get('p99_ms'))}{failed}",
                f"bare lookup route: {_num(base)} req/s",
                _ratio(fig.get("ratio")),
                (f"≥ {share} x baseline, " if share else "") + f"p99 ≤ {p99:g} ms",
                met(_all(_ge(fig.get("ratio"), share), fast) if share else fast, full_only=True),
            )
        )
    webhook_note = r.get("webhook_note")
    out += [
        Row(
            "Write → visible (`min_position`)",
            f"p50 {_ms(r.get('visible_p50_ms'))}, p99 {_ms(r.get('visible_p99_ms'))}",
            f"of which after the 201: p50 {_ms(r.get('visible_after_ack_p50_ms'))}",
            "—",
            "p50 ≤ 10 ms",
            met(_le(r.get("visible_p50_ms"), 10)),
        ),
        Row(
            "Write → webhook received (loopback)",
            f"p50 {_ms(r.get('webhook_p50_ms'))}, p99 {_ms(r.get('webhook_p99_ms'))}"
            + (f" ({webhook_note})" if webhook_note else ""),
            "—",
            "—",
            "p50 ≤ 100 ms, p99 ≤ 500 ms",
            met(_all(_le(r.get("webhook_p50_ms"), 100), _le(r.get("webhook_p99_ms"), 500))),
        ),
        Row(
            "Server RSS (VmRSS of `serve`, all its processes)",
            f"{_num(r.get('rss_mb'), 1, ' MB')} in {_num(r.get('rss_processes'))} processes",
            f"after catch-up {_num(r.get('rss_after_catchup_mb'), 1, ' MB')},"
            f" at the end {_num(r.get('rss_end_mb'), 1, ' MB')}",
            "—",
            "≤ 300 MB",
            met(_le(r.get("rss_mb"), 300), full_only=True),
        ),
    ]
    return out


def markdown(r: dict[str, Any]) -> str:
    header = (
        f"claimledger benchmark, scale **{r.get('scale')}** ({_num(r.get('statements'))}"
        f" corpus statements), {r.get('when')}\n\n"
        "| figure | value | baseline (same run) | ratio | target | met |\n"
        "| --- | --- | --- | --- | --- | --- |\n"
    )
    body = "".join(
        f"| {x.figure} | {x.value} | {x.baseline} | {x.ratio} | {x.target} | {x.met} |\n"
        for x in rows(r)
    )
    return header + body
