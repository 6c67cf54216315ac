"""The contract refuses what the server refuses: every request field is bounded in the document.

Walks every request body schema of the generated OpenAPI document, so a field added later without
its limits fails here, not in production.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

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
