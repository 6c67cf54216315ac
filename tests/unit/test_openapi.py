"""The committed OpenAPI document is the one the app generates."""

from __future__ import annotations

import json
from pathlib import Path

from claimledger.api.app import openapi_document

COMMITTED = Path(__file__).parents[2] / "openapi" / "openapi.json"


def test_the_committed_openapi_document_matches_the_app() -> None:
    assert COMMITTED.read_text() == openapi_document(), (
        "openapi/openapi.json is stale: run `make openapi` and commit it"
    )


def test_every_operation_has_an_id_and_every_write_names_its_errors() -> None:
    document = json.loads(openapi_document())
    operations = [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]
    ids = [operation.get("operationId") for _, _, operation in operations]
    assert all(ids)
    assert len(ids) == len(set(ids))
    writes = [op for path, method, op in operations if method in ("post", "patch", "delete")]
    assert writes
    for operation in writes:
        assert {"401", "403"} <= set(operation["responses"]), operation["operationId"]
        if "requestBody" in operation:
            problem = operation["responses"]["422"]["content"]
            assert "application/problem+json" in problem, operation["operationId"]
