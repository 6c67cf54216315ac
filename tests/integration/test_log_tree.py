"""The stored tree grows from the event table one leaf per event, in any batch sizes, and the
roots and proofs read from its nodes are those of the tree built in memory from the events."""

from __future__ import annotations

from claimledger.domain.ledger import Ledger
from claimledger.store.db import Connection
from claimledger.transparency import merkle
from claimledger.transparency.leaves import decode_leaf, encode_leaf
from claimledger.transparency.tree import TreeBuilder, read_nodes, stored_root, tree_head
from tests.ledger_data import populate, populate_incidents


async def leaf_hashes(db: Connection) -> list[bytes]:
    rows = await db.fetch(
        "SELECT notification_id, originator_id, originator_version, topic, state"
        " FROM es.claimledger_events ORDER BY notification_id"
    )
    return [merkle.leaf_hash(encode_leaf(*row)) for row in rows]


async def test_the_tree_holds_one_leaf_per_event_in_any_batches(
    ledger: Ledger, db: Connection
) -> None:
    populate(ledger)
    expected = await leaf_hashes(db)
    _, nodes = merkle.tree_of(expected)
    for batch_size in (1, 7, 10_000):
        await db.execute(
            "TRUNCATE transparency.leaves, transparency.nodes;"
            " UPDATE transparency.tree SET size = 0, position = 0"
        )
        added = await TreeBuilder(batch_size=batch_size).catch_up(db)
        assert added == len(expected) > 30
        head = await tree_head(db)
        assert head.size == len(expected)
        assert head.position == await db.fetchval(
            "SELECT max(notification_id) FROM es.claimledger_events"
        )
        stored = await db.fetch("SELECT idx, hash FROM transparency.leaves ORDER BY idx")
        assert [row["hash"] for row in stored] == expected
        assert [row["idx"] for row in stored] == list(range(len(expected)))
        assert await stored_root(db, len(expected)) == merkle.root_from(len(expected), nodes)
        # Every node the stored tree has is the one the tree in memory has.
        rows = await db.fetch("SELECT level, idx, hash FROM transparency.nodes")
        assert {(row["level"], row["idx"]): row["hash"] for row in rows} == {
            node: digest for node, digest in nodes.items() if node[0] > 0
        }


async def test_proofs_from_the_stored_nodes_verify_at_every_size(
    ledger: Ledger, db: Connection
) -> None:
    populate(ledger)
    expected = await leaf_hashes(db)
    await TreeBuilder(batch_size=5).catch_up(db)
    size = len(expected)
    for first in range(1, size + 1):
        first_root = await stored_root(db, first)
        assert first_root == merkle.tree_of(expected[:first])[0].root()
        ranges = merkle.consistency_ranges(first, size)
        path = merkle.proof_hashes(ranges, await read_nodes(db, merkle.nodes_for(ranges)))
        assert merkle.verify_consistency(first, size, path, first_root, await stored_root(db, size))
        index = first - 1
        ranges = merkle.inclusion_ranges(index, size)
        path = merkle.proof_hashes(ranges, await read_nodes(db, merkle.nodes_for(ranges)))
        assert merkle.verify_inclusion(
            expected[index], index, size, path, await stored_root(db, size)
        )


async def test_a_tree_grows_where_it_stopped_as_events_arrive(
    ledger: Ledger, db: Connection
) -> None:
    builder = TreeBuilder()
    populate(ledger)
    first = await builder.catch_up(db)
    assert await TreeBuilder().catch_up(db) == 0
    populate_incidents(ledger, 3)
    added = await builder.catch_up(db)
    assert added > 0
    expected = await leaf_hashes(db)
    assert first + added == len(expected)
    assert await stored_root(db, len(expected)) == merkle.tree_of(expected)[0].root()


async def test_a_leaf_reads_back_as_its_event(ledger: Ledger, db: Connection) -> None:
    populate(ledger)
    row = await db.fetchrow(
        "SELECT notification_id, originator_id, originator_version, topic, state,"
        " (convert_from(state, 'UTF8')::jsonb ->> 'timestamp')::timestamptz AS recorded_at"
        " FROM es.claimledger_events ORDER BY notification_id DESC LIMIT 1"
    )
    assert row is not None
    leaf = decode_leaf(encode_leaf(*list(row)[:5]))
    assert leaf.position == row["notification_id"]
    assert leaf.aggregate_id == row["originator_id"]
    assert leaf.version == row["originator_version"]
    assert leaf.topic == row["topic"]
    assert leaf.state == row["state"]
    assert leaf.recorded_at == row["recorded_at"]
