"""How the API's idea of the projector's position moves: forward, and back only on a reset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio

from claimledger.projections.watcher import PositionWatcher


def watcher() -> PositionWatcher:
    return PositionWatcher("postgresql://unused", settle_seconds=60.0)


def test_a_late_notify_does_not_move_the_position_back() -> None:
    seen = watcher()
    seen.advance(10)
    seen.heard(7)
    assert seen.position == 10
    seen.heard(12)
    assert seen.position == 12


def test_a_reset_moves_it_back_whichever_way_it_is_told() -> None:
    seen = watcher()
    seen.advance(500)
    seen.heard(0)
    assert seen.position == 0
    seen.advance(900)
    # The in-process projector tells in commit order: after another reset it starts again.
    seen.advance(200)
    assert seen.position == 200


def test_a_reset_forgets_when_the_projector_last_caught_up() -> None:
    seen = watcher()
    seen.advance(500, datetime(2024, 3, 12, 12, tzinfo=UTC))
    seen.heard(0)
    # Answers about old moments must not be cached forever while the views fill up again.
    assert seen.horizon is None


def test_a_stale_poll_is_passed_over_but_a_store_that_went_back_is_followed() -> None:
    noon = datetime(2024, 3, 12, 12, tzinfo=UTC)
    seen = watcher()
    seen.advance(900, noon)
    # Read just before the commit that was told in-process: older in both respects.
    seen.polled(800, noon - timedelta(seconds=1))
    assert (seen.position, seen.caught_up_at) == (900, noon)
    # Views being rebuilt, not caught up yet.
    seen.polled(300, None)
    assert (seen.position, seen.caught_up_at) == (300, None)
    seen.advance(900, noon)
    # The store itself went back (a restore, a failover) and the projector caught up on it.
    seen.polled(50, noon + timedelta(minutes=1))
    assert (seen.position, seen.caught_up_at) == (50, noon + timedelta(minutes=1))
    seen.heard(51)
    assert seen.position == 51


def test_the_horizon_only_moves_forward_when_told_in_process() -> None:
    seen = watcher()
    assert seen.horizon is None
    later = datetime(2024, 3, 12, 12, tzinfo=UTC)
    seen.advance(5, later)
    seen.advance(6, later - timedelta(seconds=1))
    seen.advance(7)
    assert seen.caught_up_at == later
    assert seen.horizon == later - timedelta(seconds=60)


async def test_a_waiter_is_released_by_a_notify_past_its_position() -> None:
    seen = watcher()
    seen.advance(3)
    released: list[bool] = []

    async def wait() -> None:
        released.append(await seen.wait_for(5, within=5))

    async with anyio.create_task_group() as group:
        group.start_soon(wait)
        await anyio.wait_all_tasks_blocked()
        seen.heard(4)
        await anyio.wait_all_tasks_blocked()
        assert released == []
        seen.heard(6)
    assert released == [True]
    assert not await seen.wait_for(7, within=0.01)
