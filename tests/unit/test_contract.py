"""The contract refuses what the server refuses: every request field is bounded in the document.

Walks every request body schema of the generated OpenAPI document, so a field added later without
its limits fails here, not in production.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest

from claimledger.api.app import openapi_document

DOCUMENT = json.loads(openapi_document())
SCHEMAS: dict[str, Any] = DOCUMENT["components"]["schemas"]
INT64_MAX = 2**63 - 1


def request_schemas() -> list[str]:
    """The schemas of request bodies: those the operations' requestBody refer to, and theirs."""
    found: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.split("/")[-1] not in found:
                found.add(ref.split("/")[-1])
                visit(SCHEMAS[ref.split("/")[-1]])
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    for path in DOCUMENT["paths"].values():
        for operation in path.values():
            visit(operation.get("requestBody"))
    return sorted(found)


def leaves(schema: dict[str, Any], where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every typed leaf of a schema (through arrays and unions), with where it is."""
    if "$ref" in schema:
        return
    for arm in schema.get("oneOf", []) + schema.get("anyOf", []):
        yield from leaves(arm, where)
    if schema.get("type") == "array":
        yield from leaves(schema["items"], f"{where}[]")
    elif schema.get("type") == "object":
        for name, value in schema.get("properties", {}).items():
            yield from leaves(value, f"{where}.{name}")
    elif "type" in schema:
        yield where, schema


@pytest.mark.parametrize("name", request_schemas())
def test_a_request_body_refuses_unknown_fields_and_bounds_every_field(name: str) -> None:
    schema = SCHEMAS[name]
    if "enum" in schema:
        return
    assert schema.get("additionalProperties") is False, f"{name} accepts unknown fields"
    for where, leaf in leaves(schema, name):
        kind = leaf["type"]
        if (
            kind == "string"
            and "enum" not in leaf
            and leaf.get("format") not in ("uuid", "date-time")
        ):
            pattern = leaf.get("pattern")
            assert pattern is not None, f"{where} takes any string"
            assert not re.search(pattern, "a\x00b"), f"{where} takes NUL ({pattern})"
            assert "maxLength" in leaf or re.fullmatch(r"\^.*\{\d+(,\d+)?\}\$", pattern), (
                f"{where} has no length limit"
            )
        if kind == "integer":
            assert leaf.get("maximum", INT64_MAX + 1) <= INT64_MAX, f"{where} exceeds int64"
            assert "minimum" in leaf, f"{where} has no lower bound"
        if kind == "number":
            assert "minimum" in leaf, f"{where} has no lower bound"
            assert "maximum" in leaf, f"{where} has no upper bound"
        if kind == "array":
            assert "maxItems" in leaf, f"{where} has no item limit"


def test_every_request_body_is_walked() -> None:
    assert {"SourceCreate", "StatementCreate", "EvidenceIn", "PlaceIn", "WebhookUpdate"} <= set(
        request_schemas()
    )


# -- what a client generated from the document needs ---------------------------------------------

OPERATIONS = [
    (f"{method.upper()} {path}", operation)
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
]
PROBLEM = {"$ref": "#/components/schemas/Problem"}
# Answers without a body: a deletion, a conditional read whose answer is unchanged.
NO_BODY = {"204", "304"}


def names(operation: dict[str, Any]) -> set[str]:
    return {parameter["name"] for parameter in operation.get("parameters", [])}


@pytest.mark.parametrize(("name", "operation"), OPERATIONS, ids=[n for n, _ in OPERATIONS])
def test_every_operation_says_what_it_does_and_the_role_it_needs(
    name: str, operation: dict[str, Any]
) -> None:
    assert operation.get("summary"), f"{name} has no summary"
    description = operation.get("description", "")
    assert len(description) > 60, f"{name} has no description"
    assert "**Role:**" in description, f"{name} does not say which role it needs"
    if any(code >= "400" for code in operation["responses"]):
        assert "**Errors**" in description, f"{name} does not list its errors"


@pytest.mark.parametrize(("name", "operation"), OPERATIONS, ids=[n for n, _ in OPERATIONS])
def test_every_response_has_a_schema_and_every_error_is_a_problem(
    name: str, operation: dict[str, Any]
) -> None:
    for code, response in operation["responses"].items():
        assert response.get("description"), f"{name} {code} has no description"
        if code in NO_BODY:
            assert "content" not in response, f"{name} {code} has a body"
            continue
        content = response.get("content")
        assert content, f"{name} {code} has no content"
        for media, body in content.items():
            assert body.get("schema"), f"{name} {code} {media} has no schema"
        if code >= "400" and name != "GET /ready":
            assert list(content) == ["application/problem+json"], f"{name} {code}: {content}"
            assert content["application/problem+json"]["schema"] == PROBLEM
            assert content["application/problem+json"].get("examples"), f"{name} {code}"
    # Litestar's own 400 ("Validation Exception") would hide the problem the server sends.
    assert "Validation Exception" not in json.dumps(operation), name


@pytest.mark.parametrize(("name", "operation"), OPERATIONS, ids=[n for n, _ in OPERATIONS])
def test_every_operation_has_an_example_of_what_it_sends_and_answers(
    name: str, operation: dict[str, Any]
) -> None:
    if "requestBody" in operation:
        assert operation["requestBody"]["content"]["application/json"].get("examples"), name
    code, success = next((c, r) for c, r in operation["responses"].items() if c < "300")
    if code != "204":
        # One example for each format the operation answers in.
        for media_type, body in success["content"].items():
            assert body.get("examples"), f"{name} {code} {media_type} has no example"


@pytest.mark.parametrize(("name", "operation"), OPERATIONS, ids=[n for n, _ in OPERATIONS])
def test_the_headers_an_operation_answers_are_documented(
    name: str, operation: dict[str, Any]
) -> None:
    responses = operation["responses"]
    code = next(c for c in responses if c < "300")
    headers = responses[code].get("headers", {})
    if "known_at" in names(operation):
        assert "If-None-Match" in names(operation), name
        for header in ("ETag", "X-Projection-Position", "Cache-Control"):
            assert header in headers, f"{name} does not document {header}"
            assert header in responses["304"]["headers"], f"{name} 304 lacks {header}"
    if code == "201" and name != "POST /v1/statements:batch":
        assert headers["Location"]["required"] is True, name
        assert "Location" in operation["description"], name
    if "Idempotency-Key" in names(operation):
        assert "Idempotent-Replayed" in headers, name
    if "503" in responses:
        assert "Retry-After" in responses["503"]["headers"], name
    if "401" in responses:
        assert "WWW-Authenticate" in responses["401"]["headers"], name


def test_every_creating_post_takes_an_idempotency_key() -> None:
    creating = [
        name
        for name, operation in OPERATIONS
        if name.startswith("POST") and "201" in operation["responses"]
    ]
    # Sources, ratings, incidents, claims, statements (one, or a batch whose items carry keys of
    # their own), verdicts, withdrawals and webhook subscriptions.
    assert len(creating) == 9
    for name, operation in OPERATIONS:
        if name in creating and name != "POST /v1/statements:batch":
            assert "Idempotency-Key" in names(operation), f"{name} takes no Idempotency-Key"


def test_a_change_answers_200_and_the_stream_is_an_event_stream() -> None:
    for name, operation in OPERATIONS:
        if name.startswith("PATCH"):
            assert "200" in operation["responses"], name
            assert "201" not in operation["responses"], name
    stream = DOCUMENT["paths"]["/v1/stream"]["get"]["responses"]["200"]
    assert list(stream["content"]) == ["text/event-stream"]
    assert "Cache-Control" in stream["headers"]
    ready = DOCUMENT["paths"]["/ready"]["get"]["responses"]
    assert ready["503"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Readiness"
    }
    assert "404" in DOCUMENT["paths"]["/problems/{slug}"]["get"]["responses"]


INSTANT = re.compile(r"(_at|_from|_to|_since|_until|_before|_after)$")


def formats(schema: dict[str, Any]) -> set[str | None]:
    arms = [arm for arm in schema.get("oneOf", [schema]) if arm.get("type") != "null"]
    return {arm.get("format") for arm in arms}


def test_every_instant_is_a_date_time() -> None:
    found = 0
    for name, schema in SCHEMAS.items():
        for field, value in schema.get("properties", {}).items():
            if INSTANT.search(field) and field != "occurred_precision":
                assert formats(value) == {"date-time"}, f"{name}.{field}: {value}"
                found += 1
    for name, operation in OPERATIONS:
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query" and INSTANT.search(parameter["name"]):
                assert formats(parameter["schema"]) == {"date-time"}, (name, parameter)
                found += 1
    assert found > 30


def test_precisions_are_the_same_enum_on_reads_as_on_writes() -> None:
    def reference(schema: dict[str, Any], field: str) -> set[str]:
        value = schema["properties"][field]
        return {arm.get("$ref", "") for arm in value.get("oneOf", [value])} - {""}

    assert reference(SCHEMAS["Place"], "precision") == reference(SCHEMAS["PlaceIn"], "precision")
    assert reference(SCHEMAS["Place"], "precision") == {"#/components/schemas/PlacePrecision"}
    assert reference(SCHEMAS["Incident"], "occurred_precision") == reference(
        SCHEMAS["IncidentCreate"], "occurred_precision"
    )
    assert reference(SCHEMAS["Incident"], "occurred_precision") == {
        "#/components/schemas/TimePrecision"
    }


def examples() -> list[tuple[str, dict[str, Any], Any]]:
    """Every JSON example in the document, with the schema it is an example of."""
    found: list[tuple[str, dict[str, Any], Any]] = []
    for name, operation in OPERATIONS:
        bodies = [("request", operation.get("requestBody", {}).get("content", {}))]
        bodies += [(code, r.get("content", {})) for code, r in operation["responses"].items()]
        for where, content in bodies:
            for media, body in content.items():
                if media == "text/event-stream":
                    continue
                found.extend(
                    (f"{name} {where}", body["schema"], example["value"])
                    for example in body.get("examples", {}).values()
                )
    return found


@pytest.mark.parametrize(
    ("where", "schema", "value"), examples(), ids=[w for w, _, _ in examples()]
)
def test_every_example_is_valid_by_its_schema(
    where: str, schema: dict[str, Any], value: Any
) -> None:
    document = {"components": DOCUMENT["components"], **schema}
    validator = jsonschema_rs.Draft202012Validator(document)
    errors = [error.message for error in validator.iter_errors(value)]
    assert not errors, f"{where}: {errors}"


def test_the_other_formats_are_documented_where_they_are_answered() -> None:
    paths = DOCUMENT["paths"]
    formats = {
        "/v1/incidents": {"application/json", "application/geo+json"},
        "/v1/incidents/{incident_id}/timeline": {"application/json", "text/csv"},
        "/v1/timeline": {"application/json", "text/csv"},
        "/v1/claims/{claim_id}/claimreview": {"application/ld+json", "application/json"},
    }
    for path, media_types in formats.items():
        operation = paths[path]["get"]
        assert set(operation["responses"]["200"]["content"]) == media_types, path
        assert "406" in operation["responses"], path
        assert "**Formats**" in operation["description"], path
    geojson = paths["/v1/incidents"]["get"]["responses"]["200"]["content"]["application/geo+json"]
    assert geojson["schema"] == {"$ref": "#/components/schemas/IncidentFeatureCollection"}
    (example,) = geojson["examples"].values()
    assert example["value"]["features"][0]["geometry"]["coordinates"] == [34.3033, 51.2725]
    assert "no-verdict" in paths["/v1/claims/{claim_id}/claimreview"]["get"]["description"]
    # The problem of one operation is not listed on the others answering the same status.
    assert "no-verdict" not in paths["/v1/claims/{claim_id}"]["get"]["description"]
