"""The OpenAPI document says what the server does: strict bodies, every field's limits.

Litestar's own schema for msgspec Structs drops the constraints of nested types (a list's item
pattern, the arms of a union) and never says ``additionalProperties: false``. This plugin, asked
before Litestar's own, describes a Struct from msgspec's view of it: every ``Meta`` at every
depth, ``UNSET`` left out of unions, and unknown fields refused where the Struct refuses them.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import msgspec
from litestar.openapi.spec import Example, OpenAPI, Schema
from litestar.openapi.spec.enums import OpenAPIType
from litestar.params import ParameterKwarg
from litestar.plugins import OpenAPISchemaPlugin
from litestar.types import Empty
from litestar.typing import FieldDefinition

_SEQUENCES = (list, set, frozenset, tuple, collections.abc.Sequence, collections.abc.Set)
_CONSTRAINTS = ("gt", "ge", "lt", "le", "multiple_of", "pattern")


def _constraints(meta: msgspec.Meta, target: Any) -> dict[str, Any]:
    found = {name: value for name in _CONSTRAINTS if (value := getattr(meta, name)) is not None}
    origin = get_origin(target) or target
    sequence = (
        isinstance(origin, type) and issubclass(origin, _SEQUENCES) and origin not in (str, bytes)
    )
    if meta.min_length is not None:
        found["min_items" if sequence else "min_length"] = meta.min_length
    if meta.max_length is not None:
        found["max_items" if sequence else "max_length"] = meta.max_length
    return found


def _documentation(meta: msgspec.Meta) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if meta.title is not None:
        found["title"] = meta.title
    if meta.description is not None:
        found["description"] = meta.description
    if meta.examples:
        found["examples"] = [Example(value=example) for example in meta.examples]
    return found


def _rewrite(annotation: Any, docs: dict[str, Any]) -> Any:
    """msgspec ``Meta`` as Litestar's ``ParameterKwarg`` at every depth, without ``UnsetType``.

    Titles, descriptions and examples are gathered into ``docs`` (the outermost wins), to be
    put on the property rather than inside one arm of a union.
    """
    origin = get_origin(annotation)
    if origin is Annotated:
        inner, *metadata = get_args(annotation)
        inner = _rewrite(inner, docs)
        limits: dict[str, Any] = {}
        kept = []
        for item in metadata:
            if isinstance(item, msgspec.Meta):
                limits.update(_constraints(item, inner))
                for key, value in _documentation(item).items():
                    docs.setdefault(key, value)
            else:
                kept.append(item)
        extras = ([ParameterKwarg(**limits)] if limits else []) + kept
        return Annotated[(inner, *extras)] if extras else inner
    if origin in (Union, types.UnionType):
        arms = [_rewrite(arm, docs) for arm in get_args(annotation) if arm is not msgspec.UnsetType]
        return arms[0] if len(arms) == 1 else Union[tuple(arms)]  # noqa: UP007 - built at run time
    if origin is Literal or origin is None:
        return annotation
    arguments = tuple(
        argument if argument is Ellipsis else _rewrite(argument, docs)
        for argument in get_args(annotation)
    )
    if not arguments:
        return annotation
    return origin[arguments]


def _with_documentation(annotation: Any, docs: dict[str, Any]) -> Any:
    if not docs:
        return annotation
    if get_origin(annotation) is Annotated:
        inner, *metadata = get_args(annotation)
        for index, item in enumerate(metadata):
            if isinstance(item, ParameterKwarg):
                metadata[index] = dataclasses.replace(item, **docs)
                return Annotated[(inner, *metadata)]
    return Annotated[annotation, ParameterKwarg(**docs)]


def _exact_integers(node: Schema, kind: msgspec.inspect.Type) -> None:
    """Litestar writes numeric bounds as floats, which cannot say 2**63 - 1: put the exact
    integers back wherever the field (or an arm, or an item of it) is an integer."""
    if isinstance(kind, msgspec.inspect.Metadata):
        kind = kind.type
    if isinstance(kind, msgspec.inspect.IntType) and node.type == OpenAPIType.INTEGER:
        node.minimum = kind.ge if kind.ge is not None else node.minimum
        node.maximum = kind.le if kind.le is not None else node.maximum
    for arm in node.one_of or []:
        if isinstance(arm, Schema):
            for option in getattr(kind, "types", (kind,)):
                _exact_integers(arm, option)
    item = getattr(kind, "item_type", None)
    if item is not None and isinstance(node.items, Schema):
        _exact_integers(node.items, item)


class StructContract(OpenAPISchemaPlugin):
    """The schema of a msgspec Struct with all of its limits (see the module's docstring)."""

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return not field_definition.is_union and field_definition.is_subclass_of(msgspec.Struct)

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        hints = field_definition.get_type_hints(include_extras=True, resolve_generics=True)
        info = msgspec.inspect.type_info(field_definition.type_)
        assert isinstance(info, msgspec.inspect.StructType)
        properties: dict[str, FieldDefinition] = {}
        for field in info.fields:
            docs: dict[str, Any] = {}
            properties[field.encode_name] = FieldDefinition.from_annotation(
                _with_documentation(_rewrite(hints[field.name], docs), docs),
                name=field.encode_name,
                default=(
                    Empty if field.default in (msgspec.NODEFAULT, msgspec.UNSET) else field.default
                ),
            )
        required = [field.encode_name for field in info.fields if field.required]
        if info.tag_field:
            properties[info.tag_field] = FieldDefinition.from_annotation(Literal[info.tag])
            required.append(info.tag_field)
        schema: Schema = schema_creator.create_component_schema(
            field_definition, required=sorted(required), property_fields=properties
        )
        for field in info.fields:
            node = (schema.properties or {}).get(field.encode_name)
            if isinstance(node, Schema):
                _exact_integers(node, field.type)
        if info.forbid_unknown_fields:
            schema.additional_properties = False
        return schema


def _takes_text(schema: Schema) -> bool:
    """Whether a query value ``null`` reaches the handler as the text "null" (or a list of it)."""
    if schema.type == OpenAPIType.ARRAY:
        return True
    return schema.type == OpenAPIType.STRING and schema.format is None


def without_null_parameters(document: OpenAPI) -> None:
    """Text parameters as a query string or a header carries them: ``X``, not ``X`` or ``null``.

    A parameter left out is said by ``required: false``. Litestar documents every optional
    parameter as "or null", but only a number, an id or a choice takes the text ``null`` for
    "none"; a text (or a list) takes it as the text "null", which is what the document says now.
    """
    for item in (document.paths or {}).values():
        for operation in (item.get, item.put, item.post, item.patch, item.delete):
            for parameter in (operation.parameters if operation else None) or []:
                schema = getattr(parameter, "schema", None)
                if not isinstance(schema, Schema) or not schema.one_of:
                    continue
                arms = [a for a in schema.one_of if getattr(a, "type", None) != OpenAPIType.NULL]
                if len(arms) == 1 and isinstance(arms[0], Schema) and _takes_text(arms[0]):
                    schema.one_of = None
                    for name, value in vars(arms[0]).items():
                        if value is not None and getattr(schema, name, None) is None:
                            setattr(schema, name, value)
