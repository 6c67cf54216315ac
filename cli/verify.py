"""``claimledger verify``: recompute the log from the event table and check every checkpoint.

Exit codes: 0 the log is intact, 1 the past was rewritten (the sentence names the first leaf
that differs), 2 the check could not run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import anyio

from claimledger.cli.failures import EXIT_REFUSED, EXIT_USAGE, CommandFailed
from claimledger.cli.ledger import report, without_workers
from claimledger.runtime.bootstrap import started
from claimledger.runtime.log_keys import log_signer, made_key_file
from claimledger.runtime.settings import Settings
from claimledger.store.db import close, connect
from claimledger.transparency.notes import NoteError, NoteVerifier
from claimledger.transparency.verify import Verification, verify_log


def verifier_of(args: argparse.Namespace, settings: Settings) -> NoteVerifier | None:
    """The key checkpoints must be signed with: ``--key`` (a verifier key, or a file holding
    one), else the log's own key from the settings, else none (signatures are not checked)."""
    given: str | None = args.key
    if given is None:
        # The key the embedded server made is the log's key, but verifying never makes one.
        made = bool(getattr(args, "embedded", False)) and made_key_file(settings).is_file()
        signer = log_signer(settings, generate=made)
        return None if signer is None else signer.verifier()
    path = Path(given)
    text = given
    if "+" not in given or path.is_file():
        try:
            text = path.read_text().strip()
        except OSError as error:
            raise CommandFailed(f"--key {given}: {error.strerror}", EXIT_USAGE) from None
    try:
        return NoteVerifier.parse(text)
    except NoteError as error:
        raise CommandFailed(f"--key is not a verifier key: {error}", EXIT_USAGE) from None


def verify_command(args: argparse.Namespace, settings: Settings) -> int:
    key = verifier_of(args, settings)

    async def run() -> Verification:
        async with started(without_workers(settings), watch=False) as services:
            connection = await connect(services.settings.require_database_url)
            try:
                return await verify_log(connection, key)
            finally:
                await close(connection)

    found = anyio.run(run)
    figures = {
        "intact": found.intact,
        "leaves": found.leaves,
        "checkpoints": found.checkpoints,
        "signed": found.signed,
        "signatures_checked": key is not None,
        "problem": found.problem,
        "leaf": found.leaf,
    }
    if found.problem is not None:
        if getattr(args, "json", False):
            report(args, "", figures)
        else:
            print(f"claimledger: tampered: {found.problem}", file=sys.stderr)
        return EXIT_REFUSED
    signatures = (
        f", {found.signed} signatures good"
        if key is not None
        else " (signatures not checked: no key)"
    )
    text = (
        f"the log is intact: {found.leaves} leaves hashed again from the event table,"
        f" {found.checkpoints} checkpoints match{signatures}, each consistent with the next"
    )
    report(args, text, figures)
    return 0
