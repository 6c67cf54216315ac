"""How instants, links and a statement are written into the pages.

A statement's ``<li>`` is written here in Python rather than by a Jinja macro: an incident's
page shows up to a hundred of them, and a macro called a hundred times, each of its values
escaped on the way, was half of what the page cost. Every text a client gave is escaped here as
autoescape would (``html.text``); ids, instants, numbers and the names of stances are
written as they are (they hold no character HTML gives a meaning to). ``statements`` joins a
timeline's into one ``Markup``, which the templates write as it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

import msgspec
from markupsafe import Markup

from claimledger.api.web.html import text
from claimledger.api.web.moment import moment_params, url_with


def when(instant: datetime | None) -> str:
    """An instant as a person reads it, in UTC, to the second."""
    if instant is None:
        return ""
    return instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def link(path: str, moment: Any, **params: str) -> str:
    """A link to another page that keeps the page's moment."""
    return url_with(path, [*params.items(), *moment_params(moment).items()])


@lru_cache(maxsize=64)
def _kept(moment: Any) -> str:
    """What a link adds to a path to keep ``moment`` (escaped for an attribute)."""
    return text(link("", moment))


# msgspec writes an instant in UTC as RFC 3339 ending in "Z", about three times as fast as
# ``isoformat``: a timeline writes two or three a statement.
_json = msgspec.json.Encoder()


def _time(instant: datetime) -> str:
    """``<time>`` with the instant as the URL carries it (``rendered``) and as ``when`` writes
    it, both cut from one encoding (quoted: ``"2024-03-12T10:00:00Z"``)."""
    if instant.tzinfo is not UTC:
        instant = instant.astimezone(UTC)
    quoted = _json.encode(instant).decode()
    return f"<time datetime={quoted}>{quoted[1:11]} {quoted[12:20]} UTC</time>"


def _evidence(evidence: Any) -> str:
    parts = [f"<li>{text(evidence.kind)}"]
    if evidence.description:
        parts.append(f": {text(evidence.description)}")
    if evidence.lat is not None and evidence.lon is not None:
        parts.append(f" ({evidence.lat}, {evidence.lon})")
    if evidence.url:
        url = text(evidence.url)
        parts.append(f' · <a href="{url}" rel="noopener noreferrer nofollow">{url}</a>')
    if evidence.sha256:
        parts.append(f'<br>sha256 <code class="hash">{text(evidence.sha256)}</code>')
    parts.append("</li>")
    return "".join(parts)


def statements(
    items: Sequence[Any],
    moment: Any,
    sources: Mapping[UUID, Any] | None = None,
    withdrawals: Mapping[UUID, str] | None = None,
    show_claim: bool = True,
) -> Markup:
    """A timeline's statements, each an ``<li>`` (``statement``), in one piece of markup."""
    return Markup(  # noqa: S704 - every value in them is escaped
        "".join(statement(item, moment, sources, withdrawals, show_claim) for item in items)
    )


def statement(
    item: Any,
    moment: Any,
    sources: Mapping[UUID, Any] | None = None,
    withdrawals: Mapping[UUID, str] | None = None,
    show_claim: bool = True,
) -> str:
    """A statement on a timeline: when and by whom, its stance, the claim it is on (unless
    ``show_claim`` is false), its withdrawal with the reason, its quote and evidence (struck
    through once withdrawn), and when the ledger recorded it."""
    withdrawn = item.withdrawn_at is not None
    source = (sources or {}).get(item.source_id)
    classes = "statement withdrawn" if withdrawn else "statement"
    kept = _kept(moment)
    out = [
        f'<li id="statement-{item.id}" class="{classes}">'
        f'<p class="meta">{_time(item.published_at)}'
        f' · <a href="/sources/{item.source_id}{kept}">{text(item.source_name)}</a>'
    ]
    if source is not None:
        out.append(
            f' <span class="grade" title="reliability">({text(source.reliability)}:'
            f" {text(source.reliability_label)})</span>"
        )
    out.append(f' · <span class="stance stance-{item.stance}">{item.stance}</span>')
    if item.language:
        out.append(f' · <span class="lang">language: {text(item.language)}</span>')
    if item.channel:
        out.append(f" · {text(item.channel)}")
    out.append("</p>")
    if show_claim:
        out.append(
            f'<p class="on">on: <a href="/claims/{item.claim_id}{kept}">'
            f"{text(item.claim_text)}</a></p>"
        )
    if withdrawn:
        reason = (withdrawals or {}).get(item.id)
        out.append(
            f'<p class="withdrawal"><strong>Withdrawn</strong> at {_time(item.withdrawn_at)}'
            f"{'' if reason is None else ': ' + text(reason)}</p>"
        )
    body = []
    if item.quote:
        lang = f' lang="{text(item.language)}"' if item.language else ""
        body.append(f"<blockquote{lang}>{text(item.quote)}</blockquote>")
    if item.evidence:
        body.append(f'<ul class="evidence">{"".join(map(_evidence, item.evidence))}</ul>')
    if body:
        out.append(f"<del>{''.join(body)}</del>" if withdrawn else "".join(body))
    out.append(f'<p class="recorded">recorded {_time(item.recorded_at)}')
    if item.credibility:
        out.append(f" · credibility {text(item.credibility)} ({text(item.credibility_label)})")
    out.append("</p></li>")
    return "".join(out)


def claims(found: Sequence[Any], moment: Any, by_id: Mapping[UUID, Any]) -> Markup:
    """An incident's claims, each an ``<li>`` with its status, its reason, the statements that
    decided it (by source and stance when the timeline shown holds them) and its verdict."""
    return Markup("\n    ".join(claim(c, moment, by_id) for c in found))  # noqa: S704 - escaped


def claim(found: Any, moment: Any, by_id: Mapping[UUID, Any]) -> str:
    """A claim's ``<li>``, as the incident page lists it."""
    status = text(found.status)
    out = [
        f'<li class="claim" id="claim-{found.id}">\n'
        f'      <h3><a href="/claims/{found.id}{_kept(moment)}">{text(found.text)}</a></h3>\n'
        f'      <p><span class="badge status-{status}">{status}</span> {text(found.reason)}</p>\n'
    ]
    if found.deciding_statement_ids:
        links = []
        for number, decided in enumerate(found.deciding_statement_ids, 1):
            item = by_id.get(decided)
            name = f"statement {number}" if item is None else f"{item.source_name}, {item.stance}"
            links.append(f'<a href="#statement-{decided}">{text(name)}</a>')
        out.append(f'      <p class="deciding">Decided by:\n{", ".join(links)}      </p>\n')
    if found.verdict:
        rationale = f" — {text(found.verdict_rationale)}" if found.verdict_rationale else ""
        out.append(
            f'<p class="verdict">Verdict: <strong>{text(found.verdict)}</strong>{rationale}</p>'
        )
    out.append("    </li>")
    return "".join(out)
