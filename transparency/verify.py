"""``claimledger verify``: the whole tree hashed again from the event table, every checkpoint
checked against it, its signature, and its consistency with the next.

Nothing the log stored is trusted but what it is compared with: a leaf's stored hash, a
checkpoint's root. The first leaf whose event no longer hashes as it did is named.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from itertools import pairwise

from claimledger.store.db import Connection
from claimledger.store.events import EVENTS
from claimledger.transparency import merkle
from claimledger.transparency.leaves import encode_leaf
from claimledger.transparency.notes import NoteError, NoteVerifier, parse_checkpoint
from claimledger.transparency.proofs import StoredCheckpoint, checkpoints, consistency_proof
from claimledger.transparency.tree import tree_head

_PAGE = 5000


@dataclass
class Verification:
    """What ``verify`` found: ``problem`` is None when the log is intact."""

    leaves: int = 0
    checkpoints: int = 0
    signed: int = 0
    problem: str | None = None
    leaf: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return self.problem is None


async def _events(connection: Connection) -> AsyncIterator[tuple[int, bytes]]:
    """Every event in position order, as (position, leaf hash)."""
    after = 0
    while True:
        rows = await connection.fetch(
            "SELECT notification_id, originator_id, originator_version, topic, state"
            f" FROM {EVENTS} WHERE notification_id > $1 ORDER BY notification_id LIMIT $2",
            after,
            _PAGE,
        )
        for row in rows:
            yield row[0], merkle.leaf_hash(encode_leaf(*row))
        if len(rows) < _PAGE:
            return
        after = rows[-1][0]


async def _stored_leaves(connection: Connection, size: int) -> AsyncIterator[tuple[int, bytes]]:
    """The stored leaves in order, as (position, hash)."""
    start = 0
    while start < size:
        rows = await connection.fetch(
            "SELECT position, hash FROM transparency.leaves WHERE idx >= $1 AND idx < $2"
            " ORDER BY idx",
            start,
            min(size, start + _PAGE),
        )
        for row in rows:
            yield row[0], row[1]
        start += _PAGE


def _difference(index: int, logged: tuple[int, bytes], now: tuple[int, bytes] | None) -> str:
    position = logged[0]
    if now is None or now[0] > position:
        return f"leaf {index} (position {position}) was deleted from the event table"
    if now[0] < position:
        return f"an event was added at position {now[0]}, before leaf {index}"
    return f"leaf {index} (position {position}) was changed: its event no longer hashes as logged"


async def verify_log(connection: Connection, key: NoteVerifier | None) -> Verification:
    """Check the log; with ``key``, every checkpoint must carry its good signature."""
    result = Verification()
    size = (await tree_head(connection)).size
    stored = list(reversed(await checkpoints(connection, limit=2**31)))
    result.checkpoints = len(stored)
    due = iter(stored)
    checkpoint = next(due, None)
    frontier = merkle.Frontier()
    events = _events(connection)
    async for logged in _stored_leaves(connection, size):
        now = await anext(events, None)
        if now != logged:
            result.leaf = frontier.size
            result.problem = _difference(frontier.size, logged, now)
            return result
        frontier.append(logged[1], [])
        while checkpoint is not None and checkpoint.size == frontier.size:
            problem = _checkpoint_problem(checkpoint, frontier.root(), key)
            if problem is not None:
                result.problem = problem
                return result
            result.signed += checkpoint.verifier_key is not None
            checkpoint = next(due, None)
    result.leaves = frontier.size
    if checkpoint is not None:
        result.problem = f"the checkpoint of {checkpoint.size} leaves is beyond the tree ({size})"
        return result
    result.problem = await _consistency_problem(connection, stored)
    return result


def _checkpoint_problem(
    checkpoint: StoredCheckpoint, root: bytes, key: NoteVerifier | None
) -> str | None:
    where = f"the checkpoint of {checkpoint.size} leaves"
    if checkpoint.root != root:
        return f"{where} does not match the event table: its root differs"
    text = checkpoint.note
    if key is not None:
        try:
            text = key.verify(checkpoint.note)
        except NoteError as error:
            return f"{where} is not signed by the log's key: {error}"
    elif checkpoint.verifier_key is not None:
        text = checkpoint.note.split("\n\n", 1)[0] + "\n"
    try:
        body = parse_checkpoint(text)
    except NoteError as error:
        return f"{where} is not a checkpoint: {error}"
    if (body.size, body.root) != (checkpoint.size, checkpoint.root):
        return f"{where} says {body.size} leaves with another root"
    return None


async def _consistency_problem(
    connection: Connection, stored: list[StoredCheckpoint]
) -> str | None:
    for older, newer in pairwise(stored):
        proof = await consistency_proof(connection, older.size, newer.size)
        if not merkle.verify_consistency(
            older.size, newer.size, proof.path, older.root, newer.root
        ):
            return f"the checkpoint of {older.size} leaves is not consistent with {newer.size}"
    return None
