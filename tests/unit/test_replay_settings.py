"""How many processes a projector starting from position 0 replays a long ledger in."""

from __future__ import annotations

from claimledger.runtime.settings import Settings


def test_a_projector_replays_alone_unless_told_otherwise() -> None:
    assert Settings().replay_workers == 1
    assert Settings.from_env({}).replay_workers == 1
    assert Settings.from_env({"CLAIMLEDGER_REPLAY_WORKERS": "3"}).replay_workers == 3
    assert Settings.from_env({"CLAIMLEDGER_REPLAY_WORKERS": "0"}).replay_workers == 1
