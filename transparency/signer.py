"""Checkpoints: a new one when the tree has grown and the interval has passed, signed (or not,
when the log has no key), and only over a past that the audit finds untouched."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from claimledger.store.db import Connection
from claimledger.transparency import merkle
from claimledger.transparency.audit import audit
from claimledger.transparency.notes import NoteSigner, checkpoint_body
from claimledger.transparency.proofs import StoredCheckpoint, consistency_proof, latest_checkpoint
from claimledger.transparency.tree import TreeHead, stored_root, tree_head

log = logging.getLogger("claimledger.transparency")


@dataclass(frozen=True)
class Refused:
    """Why the signer would not sign."""

    reason: str


class CheckpointSigner:
    """Makes the log's checkpoints."""

    def __init__(self, origin: str, signer: NoteSigner | None, *, interval: float) -> None:
        self.origin = origin
        self.signer = signer
        self.interval = timedelta(seconds=interval)

    async def publish(self, connection: Connection) -> None:
        """Say which log this is and the key that verifies its checkpoints (None: unsigned)."""
        await connection.execute(
            "UPDATE transparency.tree SET origin = $1, verifier_key = $2"
            " WHERE origin IS DISTINCT FROM $1 OR verifier_key IS DISTINCT FROM $2",
            self.origin,
            None if self.signer is None else self.signer.verifier_key,
        )

    async def sign_if_due(
        self, connection: Connection, *, now: datetime | None = None
    ) -> StoredCheckpoint | Refused | None:
        """A new checkpoint when one is due; Refused when the past was rewritten; None when
        nothing is due."""
        head = await tree_head(connection)
        last = await latest_checkpoint(connection)
        moment = now or datetime.now(UTC)
        if head.size == 0 or (last is not None and head.size <= last.size):
            return None
        if last is not None and moment - last.signed_at < self.interval:
            return None
        return await self.sign(connection, head, last)

    async def sign(
        self, connection: Connection, head: TreeHead, last: StoredCheckpoint | None
    ) -> StoredCheckpoint | Refused:
        """Audit the past, check the new tree against the last checkpoint, and sign it."""
        reason = await self._rewritten(connection, head, last)
        if reason is not None:
            if reason != head.refusal:
                log.error("the log refuses to sign a checkpoint: %s", reason)
            await connection.execute(
                "UPDATE transparency.tree SET refused_at = coalesce(refused_at, now()),"
                " refusal = $1",
                reason,
            )
            return Refused(reason)
        root = await stored_root(connection, head.size)
        body = checkpoint_body(self.origin, head.size, root)
        note = body if self.signer is None else self.signer.sign(body)
        row = await connection.fetchrow(
            "WITH cleared AS (UPDATE transparency.tree SET refused_at = NULL, refusal = NULL"
            " WHERE refusal IS NOT NULL)"
            " INSERT INTO transparency.checkpoints (size, root, origin, note, verifier_key)"
            " VALUES ($1, $2, $3, $4, $5) RETURNING signed_at",
            head.size,
            root,
            self.origin,
            note,
            None if self.signer is None else self.signer.verifier_key,
        )
        assert row is not None
        if head.refusal is not None:
            log.warning("the log signs again: its past is what it was")
        return StoredCheckpoint(
            head.size,
            root,
            self.origin,
            note,
            None if self.signer is None else self.signer.verifier_key,
            row["signed_at"],
        )

    @staticmethod
    async def _rewritten(
        connection: Connection, head: TreeHead, last: StoredCheckpoint | None
    ) -> str | None:
        rewrite = await audit(connection, head)
        if rewrite is not None:
            return rewrite.describe()
        if last is None:
            return None
        proof = await consistency_proof(connection, last.size, head.size)
        if not merkle.verify_consistency(
            last.size, head.size, proof.path, last.root, proof.second_root
        ):
            return (
                f"the tree of {head.size} leaves is not consistent with the checkpoint of"
                f" {last.size}"
            )
        return None
