"""``claimledger check-log``: what a newsroom runs against a ledger it does not operate.

It keeps a checkpoint it fetched once; later it asks the ledger for its latest checkpoint and
for the proof that the old tree is the start of the new one, and checks both signatures and the
proof itself (RFC 9162): no trust in the server's arithmetic. With ``--statement`` it also checks
that a statement's leaf is in the new tree and says what the ledger says it said. Exit codes: 0
consistent, 1 the ledger's log contradicts itself, 2 the check could not run.
"""

from __future__ import annotations

import argparse
import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from claimledger.cli.failures import EXIT_REFUSED, EXIT_USAGE, CommandFailed
from claimledger.transparency import merkle
from claimledger.transparency.leaves import decode_leaf
from claimledger.transparency.notes import Checkpoint, NoteError, NoteVerifier, parse_checkpoint


class Contradiction(Exception):
    """The log's answers contradict what it signed."""


@dataclass(frozen=True)
class Checked:
    old: Checkpoint
    new: Checkpoint
    note: str
    statement: str | None = None


def _signed(note: str, key: NoteVerifier, what: str) -> Checkpoint:
    try:
        return parse_checkpoint(key.verify(note))
    except NoteError as error:
        raise Contradiction(f"{what} is not a checkpoint signed by {key.name}: {error}") from None


def _json(client: httpx.Client, path: str, **params: Any) -> Any:
    response = client.get(path, params=params)
    if response.status_code != 200:
        msg = f"GET {path} answered {response.status_code}: {response.text[:200]}"
        raise CommandFailed(msg, EXIT_USAGE)
    return response.json()


def _hashes(values: list[str]) -> list[bytes]:
    return [base64.b64decode(value, validate=True) for value in values]


def check_log(
    client: httpx.Client, saved: str, key: NoteVerifier, statement: UUID | None = None
) -> Checked:
    """Check the ledger behind ``client`` against the checkpoint note ``saved``."""
    old = _signed(saved, key, "the saved checkpoint")
    response = client.get("/v1/log/checkpoint")
    if response.status_code != 200:
        msg = f"GET /v1/log/checkpoint answered {response.status_code}"
        raise CommandFailed(msg, EXIT_USAGE)
    note = response.text
    new = _signed(note, key, "the ledger's latest checkpoint")
    if new.origin != old.origin:
        raise Contradiction(f"the ledger's log is {new.origin!r}, not {old.origin!r}")
    if new.size < old.size:
        raise Contradiction(f"the log shrank from {old.size} to {new.size} leaves")
    proof = _json(client, "/v1/log/proofs/consistency", first=old.size, second=new.size)
    path = _hashes(proof["consistency_path"])
    if not merkle.verify_consistency(old.size, new.size, path, old.root, new.root):
        raise Contradiction(
            f"the tree of {new.size} leaves does not extend the saved tree of {old.size}:"
            " the log rewrote what it had signed"
        )
    told = None if statement is None else _included(client, new, statement)
    return Checked(old, new, note, told)


def _included(client: httpx.Client, new: Checkpoint, statement: UUID) -> str:
    proof = _json(
        client, "/v1/log/proofs/inclusion", statement_id=str(statement), tree_size=new.size
    )
    index = int(proof["leaf_index"])
    entries = _json(client, "/v1/log/entries", start=index, end=index + 1)["entries"]
    leaf = base64.b64decode(entries[0]["leaf"], validate=True)
    digest = merkle.leaf_hash(leaf)
    path = _hashes(proof["inclusion_path"])
    if not merkle.verify_inclusion(digest, index, new.size, path, new.root):
        raise Contradiction(f"statement {statement}'s leaf {index} is not in the signed tree")
    fields = decode_leaf(leaf)
    if fields.aggregate_id != statement or fields.version != 1:
        raise Contradiction(f"leaf {index} is not statement {statement}'s recording")
    when = fields.recorded_at.isoformat() if fields.recorded_at else "an unknown time"
    return f"statement {statement} is leaf {index} of the signed tree, recorded at {when}"


def check_log_command(args: argparse.Namespace) -> int:
    saved = _read(args.checkpoint, "the saved checkpoint")
    key_text = args.key if "+" in args.key and not Path(args.key).is_file() else None
    try:
        key = NoteVerifier.parse(key_text or _read(Path(args.key), "--key").strip())
    except NoteError as error:
        raise CommandFailed(f"--key is not a verifier key: {error}", EXIT_USAGE) from None
    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
    try:
        with httpx.Client(base_url=args.url, headers=headers, timeout=30) as client:
            checked = check_log(client, saved, key, args.statement)
    except Contradiction as error:
        print(f"claimledger: the log contradicts itself: {error}")
        return EXIT_REFUSED
    except httpx.HTTPError as error:
        raise CommandFailed(f"cannot ask {args.url}: {error}", EXIT_USAGE) from None
    print(
        f"consistent: the saved tree of {checked.old.size} leaves is the start of the"
        f" ledger's signed tree of {checked.new.size} leaves"
    )
    if checked.statement is not None:
        print(checked.statement)
    if args.save:
        Path(args.checkpoint).write_text(checked.note)
        print(f"saved the new checkpoint in {args.checkpoint}")
    return 0


def _read(path: Path, what: str) -> str:
    try:
        return Path(path).read_text()
    except OSError as error:
        raise CommandFailed(f"{what} {path}: {error.strerror or error}", EXIT_USAGE) from None
    except UnicodeDecodeError:
        raise CommandFailed(f"{what} {path} is not text", EXIT_USAGE) from None
