"""The log's worker runs beside the projector: the tree follows the event table and checkpoints
are signed with the configured key as the ledger grows."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import replace

from claimledger.runtime.bootstrap import started
from claimledger.runtime.settings import Settings
from claimledger.store.db import Connection
from claimledger.transparency.notes import NoteSigner, parse_checkpoint
from claimledger.transparency.proofs import latest_checkpoint
from tests.helpers import eventually
from tests.ledger_data import populate, populate_incidents

SEED = hashlib.sha256(b"worker test key").digest()


async def test_the_worker_grows_the_tree_and_signs_as_the_ledger_grows(
    settings: Settings, db: Connection
) -> None:
    configured = replace(
        settings,
        roles=frozenset({"projector"}),
        checkpoint_seconds=0.2,
        log_key_seed=base64.b64encode(SEED).decode(),
        log_origin="ledger.example/log",
    )
    key = NoteSigner.from_seed("ledger.example/log", SEED)

    async def events() -> int:
        count = await db.fetchval("SELECT count(*) FROM es.claimledger_events")
        assert isinstance(count, int)
        return count

    async with started(configured) as services:
        assert services.workers.log is not None
        populate(services.writer.ledger)

        async def signed_all() -> bool:
            latest = await latest_checkpoint(db)
            return latest is not None and latest.size == await events()

        await eventually(signed_all, what="a checkpoint over every event")
        first = await latest_checkpoint(db)
        assert first is not None
        assert parse_checkpoint(key.verifier().verify(first.note)).size == first.size
        populate_incidents(services.writer.ledger, 2)
        await eventually(signed_all, what="a checkpoint over the new events")
        latest = await latest_checkpoint(db)
        assert latest is not None
        assert latest.size > first.size
        assert latest.verifier_key == key.verifier_key
        published = await db.fetchrow("SELECT origin, verifier_key FROM transparency.tree")
        assert published is not None
        assert tuple(published) == ("ledger.example/log", key.verifier_key)
