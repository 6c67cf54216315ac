"""The export format covers every kind of event the domain has, and reads back as import lines,
on the library's in-memory store."""

from __future__ import annotations

import importlib
import pkgutil
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import msgspec
import pytest
from eventsourcing.domain import Aggregate

import claimledger.domain
from claimledger.cli import lines as fmt
from claimledger.cli.exporter import ExportFailed, line_of
from claimledger.domain.ledger import Ledger
from tests.ledger_data import populate


def event_classes() -> set[type[Any]]:
    """Every event class defined in the domain's modules."""
    found: set[type[Any]] = set()
    for module in pkgutil.iter_modules(claimledger.domain.__path__):
        loaded = importlib.import_module(f"claimledger.domain.{module.name}")
        for value in vars(loaded).values():
            if (
                isinstance(value, type)
                and issubclass(value, Aggregate.Event)
                and value.__module__ == loaded.__name__
            ):
                found.add(value)
    return found


def test_every_event_the_domain_has_exports_as_a_line_the_importer_reads() -> None:
    ledger = Ledger({"MAPPER_TOPIC": "claimledger.store.codec:MsgspecMapper"})
    populate(ledger)
    seen: set[type[Any]] = set()
    for notification in ledger.recorder.select_notifications(start=1, limit=10_000):
        event = ledger.mapper.to_domain_event(notification)
        seen.add(type(event))
        line = fmt.decoder.decode(msgspec.json.encode(line_of(event)))
        assert line.recorded_at == event.timestamp  # type: ignore[attr-defined]
        assert line.recorded_by == event.recorded_by  # type: ignore[attr-defined]
    assert seen == event_classes()


def test_an_event_without_a_line_is_refused_by_name() -> None:
    class Renamed(Aggregate.Event):
        pass

    with pytest.raises(ExportFailed, match="no line for Renamed events"):
        line_of(Renamed(originator_id=uuid4(), originator_version=1, timestamp=datetime.now(UTC)))
