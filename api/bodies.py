"""How request bodies are read: JSON decoded straight into the handler's type, strictly.

Litestar decodes a body to Python objects and then converts them leniently (``"3"`` for 3, a
number for a date-time). Here the body is decoded by msgspec into the declared type with
``strict=True``, so the contract in the OpenAPI document is exactly what is accepted. A body that
is not UTF-8 or nests deeper than the interpreter can follow is a 400, not a 500.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import SerializationException, ValidationException
from litestar.serialization import default_deserializer
from litestar.types import Empty

# msgspec ends an error message with where it happened: "... - at `$.place.lat`".
_AT = re.compile(r" - at `\$(.*)`$")

# A decoder per operation's body, by its field (kept, so that its id is not reused). msgspec
# finds a decoder for a type by hashing it, and a body's type is an ``Annotated`` alias whose
# hash (Litestar's ``Body`` metadata, a dataclass copied into a dict to be hashed) was a tenth
# of the API's time a write.
_decoders: dict[int, tuple[Any, msgspec.json.Decoder[Any]]] = {}
_DECODERS_KEPT = 1000


def _decoder(handler: Any) -> msgspec.json.Decoder[Any]:
    field = handler.parsed_data_field
    found = _decoders.get(id(field))
    if found is None or found[0] is not field:
        if len(_decoders) >= _DECODERS_KEPT:
            _decoders.clear()  # apps made and dropped (tests): one app has a few dozen
        decoder = msgspec.json.Decoder(
            field.raw,
            strict=True,
            dec_hook=partial(default_deserializer, type_decoders=handler.resolve_type_decoders()),
        )
        found = _decoders[id(field)] = (field, decoder)
    return found[1]


class StrictRequest(Request[Any, Any, Any]):
    """A request whose ``json()`` decodes into the handler's ``data`` type without coercion."""

    __slots__ = ()

    async def body(self) -> bytes:
        """The body; an empty one where the operation needs one is a 400 saying so."""
        body = await super().body()
        field = self.route_handler.parsed_data_field
        if not body.strip() and field is not None and not field.is_optional:
            raise SerializationException("the request needs a JSON body")
        return body

    async def json(self) -> Any:
        field = self.route_handler.parsed_data_field
        if field is None or self._json is not Empty or self._connection_state.json is not Empty:
            return await super().json()
        body = await self.body()
        try:
            value = _decoder(self.route_handler).decode(body if body.strip() else b"null")
        except msgspec.ValidationError as error:
            text = str(error)
            at = _AT.search(text)
            key = at.group(1).lstrip(".") if at else ""
            raise ValidationException(
                detail=f"Validation failed for {self.method} {self.url.path}",
                extra=[{"message": _AT.sub("", text), "key": key or "data", "source": "body"}],
            ) from error
        except msgspec.DecodeError as error:
            raise SerializationException(str(error)) from error
        except UnicodeDecodeError as error:
            raise SerializationException("the body is not valid UTF-8") from error
        except RecursionError as error:
            raise SerializationException("the body is nested too deeply") from error
        self._json = self._connection_state.json = value
        return value
