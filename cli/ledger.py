"""The commands on the ledger and its schema: migrate, demo load, import, rebuild.

Each starts the services it needs through ``runtime.bootstrap`` (with no workers) and reports in
one line, or, with ``--json``, in one JSON object the bench and scripts can read.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from typing import Any

import anyio
import msgspec

from claimledger.cli.importer import ImportFailed, import_file
from claimledger.cli.progress import ProgressBar
from claimledger.projections.rebuild import default_workers, rebuild
from claimledger.runtime.bootstrap import started
from claimledger.runtime.demo import load_demo
from claimledger.runtime.keys import SYSTEM_KEY_ID
from claimledger.runtime.settings import Settings


def without_workers(settings: Settings) -> Settings:
    """A command's settings: its own work only, no projector or dispatcher beside it."""
    return replace(settings, roles=frozenset())


def report(args: argparse.Namespace, text: str, figures: dict[str, Any]) -> None:
    """One line for a person, or the figures as JSON with ``--json``."""
    if getattr(args, "json", False):
        sys.stdout.write(msgspec.json.encode(figures).decode() + "\n")
    else:
        print(text)


def migrate_command(args: argparse.Namespace, settings: Settings) -> int:
    async def run() -> tuple[str, ...]:
        async with started(without_workers(settings), watch=False) as services:
            return services.migrations_applied

    applied = anyio.run(run)
    text = "applied: " + (", ".join(applied) if applied else "nothing, the schema is current")
    report(args, text, {"applied": list(applied)})
    return 0


def demo_command(args: argparse.Namespace, settings: Settings) -> int:
    async def run() -> int:
        async with started(without_workers(settings), watch=False) as services:
            writer = services.writer
            loaded = await writer.run(load_demo, writer.ledger, recorded_by=SYSTEM_KEY_ID)
            return loaded.written

    written = anyio.run(run)
    if written:
        text = f"loaded the Tiotkino scenario: {written} new entities and statements"
    else:
        text = "the Tiotkino scenario is already loaded; nothing written"
    report(args, text, {"written": written})
    return 0


def import_command(args: argparse.Namespace, settings: Settings) -> int:
    bar = ProgressBar(f"importing {args.file.name}", unit="records")

    async def run() -> Any:
        async with started(without_workers(settings), watch=False) as services:
            return await import_file(
                services.writer, args.file, recorded_by=SYSTEM_KEY_ID, progress=bar.update
            )

    try:
        result = anyio.run(run)
    except ImportFailed as error:
        bar.finish()
        print(f"import stopped: {error}", file=sys.stderr)
        return 1
    bar.finish()
    rate = result.records / result.seconds if result.seconds else 0.0
    kinds = ", ".join(f"{n} {kind}s" for kind, n in (result.by_type or {}).items())
    text = f"imported {result.records} records ({kinds}) in {result.seconds:.1f} s, {rate:,.0f}/s"
    figures = {"records": result.records, "seconds": result.seconds, "by_type": result.by_type}
    report(args, text, figures)
    return 0


def rebuild_command(args: argparse.Namespace, settings: Settings) -> int:
    bar = ProgressBar("rebuilding views")

    async def run() -> Any:
        async with started(without_workers(settings), watch=False) as services:
            return await rebuild(
                services.settings.require_database_url,
                workers=args.workers or default_workers(),
                progress=bar.update,
            )

    result = anyio.run(run)
    bar.finish()
    rate = result.events / result.seconds if result.seconds else 0.0
    who = "" if result.by_this_process else " (replayed by the running projector)"
    text = (
        f"rebuilt the views from {result.events} events in {result.seconds:.1f} s,"
        f" {rate:,.0f} events/s{who}"
    )
    figures = {
        "events": result.events,
        "seconds": result.seconds,
        "by_this_process": result.by_this_process,
    }
    report(args, text, figures)
    return 0
