"""The values a field of a request may take, when it takes one of a fixed set (an enum or a
``Literal``), so that a problem can list them.

They are read from the types of the operation that refused the request: its body's Struct,
followed along the field's path (``statements[0].stance``), or the query parameter of that name
among the handler's and its dependencies' parameters. Nothing is listed twice by hand.
"""

from __future__ import annotations

import enum
import re
import types
from collections.abc import Iterator, Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import msgspec
from litestar import Request

_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def allowed_values(
    request: Request[Any, Any, Any], source: str | None, field: str | None
) -> list[str] | None:
    """The values ``field`` (a body path, or a query parameter's name) may take; None when it is
    not a field of a fixed set, or cannot be found."""
    handler = request.scope.get("route_handler")
    if handler is None or not field:
        return None
    if source == "body":
        data = handler.parsed_data_field
        annotation = None if data is None else _follow(data.annotation, field)
    elif source == "query":
        annotation = _query_parameter(handler, field)
    else:
        return None
    return None if annotation is None else _choices(annotation)


def choices_at(annotation: Any, path: str) -> list[str] | None:
    """The values the field at ``path`` (``evidence[0].kind``) inside ``annotation`` may take;
    None when it is not a field of a fixed set."""
    found = _follow(annotation, path)
    return None if found is None else _choices(found)


def _query_parameter(handler: Any, name: str) -> Any:
    signatures = [handler.parsed_fn_signature]
    signatures += [p.parsed_fn_signature for p in handler.resolve_dependencies().values()]
    for signature in signatures:
        for parameter in signature.parameters.values():
            alias = getattr(parameter.kwarg_definition, "query", None)
            if (alias or parameter.name) == name:
                return parameter.annotation
    return None


def _follow(annotation: Any, path: str) -> Any:
    """The type at ``path`` inside ``annotation``, through Structs and lists."""
    for name, index in _STEP.findall(path):
        if index:
            annotation = next(
                (get_args(arm)[0] for arm in _arms(annotation) if _is_sequence(arm)), None
            )
        else:
            struct = next((arm for arm in _arms(annotation) if _is_struct(arm)), None)
            if struct is None:
                return None
            annotation = next(
                (f.type for f in msgspec.structs.fields(struct) if f.encode_name == name), None
            )
        if annotation is None:
            return None
    return annotation


def _choices(annotation: Any) -> list[str] | None:
    """The values of the enum or ``Literal`` that ``annotation`` holds (inside a list, too)."""
    for arm in _arms(annotation):
        if isinstance(arm, type) and issubclass(arm, enum.Enum):
            return [str(member.value) for member in arm]
        if get_origin(arm) is Literal:
            return [str(value) for value in get_args(arm)]
        if _is_sequence(arm):
            found = _choices(get_args(arm)[0])
            if found is not None:
                return found
    return None


def _arms(annotation: Any) -> Iterator[Any]:
    """The types a value of ``annotation`` may have: ``Annotated`` stripped, unions split."""
    origin = get_origin(annotation)
    if origin is Annotated:
        yield from _arms(get_args(annotation)[0])
    elif origin in (Union, types.UnionType):
        for arm in get_args(annotation):
            yield from _arms(arm)
    else:
        yield annotation


def _is_struct(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, msgspec.Struct)


def _is_sequence(annotation: Any) -> bool:
    origin = get_origin(annotation)
    return isinstance(origin, type) and issubclass(origin, Sequence) and bool(get_args(annotation))
