"""The transparency log: its checkpoints, entries, and inclusion and consistency proofs.

Every hash and every leaf is standard base64 with padding (RFC 4648, section 4), as C2SP notes
and RFC 9162 tooling write them.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated

from msgspec import Meta, Struct

from claimledger.transparency import proofs

Base64 = Annotated[
    str,
    Meta(
        description="Standard base64 with padding (RFC 4648, section 4).",
        pattern=r"^[A-Za-z0-9+/]*={0,2}$",
    ),
]
Hash = Annotated[
    str,
    Meta(
        description="A SHA-256 hash (32 bytes), standard base64 with padding.",
        pattern=r"^[A-Za-z0-9+/]{43}=$",
    ),
]
TreeSize = Annotated[int, Meta(ge=0, description="A number of leaves: a tree of the log.")]


def b64(data: bytes) -> str:
    """Standard base64 with padding."""
    return base64.b64encode(data).decode()


class Checkpoint(Struct, kw_only=True):
    """A checkpoint the log keeps: the size and root of its tree at a moment, and the note that
    says so (a C2SP ``signed-note`` holding a ``tlog-checkpoint``, or the checkpoint alone when
    the log has no key)."""

    tree_size: TreeSize
    root_hash: Annotated[Hash, Meta(description="The root of the tree of `tree_size` leaves.")]
    origin: Annotated[str, Meta(description="The log's name: the note's first line.")]
    signed_at: datetime
    signed: Annotated[
        bool, Meta(description="Whether the note carries the log's signature (`/v1/log/key`).")
    ]
    checkpoint: Annotated[str, Meta(description="The note's text, byte for byte as stored.")]

    @classmethod
    def of(cls, stored: proofs.StoredCheckpoint) -> Checkpoint:
        return cls(
            tree_size=stored.size,
            root_hash=b64(stored.root),
            origin=stored.origin,
            signed_at=stored.signed_at,
            signed=stored.verifier_key is not None,
            checkpoint=stored.note,
        )


class CheckpointPage(Struct, kw_only=True):
    """Checkpoints, newest (largest) first; ``next_cursor`` asks for the next page (None on the
    last)."""

    items: list[Checkpoint]
    next_cursor: str | None


class LogEntry(Struct, kw_only=True):
    """One leaf of the log: an event's canonical bytes and their leaf hash."""

    index: Annotated[int, Meta(ge=0, description="The leaf's index in the tree, from 0.")]
    position: Annotated[int, Meta(description="The event's position in the ledger.")]
    leaf: Annotated[
        Base64,
        Meta(
            description="The leaf's bytes (the layout is in `transparency/leaves.py`); empty "
            "when the event is no longer in the event table, while the tree keeps its hash."
        ),
    ]
    leaf_hash: Annotated[Hash, Meta(description="`SHA-256(0x00 || leaf)` as the tree holds it.")]

    @classmethod
    def of(cls, entry: proofs.Entry) -> LogEntry:
        return cls(
            index=entry.index,
            position=entry.position,
            leaf=b64(entry.leaf),
            leaf_hash=b64(entry.leaf_hash),
        )


class LogEntries(Struct, kw_only=True):
    """Leaves of the log in index order, and the size of the tree they were read from."""

    tree_size: TreeSize
    entries: list[LogEntry]


class InclusionProof(Struct, kw_only=True):
    """The proof that a leaf is in the tree of ``tree_size`` leaves (RFC 9162, 2.1.3)."""

    leaf_index: Annotated[int, Meta(ge=0)]
    tree_size: TreeSize
    leaf_hash: Hash
    inclusion_path: Annotated[
        list[Hash], Meta(description="The proof's hashes in RFC 9162 order: the leaf's first.")
    ]
    root_hash: Annotated[Hash, Meta(description="The root of the tree of `tree_size` leaves.")]
    checkpoint: Annotated[
        str | None,
        Meta(description="The note of the checkpoint of `tree_size` leaves, when there is one."),
    ]

    @classmethod
    def of(
        cls, proof: proofs.InclusionProof, checkpoint: proofs.StoredCheckpoint | None
    ) -> InclusionProof:
        return cls(
            leaf_index=proof.leaf_index,
            tree_size=proof.tree_size,
            leaf_hash=b64(proof.leaf_hash),
            inclusion_path=[b64(digest) for digest in proof.path],
            root_hash=b64(proof.root),
            checkpoint=None if checkpoint is None else checkpoint.note,
        )


class ConsistencyProof(Struct, kw_only=True):
    """The proof that the tree of ``first`` leaves is a prefix of the tree of ``second``
    (RFC 9162, 2.1.4)."""

    first: Annotated[int, Meta(ge=1)]
    second: Annotated[int, Meta(ge=1)]
    consistency_path: Annotated[
        list[Hash], Meta(description="The proof's hashes in RFC 9162 order; empty when equal.")
    ]
    first_root: Hash
    second_root: Hash

    @classmethod
    def of(cls, proof: proofs.ConsistencyProof) -> ConsistencyProof:
        return cls(
            first=proof.first,
            second=proof.second,
            consistency_path=[b64(digest) for digest in proof.path],
            first_root=b64(proof.first_root),
            second_root=b64(proof.second_root),
        )
