"""The embedded server: data written before a restart is all there after it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.e2e.processes import claimledger, environment, free_port, post, serving


def test_a_restart_keeps_everything(tmp_path: Path) -> None:
    data_dir = tmp_path / "ledger-data"
    env = environment(DATABASE_URL=None, CLAIMLEDGER_DATA_DIR=str(data_dir))
    out = claimledger(["keys", "create", "--role", "editor", "--name", "restart"], env=env)
    key = out.strip().splitlines()[-1]
    published = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    port = free_port()

    with serving([], env=env, port=port) as base:
        source = post(base, "/v1/sources", {"name": "FSB", "kind": "security_service"}, key)
        incident = post(base, "/v1/incidents", {"title": "Raid"}, key)
        claim = post(base, f"/v1/incidents/{incident['id']}/claims", {"text": "Crossed"}, key)
        first = post(
            base,
            f"/v1/claims/{claim['id']}/statements",
            {"source_id": source["id"], "stance": "denies", "published_at": published},
            key,
        )
    assert not (data_dir / "postmaster.pid").exists(), "the embedded server outlived its process"

    with serving([], env=env, port=port) as base:
        second = post(
            base,
            f"/v1/claims/{claim['id']}/statements",
            {"source_id": source["id"], "stance": "retracts", "published_at": published},
            key,
        )
    assert isinstance(second["position"], int)
    assert isinstance(first["position"], int)
    assert second["position"] == first["position"] + 1
