"""Every bad input is a 4xx problem naming what was wrong, never a 500 and never a partial write."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import Keys
from tests.helpers import Client, an_hour_ago, claim, created, event_count, incident, source

# Marked here, not only by the conftest: a mark added after collection loses the parameters.
pytestmark = pytest.mark.anyio

INT64_OVERFLOW = 2**63


@dataclass(frozen=True)
class Targets:
    """One of each thing, to aim bad requests at."""

    source: str
    incident: str
    claim: str
    statement: str
    webhook: str


@pytest.fixture
async def targets(client: Client, keys: Keys) -> Targets:
    source_id = await source(client, keys.editor)
    incident_id = await incident(client, keys.editor)
    claim_id = await claim(client, keys.editor, incident_id)
    said = await created(
        client,
        f"/v1/claims/{claim_id}/statements",
        {"source_id": source_id, "stance": "asserts", "published_at": an_hour_ago()},
        keys.editor,
    )
    hook = await created(
        client,
        "/v1/webhooks",
        {"url": "https://example.org/hook", "event_types": ["incident.opened"]},
        keys.admin,
    )
    return Targets(source_id, incident_id, claim_id, str(said["id"]), str(hook["id"]))


def statement_body(targets: Targets, **extra: Any) -> dict[str, Any]:
    return {
        "source_id": targets.source,
        "stance": "asserts",
        "published_at": an_hour_ago(),
        **extra,
    }


# (method, path, body, the field the problem must name); ``{x}`` is filled from the targets.
NUL = "bad\x00text"
WRITES_WITH_NUL: list[tuple[str, str, dict[str, Any], str]] = [
    ("POST", "/v1/sources", {"name": NUL, "kind": "media"}, "name"),
    ("POST", "/v1/sources", {"name": "A", "kind": "media", "affiliation": NUL}, "affiliation"),
    ("POST", "/v1/sources", {"name": "A", "kind": "media", "channels": ["ok", NUL]}, "channels[1]"),
    ("POST", "/v1/sources", {"name": "A", "kind": "media", "url": f"https://x.org/{NUL}"}, "url"),
    ("POST", "/v1/sources/{source}/ratings", {"reliability": "B", "rationale": NUL}, "rationale"),
    ("POST", "/v1/incidents", {"title": NUL}, "title"),
    ("POST", "/v1/incidents", {"title": "T", "summary": NUL}, "summary"),
    ("POST", "/v1/incidents", {"title": "T", "place": {"name": NUL}}, "place.name"),
    (
        "POST",
        "/v1/incidents",
        {"title": "T", "place": {"name": "P", "admin1": NUL}},
        "place.admin1",
    ),
    (
        "POST",
        "/v1/incidents",
        {"title": "T", "place": {"name": "P", "admin2": NUL}},
        "place.admin2",
    ),
    ("POST", "/v1/incidents", {"title": "T", "tags": [NUL]}, "tags[0]"),
    ("PATCH", "/v1/incidents/{incident}", {"summary": NUL}, "summary"),
    ("PATCH", "/v1/incidents/{incident}", {"tags": ["ok", NUL]}, "tags[1]"),
    ("POST", "/v1/incidents/{incident}/claims", {"text": NUL}, "text"),
    ("POST", "/v1/statements/{statement}/withdrawal", {"reason": NUL}, "reason"),
    ("POST", "/v1/claims/{claim}/verdicts", {"verdict": "true", "rationale": NUL}, "rationale"),
    (
        "POST",
        "/v1/webhooks",
        {"url": "https://x.org/h", "event_types": ["incident.opened"], "description": NUL},
        "description",
    ),
    ("PATCH", "/v1/webhooks/{webhook}", {"description": NUL}, "description"),
    ("PATCH", "/v1/webhooks/{webhook}", {"url": f"https://x.org/{NUL}"}, "url"),
]
STATEMENT_FIELDS_WITH_NUL: list[tuple[dict[str, Any], str]] = [
    ({"quote": NUL}, "quote"),
    ({"language": NUL}, "language"),
    ({"url": f"https://x.org/{NUL}"}, "url"),
    ({"channel": NUL}, "channel"),
    ({"evidence": [{"kind": NUL}]}, "evidence[0].kind"),
    ({"evidence": [{"kind": "video", "url": f"https://x.org/{NUL}"}]}, "evidence[0].url"),
    ({"evidence": [{"kind": "video", "description": NUL}]}, "evidence[0].description"),
    ({"evidence": [{"kind": "video", "sha256": NUL}]}, "evidence[0].sha256"),
]


async def refused(
    client: Client,
    keys: Keys,
    database_url: str,
    method: str,
    path: str,
    body: Any,
    *,
    status: int = 422,
    role: str = "admin",
) -> dict[str, Any]:
    """Send a bad write: it must be refused with a problem, and write nothing."""
    before = await event_count(database_url)
    response = await client.request(
        method,
        path,
        content=body if isinstance(body, bytes) else json.dumps(body).encode(),
        headers={**keys.header(role), "Content-Type": "application/json"},
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await event_count(database_url) == before
    problem: dict[str, Any] = response.json()
    return problem


@pytest.mark.parametrize(("method", "path", "body", "field"), WRITES_WITH_NUL)
async def test_nul_in_any_text_of_any_write_is_a_422_naming_the_field(
    client: Client,
    keys: Keys,
    targets: Targets,
    database_url: str,
    method: str,
    path: str,
    body: dict[str, Any],
    field: str,
) -> None:
    target = path.format(**vars(targets))
    problem = await refused(client, keys, database_url, method, target, body)
    assert problem["field"] == field


@pytest.mark.parametrize(("extra", "field"), STATEMENT_FIELDS_WITH_NUL)
async def test_nul_in_a_statement_alone_or_in_a_batch_is_a_422_naming_the_field(
    client: Client,
    keys: Keys,
    targets: Targets,
    database_url: str,
    extra: dict[str, Any],
    field: str,
) -> None:
    alone = statement_body(targets, **extra)
    problem = await refused(
        client, keys, database_url, "POST", f"/v1/claims/{targets.claim}/statements", alone
    )
    assert problem["field"] == field
    batch = {
        "statements": [
            statement_body(targets, claim_id=targets.claim),
            {**alone, "claim_id": targets.claim},
        ]
    }
    problem = await refused(client, keys, database_url, "POST", "/v1/statements:batch", batch)
    assert problem["field"] == f"statements[1].{field}"


# URLs no parser reads as one: a host with a bracket (half an IPv6 literal), no host at all.
BAD_URLS = ["http://[", "https://a[b]/x", "http:///nohost", "https://"]


@pytest.mark.parametrize("url", BAD_URLS)
async def test_a_url_without_a_plain_host_is_a_422_naming_the_field(
    client: Client, keys: Keys, targets: Targets, database_url: str, url: str
) -> None:
    writes: list[tuple[str, str, dict[str, Any], str]] = [
        ("POST", "/v1/sources", {"name": "A", "kind": "media", "url": url}, "url"),
        (
            "POST",
            f"/v1/claims/{targets.claim}/statements",
            statement_body(targets, url=url),
            "url",
        ),
        (
            "POST",
            f"/v1/claims/{targets.claim}/statements",
            statement_body(targets, evidence=[{"kind": "video", "url": url}]),
            "evidence[0].url",
        ),
        ("POST", "/v1/webhooks", {"url": url, "event_types": ["incident.opened"]}, "url"),
    ]
    for method, path, body, field in writes:
        problem = await refused(client, keys, database_url, method, path, body)
        assert problem["field"] == field, (path, problem)


@pytest.mark.parametrize("url", ["https://example.org:port/hook", "https://example.org:99999/"])
async def test_a_webhook_url_with_a_port_that_is_no_port_is_a_422(
    client: Client, keys: Keys, database_url: str, url: str
) -> None:
    body = {"url": url, "event_types": ["incident.opened"]}
    problem = await refused(client, keys, database_url, "POST", "/v1/webhooks", body)
    assert problem["field"] == "url"
    assert "Port" in problem["detail"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/v1/claims/{claim}/statements",
            {"published_at": "0001-01-01T00:00:00+14:00"},
            "published_at",
        ),
        ("/v1/claims/{claim}/statements", {"published_at": "1899-12-31T23:59:59Z"}, "published_at"),
        (
            "/v1/incidents",
            {"title": "T", "occurred_from": "9999-12-31T23:59:59-14:00"},
            "occurred_from",
        ),
        ("/v1/incidents", {"title": "T", "occurred_to": "2200-01-01T00:00:00Z"}, "occurred_to"),
        (
            "/v1/incidents",
            {"title": "T", "occurred_from": "0001-01-01T00:00:00+14:00"},
            "occurred_from",
        ),
    ],
)
async def test_instants_outside_1900_to_2200_are_refused(
    client: Client,
    keys: Keys,
    targets: Targets,
    database_url: str,
    path: str,
    body: dict[str, Any],
    field: str,
) -> None:
    if "statements" in path:
        body = statement_body(targets, **body)
    problem = await refused(client, keys, database_url, "POST", path.format(**vars(targets)), body)
    assert problem["field"] == field
    assert "1900" in problem["detail"]


async def test_an_extreme_instant_in_a_batch_or_a_revision_is_refused(
    client: Client, keys: Keys, targets: Targets, database_url: str
) -> None:
    item = statement_body(targets, claim_id=targets.claim, published_at="0001-01-01T00:00:00+14:00")
    batch = {"statements": [statement_body(targets, claim_id=targets.claim), item]}
    problem = await refused(client, keys, database_url, "POST", "/v1/statements:batch", batch)
    assert problem["field"] == "statements[1].published_at"
    revision = {"occurred_from": "9999-12-31T23:59:59-14:00"}
    path = f"/v1/incidents/{targets.incident}"
    problem = await refused(client, keys, database_url, "PATCH", path, revision)
    assert problem["field"] == "occurred_from"


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"credibility": "3"}, "credibility"),
        ({"published_at": 1710230400}, "published_at"),
        ({"credibility": 3.0}, "credibility"),
        ({"evidence": [{"kind": "geolocation", "lat": "51.27"}]}, "evidence[0].lat"),
        ({"stance": "confirm"}, "stance"),
    ],
)
async def test_bodies_are_decoded_strictly(
    client: Client,
    keys: Keys,
    targets: Targets,
    database_url: str,
    extra: dict[str, Any],
    field: str,
) -> None:
    path = f"/v1/claims/{targets.claim}/statements"
    problem = await refused(
        client, keys, database_url, "POST", path, statement_body(targets, **extra)
    )
    assert problem["field"] == field


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b'{"name": ' + b"[" * 1000 + b"]" * 1000 + b', "kind": "media"}', 422),
        (b"[" * 100_000 + b"]" * 100_000, 422),
        (b'{"name": "\xff\xfe", "kind": "media"}', 400),
        (b'{"name": "A", "kind": "media"', 400),
        (b"", 400),
    ],
    ids=["nested-1000", "nested-100000", "invalid-utf8", "truncated", "empty"],
)
async def test_malformed_bodies_are_client_errors(
    client: Client, keys: Keys, database_url: str, body: bytes, status: int
) -> None:
    await refused(client, keys, database_url, "POST", "/v1/sources", body, status=status)


async def test_a_replay_position_beyond_int64_is_a_422(
    client: Client, keys: Keys, targets: Targets, database_url: str
) -> None:
    path = f"/v1/webhooks/{targets.webhook}/replay"
    problem = await refused(
        client, keys, database_url, "POST", path, {"from_position": INT64_OVERFLOW}
    )
    assert problem["field"] == "from_position"


async def test_a_batch_naming_one_idempotency_key_twice_names_both_items(
    client: Client, keys: Keys, targets: Targets, database_url: str
) -> None:
    items = [
        statement_body(targets, claim_id=targets.claim, idempotency_key="one"),
        statement_body(targets, claim_id=targets.claim, idempotency_key="two"),
        statement_body(targets, claim_id=targets.claim, idempotency_key="one"),
    ]
    problem = await refused(
        client, keys, database_url, "POST", "/v1/statements:batch", {"statements": items}
    )
    assert problem["type"] == "/problems/validation"
    assert problem["field"] == "statements[2].idempotency_key"
    assert "statements[0]" in problem["detail"]
    assert "statements[2]" in problem["detail"]


async def test_a_webhook_for_an_unknown_incident_is_a_422(
    client: Client, keys: Keys, targets: Targets, database_url: str
) -> None:
    unknown = "6b0f3c0e-54d4-5a3e-9a0e-7c1a2f0d9e41"
    body = {
        "url": "https://example.org/hook",
        "event_types": ["incident.opened"],
        "incident_ids": [targets.incident, unknown],
    }
    problem = await refused(client, keys, database_url, "POST", "/v1/webhooks", body)
    assert problem["type"] == "/problems/unknown-reference"
    assert problem["field"] == "incident_ids[1]"
    path = f"/v1/webhooks/{targets.webhook}"
    problem = await refused(client, keys, database_url, "PATCH", path, {"incident_ids": [unknown]})
    assert problem["field"] == "incident_ids[0]"


def cursor(*values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("path", "params", "name"),
    [
        ("/v1/claims/{claim}", {"knownat": "2024-03-12T12:00:00Z"}, "knownat"),
        ("/v1/incidents", {"tag": "a\x00b"}, "tag"),
        ("/v1/incidents", {"country\x00": "RU"}, "country\\x00"),
        ("/v1/incidents", {"min_position": str(INT64_OVERFLOW)}, "min_position"),
        ("/v1/claims/{claim}", {"known_at": "0001-01-01T00:00:00+14:00"}, "known_at"),
        ("/v1/claims/{claim}", {"known_at": "9999-12-31T23:59:59-14:00"}, "known_at"),
        ("/v1/claims/{claim}", {"published_before": "1800-01-01T00:00:00Z"}, "published_before"),
        ("/v1/timeline", {"published_after": "3000-01-01T00:00:00Z"}, "published_after"),
        ("/v1/timeline", {"cursor": cursor("timeline", "0001-01-01T00:00:00+14:00", 1)}, "cursor"),
        ("/v1/incidents", {"cursor": cursor("incidents", INT64_OVERFLOW)}, "cursor"),
        (
            "/v1/sources",
            {"cursor": cursor("sources", "a\x00", "00000000-0000-0000-0000-000000000001")},
            "cursor",
        ),
        ("/v1/sources", {"cursor": "!!not-base64!!"}, "cursor"),
        ("/v1/sources", {"cursor": cursor("incidents", 5)}, "cursor"),
        ("/v1/claims/{claim}/history", {"cursor": cursor("history", -(2**64))}, "cursor"),
    ],
)
async def test_bad_query_parameters_are_a_400_naming_them(
    client: Client, targets: Targets, path: str, params: dict[str, str], name: str
) -> None:
    response = await client.get(path.format(**vars(targets)), params=params)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["field"] == name


async def test_a_parameter_given_twice_where_one_is_taken_is_a_400(
    client: Client, targets: Targets
) -> None:
    response = await client.get("/v1/incidents", params=[("limit", "1"), ("limit", "2")])
    assert response.status_code == 400, response.text
    assert response.json()["field"] == "limit"
    repeated = await client.get("/v1/incidents", params=[("tag", "a"), ("tag", "b")])
    assert repeated.status_code == 200, repeated.text


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/v1/incidents", {"GET", "POST", "OPTIONS"}),
        ("/v1/incidents/{incident}", {"GET", "PATCH", "OPTIONS"}),
        ("/v1/webhooks/{webhook}", {"GET", "PATCH", "DELETE", "OPTIONS"}),
    ],
)
async def test_options_lists_every_method_of_a_path(
    client: Client, targets: Targets, path: str, methods: set[str]
) -> None:
    response = await client.options(path.format(**vars(targets)))
    assert response.status_code == 204
    assert {m.strip() for m in response.headers["allow"].split(",")} == methods
