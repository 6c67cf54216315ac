"""The other formats an operation answers, in the OpenAPI document: each media type beside the
JSON one, with its schema, and a line of the description that says how to ask for it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from litestar.openapi.spec import OpenAPI, OpenAPIMediaType, Operation, Reference, Schema

from claimledger.api.geojson import IncidentFeatureCollection
from claimledger.api.negotiation import CSV, GEOJSON, Representation
from claimledger.api.timeline_csv import COLUMNS

_CSV_SCHEMA = {
    "type": "string",
    "description": "CSV (RFC 4180, UTF-8, CRLF line ends) with a header line; one row per "
    "statement, with the columns " + ", ".join(f"`{c}`" for c in COLUMNS) + ".",
}


class RawSchema(Schema):
    """A schema written out as JSON Schema (made by msgspec, or by hand)."""

    def __init__(self, raw: dict[str, Any]) -> None:
        super().__init__()
        self.raw = raw

    def to_schema(self) -> dict[str, Any]:
        return self.raw


def _one_of(node: Any) -> Any:
    """msgspec's ``anyOf`` of exclusive arms as the document writes them: ``oneOf``."""
    if isinstance(node, dict):
        return {("oneOf" if k == "anyOf" else k): _one_of(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_one_of(v) for v in node]
    return node


def _component(document: OpenAPI, struct: type[msgspec.Struct]) -> Reference:
    """``struct``'s schema among the document's components (those not there already)."""
    (schema,), components = msgspec.json.schema_components(
        [struct], ref_template="#/components/schemas/{name}"
    )
    assert document.components is not None
    known = document.components.schemas
    for name, value in components.items():
        if name not in known:
            known[name] = RawSchema(_one_of(value))
    return Reference(ref=schema["$ref"])


def document_formats(
    document: OpenAPI, operation: Operation, formats: Sequence[Representation]
) -> None:
    """Add the formats after the first to ``operation``'s success answer, and say how to ask."""
    success = next(r for c, r in (operation.responses or {}).items() if str(c).startswith("2"))
    assert not isinstance(success, Reference)
    content = success.content = success.content or {}
    primary = next(iter(content.values()))
    for representation in formats:
        if representation.media_type in content:
            continue
        schema: Schema | Reference | None = primary.schema
        if representation == GEOJSON:
            schema = _component(document, IncidentFeatureCollection)
        elif representation == CSV:
            schema = RawSchema(_CSV_SCHEMA)
        content[representation.media_type] = OpenAPIMediaType(schema=schema)
    shown = [
        f"`{r.media_type}`" + (" (the default)" if i == 0 else f" (or `format={r.name}`)")
        for i, r in enumerate(formats)
    ]
    if any(p for p in operation.parameters or [] if getattr(p, "name", None) == "format"):
        line = "**Formats**, by `Accept` or `format` (which wins): " + ", ".join(shown)
    else:
        line = "**Formats**, by `Accept`: " + ", ".join(s.split(" (or")[0] for s in shown)
    operation.description = (
        f"{(operation.description or '').strip()}\n\n{line}. Any other is a 406."
    )
