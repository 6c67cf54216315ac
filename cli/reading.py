"""Reading an import file: its lines decoded and checked one by one, in batches of one kind."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import groupby
from pathlib import Path
from typing import Any, get_args

import msgspec

from claimledger.api.choices import choices_at
from claimledger.cli import lines as fmt

BATCH = 1000

Numbered = tuple[int, fmt.Line]


class ImportFailed(ValueError):
    """A line that cannot be imported; ``line`` is its number (0 when none is to blame)."""

    def __init__(self, line: int, detail: str) -> None:
        super().__init__(f"line {line}: {detail}" if line else detail)
        self.line = line
        self.detail = detail


def read_lines(
    path: Path, *, keep_recorded_at: bool = False, clock_skew: timedelta = timedelta(minutes=5)
) -> Iterator[Numbered]:
    """The file's lines, decoded and checked one by one (a bad one raises ``ImportFailed``)."""
    previous: tuple[int, datetime] | None = None
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                line = fmt.decoder.decode(raw)
            except msgspec.ValidationError as error:
                raise ImportFailed(number, _explained(str(error), raw)) from None
            except msgspec.DecodeError as error:
                raise ImportFailed(number, f"not JSON ({error})") from None
            if keep_recorded_at:
                previous = (number, _check_moment(number, line, previous, clock_skew))
            elif line.recorded_at is not None or line.recorded_by is not None:
                raise ImportFailed(
                    number,
                    "recorded_at and recorded_by are kept only with --keep-recorded-at;"
                    " without it every record is recorded now",
                )
            yield number, line


_LINES: dict[str, Any] = {str(c.__struct_config__.tag): c for c in get_args(fmt.Line)}
_INVALID = re.compile(r"^Invalid (?:enum )?value (.*) - at `\$\.(.+)`$")


def _explained(message: str, raw: bytes) -> str:
    """msgspec's message, with the values allowed where a field takes one of a fixed set."""
    found = _INVALID.match(message)
    if found is None:
        return message
    value, path = found.groups()
    if path == "type":
        allowed: list[str] | None = list(_LINES)
    else:
        try:
            kind = msgspec.json.decode(raw).get("type")
        except (msgspec.DecodeError, AttributeError):
            return message
        line = _LINES.get(kind) if isinstance(kind, str) else None
        allowed = None if line is None else choices_at(line, path)
    if not allowed:
        return message
    return f"{path}: {value} is not one of {', '.join(allowed)}"


def _check_moment(
    number: int, line: fmt.Line, previous: tuple[int, datetime] | None, clock_skew: timedelta
) -> datetime:
    moment = line.recorded_at
    if moment is None:
        raise ImportFailed(
            number, "recorded_at is missing; --keep-recorded-at needs it on every line"
        )
    if previous is not None and moment < previous[1]:
        raise ImportFailed(
            number,
            f"recorded_at {moment.isoformat()} is before line {previous[0]}'s"
            f" {previous[1].isoformat()}; an archive lists records in the order they were learned",
        )
    if moment > datetime.now(UTC) + clock_skew:
        raise ImportFailed(number, f"recorded_at {moment.isoformat()} is in the future")
    return moment


def _batch_kind(pair: Numbered) -> str:
    line = pair[1]
    return "entities" if isinstance(line, fmt.ENTITY_LINES) else fmt.kind_of(line)


def batches(lines: Iterable[Numbered]) -> Iterator[list[Numbered]]:
    for _, same_kind in groupby(lines, key=_batch_kind):
        batch: list[Numbered] = []
        for pair in same_kind:
            batch.append(pair)
            if len(batch) == BATCH:
                yield batch
                batch = []
        if batch:
            yield batch
