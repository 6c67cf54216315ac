"""Pages of a list: the ``cursor`` and ``limit`` parameters, and the cursor to the next page.

A list fetches one row more than its ``limit``: that row is not shown, it only tells that there
is a next page. A cursor holds the sort key of a page's last item, tagged with the list's kind so
that one list's cursor is refused by another.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import msgspec
from litestar.params import QueryParameter

from claimledger.api.reads import INT64_MAX, BadParameter

T = TypeVar("T")
R = TypeVar("R")

Cursor = Annotated[
    str | None,
    QueryParameter(
        max_length=512,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="`next_cursor` from the previous page (any other value is a 400).",
    ),
]
Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Items per page (1-200).")]


def encode_cursor(kind: str, *values: Any) -> str:
    """A cursor of ``kind`` holding ``values``."""
    raw = msgspec.json.encode([kind, *values])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(value: str | None, kind: str, shape: type[T]) -> T | None:
    """The values a cursor of ``kind`` holds, typed as ``shape``; a 400 when it is not one."""
    if value is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        tagged = msgspec.json.decode(raw, type=list[Any])
        if not tagged or tagged[0] != kind:
            raise ValueError(kind)
        values = msgspec.convert(list(tagged[1:]), type=shape)
        if not all(map(_storable, values)):  # type: ignore[call-overload]
            raise ValueError(kind)
    except (ValueError, msgspec.DecodeError, msgspec.ValidationError, TypeError, OverflowError):
        raise BadParameter("cursor", "not a cursor this list gave out") from None
    return values


def _storable(value: object) -> bool:
    """Whether a cursor's value can be a query parameter (a forged one may not be)."""
    if isinstance(value, int):
        return -INT64_MAX - 1 <= value <= INT64_MAX
    if isinstance(value, str):
        return "\x00" not in value
    if isinstance(value, datetime):
        value.astimezone(UTC)  # OverflowError for an instant with no UTC form
    return True


def page_of(
    rows: Sequence[R], limit: int, kind: str, key: Callable[[R], tuple[Any, ...]]
) -> tuple[Sequence[R], str | None]:
    """The rows of a page and the cursor to the next one (None on the last page).

    ``rows`` were fetched with ``limit + 1``; ``key`` gives the values a cursor of ``kind`` holds
    for a row: those its list resumes after.
    """
    if len(rows) <= limit:
        return rows, None
    page = rows[:limit]
    return page, encode_cursor(kind, *key(page[-1]))
