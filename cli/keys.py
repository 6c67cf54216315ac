"""``claimledger keys create | list | revoke``: API keys, shown once when made."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio

from claimledger.cli.ledger import report, without_workers
from claimledger.runtime.bootstrap import started
from claimledger.runtime.keys import KeyStore, Role
from claimledger.runtime.settings import Settings

T = TypeVar("T")


def _with_keys(settings: Settings, use: Callable[[KeyStore], Awaitable[T]]) -> T:
    async def run() -> T:
        async with started(without_workers(settings), watch=False) as services:
            return await use(services.keys)

    return anyio.run(run)


def keys_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.keys_command == "create":
        key = _with_keys(
            settings, lambda keys: keys.create(name=args.name, role=Role.parse(args.role))
        )
        text = (
            f"created {key.role.label} key {key.id} ({key.name}); it is shown once:\n{key.secret}"
        )
        figures = {"id": key.id, "name": key.name, "role": key.role.label, "secret": key.secret}
        report(args, text, figures)
        return 0
    if args.keys_command == "list":
        for row in _with_keys(settings, lambda keys: keys.list()):
            state = "revoked" if row["revoked_at"] else "active"
            created = f"{row['created_at']:%Y-%m-%d}"
            print(f"{row['id']}  {row['role']:<6}  {state:<7}  {created}  {row['name']}")
        return 0
    if _with_keys(settings, lambda keys: keys.revoke(args.key_id)):
        print(f"revoked {args.key_id}")
        return 0
    print(f"no active key {args.key_id}", file=sys.stderr)
    return 1
