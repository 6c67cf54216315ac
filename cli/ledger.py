"""The commands on the ledger and its schema: migrate, demo load, import, export, rebuild.

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

from claimledger.cli.exporter import Exported, export_file
from claimledger.cli.importer import Imported, import_file
from claimledger.cli.progress import ProgressBar
from claimledger.cli.reading import ImportFailed
from claimledger.projections import garbage
from claimledger.projections.rebuild import default_workers, rebuild
from claimledger.runtime.bootstrap import started
from claimledger.runtime.demo import LoadReport, load_demo
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
    async def run() -> LoadReport:
        async with started(without_workers(settings), watch=False) as services:
            writer = services.writer
            return await writer.run(load_demo, writer.ledger, recorded_by=SYSTEM_KEY_ID)

    loaded = anyio.run(run)
    if not loaded.written:
        text = "the Tiotkino scenario is already loaded; nothing written"
    elif loaded.at_archive_times:
        text = (
            f"loaded the Tiotkino scenario: {loaded.written} new entities and statements,"
            " recorded as they were learned on 12 March 2024"
        )
    else:
        text = (
            f"loaded the Tiotkino scenario: {loaded.written} new entities and statements,"
            " recorded now (the ledger held other records already)"
        )
    figures = {"written": loaded.written, "at_archive_times": loaded.at_archive_times}
    report(args, text, figures)
    return 0


def import_command(args: argparse.Namespace, settings: Settings) -> int:
    bar = ProgressBar(f"importing {args.file.name}", unit="records")
    done = Imported()

    async def run() -> Imported | ImportFailed:
        async with started(without_workers(settings), watch=False) as services:
            try:
                return await import_file(
                    services.writer,
                    services.pool,
                    args.file,
                    recorded_by=SYSTEM_KEY_ID,
                    keep_recorded_at=args.keep_recorded_at,
                    progress=bar.update,
                    done=done,
                )
            except ImportFailed as error:
                return error

    garbage.take_over()
    result = anyio.run(run)
    if isinstance(result, ImportFailed):
        error = result
        bar.finish()
        if done.saved_through:
            saved = (
                f"lines 1-{done.saved_through} are saved ({done.new} new,"
                f" {done.skipped} already recorded); run the file again once the line is"
                " fixed and they are skipped"
            )
        else:
            saved = "nothing was saved"
        print(f"import stopped at {error}; {saved}", file=sys.stderr)
        return 1
    bar.finish()
    rate = (result.new + result.skipped) / result.seconds if result.seconds else 0.0
    kinds = ", ".join(_counted(n, kind.replace("_", " ")) for kind, n in result.by_type.items())
    text = (
        f"imported {_counted(result.new, 'record')}{f' ({kinds})' if kinds else ''}, skipped"
        f" {result.skipped} already recorded, in {result.seconds:.1f} s, {rate:,.0f} lines/s"
    )
    figures = {
        "records": result.new,
        "new": result.new,
        "skipped": result.skipped,
        "seconds": result.seconds,
        "by_type": result.by_type,
    }
    report(args, text, figures)
    return 0


def export_command(args: argparse.Namespace, settings: Settings) -> int:
    bar = ProgressBar(f"exporting to {args.file.name}", unit="records")

    async def run() -> Exported:
        async with started(without_workers(settings), watch=False) as services:
            return await export_file(
                services.pool, services.writer.ledger, args.file, progress=bar.update
            )

    result = anyio.run(run)
    bar.finish()
    where = "standard output" if str(args.file) == "-" else args.file
    text = f"exported {_counted(result.records, 'record')} to {where} in {result.seconds:.1f} s"
    if str(args.file) == "-":  # the lines are on standard output: the report goes beside them
        print(text, file=sys.stderr)
    else:
        report(args, text, {"records": result.records, "seconds": result.seconds})
    return 0


def _counted(number: int, thing: str) -> str:
    return f"{number} {thing}" if number == 1 else f"{number} {thing}s"


def rebuild_command(args: argparse.Namespace, settings: Settings) -> int:
    bar = ProgressBar("rebuilding views")

    async def run() -> Any:
        async with started(without_workers(settings), watch=False) as services:
            return await rebuild(
                services.settings.require_database_url,
                workers=args.workers or default_workers(),
                progress=bar.update,
            )

    garbage.take_over()
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
