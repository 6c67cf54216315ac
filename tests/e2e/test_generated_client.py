"""A client generated from the committed OpenAPI document drives a real server.

``openapi-python-client`` makes the client from ``openapi/openapi.json`` without a warning; the
generated package is imported and used as an integrator would: reads without a key, a create
with a key (and its retry), a conditional read answered 304, and 404 problems parsed as problems.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from uuid import uuid4

import pytest

from tests.e2e.processes import ROOT, claimledger, environment, free_port, serving

PACKAGE = "claimledger_client"


def generate(directory: Path) -> tuple[ModuleType, str]:
    """Generate the client into ``directory``; its package, and what the generator printed."""
    config = directory / "generator.yaml"
    # The generator's default post-hooks run ruff from PATH; the package as generated is tested.
    config.write_text("post_hooks: []\n")
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "openapi-python-client"),
            "generate",
            "--path",
            str(ROOT / "openapi" / "openapi.json"),
            "--meta",
            "none",
            "--config",
            str(config),
        ],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    printed = done.stdout + done.stderr
    assert done.returncode == 0, printed
    return importlib.import_module(PACKAGE), printed


def module(name: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.{name}")


async def test_a_generated_client_reads_writes_and_understands_problems(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    client_package, printed = generate(tmp_path)
    assert "warning" not in printed.lower(), printed
    env = environment(DATABASE_URL=database_url)
    key = claimledger(["keys", "create", "--role", "editor", "--name", "client"], env=env)
    key = key.strip().splitlines()[-1]
    models = module("models")
    try:
        with serving([], env=env, port=free_port()) as base:
            public = client_package.Client(base_url=base, raise_on_unexpected_status=True)
            editor = client_package.AuthenticatedClient(
                base_url=base, token=key, raise_on_unexpected_status=True
            )
            with public, editor:
                drive(public, editor, models)
    finally:
        for name in [m for m in sys.modules if m.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def drive(public: object, editor: object, models: ModuleType) -> None:
    health = module("api.operations.health").sync_detailed(client=public)
    assert health.status_code == 200

    # A read without a key: an empty ledger lists no incidents.
    listing = module("api.incidents.list_incidents").sync_detailed(client=public)
    assert listing.status_code == 200
    assert listing.parsed.items == []

    # A create with a key, and its retry: one incident, with Location.
    body = models.IncidentCreate(
        title="Raid into Tyotkino",
        occurred_precision=models.TimePrecision.HOUR,
        tags=["kursk"],
    )
    open_incident = module("api.incidents.open_incident")
    first = open_incident.sync_detailed(client=editor, body=body, idempotency_key="client-1")
    again = open_incident.sync_detailed(client=editor, body=body, idempotency_key="client-1")
    assert first.status_code == again.status_code == 201
    written = first.parsed
    assert isinstance(written, models.Written)
    assert again.parsed.id == written.id
    assert first.headers["location"] == f"/v1/incidents/{written.id}"
    assert again.headers["idempotent-replayed"] == "true"

    # Read it back (waiting for the write), then ask again with its ETag: a 304.
    get_incident = module("api.incidents.get_incident")
    read = get_incident.sync_detailed(written.id, client=public, min_position=written.position)
    assert read.status_code == 200
    assert read.parsed.title == "Raid into Tyotkino"
    assert read.parsed.occurred_precision == models.TimePrecision.HOUR
    assert int(read.headers["x-projection-position"]) >= written.position
    unchanged = get_incident.sync_detailed(
        written.id, client=public, if_none_match=read.headers["etag"]
    )
    assert unchanged.status_code == 304
    assert unchanged.parsed is None

    # Problems come back as problems.
    missing = module("api.claims.get_claim").sync_detailed(uuid4(), client=public)
    assert missing.status_code == 404
    assert isinstance(missing.parsed, models.Problem)
    assert missing.parsed.type_ == "/problems/not-found"
    unknown = module("api.operations.describe_problem").sync_detailed("nothing", client=public)
    assert unknown.status_code == 404
    assert isinstance(unknown.parsed, models.Problem)
    refused = open_incident.sync_detailed(client=public, body=body)
    assert refused.status_code == 401
    assert refused.parsed.type_ == "/problems/unauthorized"
