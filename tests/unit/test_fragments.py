"""The instants a timeline writes read as the moment's links and the ``when`` filter do; an
incident's claims read as its template wrote them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID, uuid4

import pytest
from jinja2 import Environment

from claimledger.api.web.fragments import _time, claims, link, when
from claimledger.api.web.moment import rendered
from claimledger.domain.values import Status, Verdict
from claimledger.projections.queries.moment import Moment

KYIV = timezone(timedelta(hours=2))


@pytest.mark.parametrize(
    "instant",
    [
        datetime(2024, 3, 12, 10, 0, tzinfo=UTC),
        datetime(2024, 3, 12, 10, 0, 5, 123456, tzinfo=UTC),
        datetime(2024, 3, 12, 0, 30, 1, 7, tzinfo=KYIV),
        datetime(1999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
def test_a_time_element_carries_the_instant_in_utc_both_ways(instant: datetime) -> None:
    assert _time(instant) == f'<time datetime="{rendered(instant)}">{when(instant)}</time>'


# The incident page's claims as its template wrote them before they were written in Python.
CLAIMS_TEMPLATE = "".join(
    [
        "    {% for c in claims %}\n",
        '    <li class="claim" id="claim-{{ c.id }}">\n',
        "      <h3><a href=\"{{ link('/claims/' ~ c.id, moment) }}\">{{ c.text }}</a></h3>\n",
        "      <p>{{ badge(c.status) }} {{ c.reason }}</p>\n",
        "      {% if c.deciding_statement_ids %}\n",
        '      <p class="deciding">Decided by:\n',
        '        {% for s in c.deciding_statement_ids %}<a href="#statement-{{ s }}">',
        "{{ by_id[s].source_name ~ ', ' ~ by_id[s].stance if s in by_id",
        " else 'statement ' ~ loop.index }}</a>{{ ', ' if not loop.last }}{% endfor %}\n",
        "      </p>\n",
        "      {% endif %}\n",
        '      {% if c.verdict %}<p class="verdict">Verdict: <strong>{{ c.verdict }}</strong>',
        "{% if c.verdict_rationale %} — {{ c.verdict_rationale }}{% endif %}</p>{% endif %}\n",
        "    </li>\n",
        "    {% endfor %}\n",
    ]
)
BADGE = """{% macro badge(status) -%}
<span class="badge status-{{ status }}">{{ status }}</span>
{%- endmacro %}
"""


@dataclass
class Said:
    source_name: str
    stance: str


@dataclass
class Found:
    id: UUID
    text: str
    status: Status
    reason: str
    deciding_statement_ids: list[UUID]
    verdict: Verdict | None = None
    verdict_rationale: str | None = None


@pytest.mark.parametrize(
    "moment",
    [Moment(), Moment(known_at=datetime(2024, 3, 12, 10, 0, tzinfo=UTC))],
)
def test_the_claims_read_as_the_template_wrote_them(moment: Moment) -> None:
    hostile = "<b>\"Tyotkino\"</b> & 'the rest'"
    ids = [uuid4() for _ in range(4)]
    by_id = {ids[0]: Said(hostile, "asserts"), ids[2]: Said("Ministry", "denies")}
    found = [
        Found(uuid4(), hostile, Status.DISPUTED, hostile, ids, Verdict.MOSTLY_TRUE, hostile),
        Found(uuid4(), "No statement yet", Status.UNVERIFIED, "nothing said", []),
        Found(uuid4(), "Judged", Status.CONFIRMED, "confirmed", ids[1:2], Verdict.FALSE),
    ]
    environment = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    environment.globals.update(link=link)
    template = environment.from_string(BADGE + CLAIMS_TEMPLATE)
    written = template.render(claims=found, moment=moment, by_id=by_id)
    assert "&lt;b&gt;" in written
    assert f"    {claims(found, moment, by_id)}\n" == written
