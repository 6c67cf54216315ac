"""A value outside a fixed set, in any body field or query parameter, is a problem that lists the
values allowed. The cases are every enum of the OpenAPI document's request bodies and
parameters, so a new one is covered as soon as it exists."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Keys
from tests.helpers import Client

pytestmark = pytest.mark.anyio

DOCUMENT = json.loads((Path(__file__).parents[2] / "openapi" / "openapi.json").read_text())
SCHEMAS = DOCUMENT["components"]["schemas"]
BOGUS = "bogus-value"


def _enums(
    schema: dict[str, Any], path: str, seen: tuple[str, ...] = ()
) -> list[tuple[str, list[str]]]:
    """Every enum inside ``schema``: its path (``statements[0].stance``) and its values."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return [] if name in seen else _enums(SCHEMAS[name], path, (*seen, name))
    if "enum" in schema:
        return [(path, [str(v) for v in schema["enum"]])]
    found = []
    for key in ("oneOf", "anyOf", "allOf"):
        for arm in schema.get(key, []):
            found += _enums(arm, path, seen)
    if "items" in schema:
        found += _enums(schema["items"], f"{path}[0]", seen)
    for name, inner in schema.get("properties", {}).items():
        found += _enums(inner, f"{path}.{name}" if path else name, seen)
    return found


def _cases() -> list[Any]:
    cases = []
    for path, operations in DOCUMENT["paths"].items():
        for method, operation in operations.items():
            for content in operation.get("requestBody", {}).get("content", {}).values():
                for field, values in _enums(content["schema"], ""):
                    cases.append(
                        pytest.param(
                            method, path, "body", field, values, id=f"{method} {path} {field}"
                        )
                    )
            for parameter in operation.get("parameters", []):
                for _, values in _enums(parameter["schema"], ""):
                    name = parameter["name"]
                    cases.append(
                        pytest.param(
                            method, path, "query", name, values, id=f"{method} {path} ?{name}"
                        )
                    )
    return cases


CASES = _cases()


def _body_with(field: str, value: str) -> Any:
    """A body holding ``value`` at ``field`` (``a[0].b``) and nothing else."""
    steps = field.replace("[0]", ".[0]").split(".")
    body: Any = value
    for step in reversed(steps):
        body = [body] if step == "[0]" else {step: body}
    return body


def test_every_enum_of_bodies_and_parameters_is_a_case() -> None:
    fields = {(values[2], values[3]) for values in (case.values for case in CASES)}
    assert {
        ("body", "stance"),
        ("body", "statements[0].stance"),
        ("body", "kind"),
        ("body", "reliability"),
        ("body", "verdict"),
        ("body", "occurred_precision"),
        ("body", "place.precision"),
        ("body", "event_types[0]"),
        ("query", "stance"),
        ("query", "kind"),
        ("query", "status"),
        ("query", "types"),
    } <= fields


@pytest.mark.parametrize(("method", "path", "source", "field", "values"), CASES)
async def test_a_value_outside_the_set_is_a_problem_listing_the_values_allowed(
    client: Client, keys: Keys, method: str, path: str, source: str, field: str, values: list[str]
) -> None:
    target = path
    for name in ("claim_id", "incident_id", "source_id", "webhook_id"):
        target = target.replace(f"{{{name}}}", str(uuid.uuid4()))
    if source == "body":
        response = await client.request(
            method.upper(), target, json=_body_with(field, BOGUS), headers=keys.header("admin")
        )
        assert response.status_code == 422, response.text
    else:
        response = await client.request(method.upper(), target, params={field: BOGUS})
        assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    message = f"'{BOGUS}' is not one of {', '.join(values)}"
    assert problem["field"] == field
    assert problem["detail"] == f"{field}: {message}"
    assert problem["errors"][0] == {
        "field": field,
        "source": source,
        "message": message,
        "allowed": values,
    }


async def test_a_misspelt_stance_lists_every_stance(client: Client, keys: Keys) -> None:
    response = await client.post(
        f"/v1/claims/{uuid.uuid4()}/statements",
        json={
            "source_id": str(uuid.uuid4()),
            "stance": "confirm",
            "published_at": "2024-03-12T06:10:00Z",
        },
        headers=keys.header("editor"),
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == (
        "stance: 'confirm' is not one of asserts, denies, confirms, refutes, retracts"
    )


async def test_other_problems_keep_their_message_and_list_nothing(
    client: Client, keys: Keys
) -> None:
    response = await client.post(
        "/v1/sources", json={"name": "", "kind": "media"}, headers=keys.header("editor")
    )
    assert response.status_code == 422, response.text
    error = response.json()["errors"][0]
    assert error["field"] == "name"
    assert "allowed" not in error
    assert "is not one of" not in error["message"]
