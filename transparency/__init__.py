"""The transparency log: a Merkle tree over the ledger (RFC 9162), signed checkpoints (C2SP
``tlog-checkpoint`` in a ``signed-note``), inclusion and consistency proofs, and the audit that
refuses to sign over a rewritten past."""
