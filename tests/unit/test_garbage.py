"""How processes collect cyclic garbage: a batch process between its batches, a server rarely."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import anyio
import pytest

from claimledger.projections import garbage
from claimledger.runtime import heap


class Node:
    """An object that can be part of a reference cycle and watched with a weak reference."""

    def __init__(self) -> None:
        self.other: Node | None = None


def cycle() -> weakref.ref[Node]:
    """Two objects that refer to each other and to nothing else: only the collector frees them."""
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


@pytest.fixture
def collector() -> Iterator[None]:
    """Whatever a test does to the collector is undone after it."""
    threshold, enabled = gc.get_threshold(), gc.isenabled()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)
    if enabled:
        gc.enable()
    garbage._collection.taken, garbage._collection.last = False, 0.0


@pytest.mark.usefixtures("collector")
def test_a_process_that_took_over_collects_between_batches_when_due(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    garbage.take_over()
    assert not gc.isenabled()
    assert gc.get_freeze_count() > 0
    watched = cycle()
    # Many more objects than any threshold: nothing collects unasked.
    kept = [[index] for index in range(50_000)]
    garbage.between_batches()  # the last collection is recent: none now
    assert watched() is not None
    monkeypatch.setattr(garbage, "FULL_EVERY", 3600.0)
    garbage.between_batches()
    assert watched() is not None
    del kept
    monkeypatch.setattr(garbage, "FULL_EVERY", 0.0)
    garbage.between_batches()
    assert watched() is None
    assert not gc.isenabled()


@pytest.mark.usefixtures("collector")
def test_a_process_that_did_not_take_over_is_left_to_its_collector(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    collections: list[tuple[int, ...]] = []

    def collect(*generation: int) -> int:
        collections.append(generation)
        return 0

    monkeypatch.setattr(garbage, "FULL_EVERY", 0.0)
    monkeypatch.setattr(gc, "collect", collect)
    garbage.between_batches()
    assert collections == []
    assert gc.isenabled()


@pytest.mark.usefixtures("collector")
def test_a_settled_server_freezes_what_it_holds_and_collects_less_often() -> None:
    _, middle, oldest = gc.get_threshold()
    heap.settle()
    assert gc.get_threshold() == (heap.YOUNG, middle, oldest)
    assert gc.get_freeze_count() > 0
    assert gc.isenabled()
    watched = cycle()
    gc.collect()
    assert watched() is None


@pytest.mark.anyio
@pytest.mark.usefixtures("collector")
async def test_a_process_that_took_over_collects_while_no_batch_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    garbage.take_over()
    monkeypatch.setattr(garbage, "FULL_EVERY", 0.01)
    watched = cycle()
    collected = anyio.Event()
    node = watched()
    assert node is not None
    weakref.finalize(node, collected.set)
    del node
    with anyio.move_on_after(5):
        async with anyio.create_task_group() as group:
            group.start_soon(garbage.keep_collecting)
            await collected.wait()
            group.cancel_scope.cancel()
    assert watched() is None
    assert not gc.isenabled()
