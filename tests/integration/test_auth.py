"""Every auth case: no key, a bad key, a revoked key, too weak a role; and who wrote each event."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from claimledger.runtime.bootstrap import Services
from claimledger.runtime.keys import Role
from tests.conftest import Keys
from tests.helpers import Client, created, incident

SOURCE = {"name": "Observer", "kind": "osint"}


async def test_a_write_without_a_key_is_401(client: Client) -> None:
    response = await client.post("/v1/sources", json=SOURCE)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["type"] == "/problems/unauthorized"


async def test_an_unknown_key_is_401(client: Client) -> None:
    response = await client.post(
        "/v1/sources", json=SOURCE, headers={"Authorization": "Bearer clk_nonsense"}
    )
    assert response.status_code == 401


async def test_a_malformed_authorization_header_is_401(client: Client, keys: Keys) -> None:
    response = await client.post(
        "/v1/sources", json=SOURCE, headers={"Authorization": f"Basic {keys.editor}"}
    )
    assert response.status_code == 401


async def test_a_reader_cannot_write(client: Client, keys: Keys) -> None:
    response = await client.post("/v1/sources", json=SOURCE, headers=keys.header("reader"))
    assert response.status_code == 403
    assert response.json()["type"] == "/problems/forbidden"


async def test_an_editor_cannot_rate_but_an_admin_can_do_both(client: Client, keys: Keys) -> None:
    source_id = (await created(client, "/v1/sources", SOURCE, keys.admin))["id"]
    as_editor = await client.post(
        f"/v1/sources/{source_id}/ratings", json={"reliability": "C"}, headers=keys.header("editor")
    )
    assert as_editor.status_code == 403
    as_admin = await client.post(
        f"/v1/sources/{source_id}/ratings", json={"reliability": "C"}, headers=keys.header("admin")
    )
    assert as_admin.status_code == 201


async def test_a_revoked_key_is_refused(client: Client, services: Services) -> None:
    store = services.keys
    key = await store.create(name="short-lived", role=Role.EDITOR)
    headers = {"Authorization": f"Bearer {key.secret}"}
    assert (await client.post("/v1/sources", json=SOURCE, headers=headers)).status_code == 201
    assert await store.revoke(key.id)
    assert (await client.post("/v1/sources", json=SOURCE, headers=headers)).status_code == 401


async def test_keys_are_stored_hashed(keys: Keys, database_url: str) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        stored = await connection.fetch("SELECT key_hash FROM ledger.api_keys")
    finally:
        await connection.close()
    hashes = {row["key_hash"] for row in stored}
    assert keys.editor not in hashes
    assert all(h is None or len(h) == 64 for h in hashes)


async def test_every_event_names_the_key_that_wrote_it(
    client: Client, keys: Keys, database_url: str
) -> None:
    await incident(client, keys.editor)
    await created(client, "/v1/sources", SOURCE, keys.admin)
    connection = await asyncpg.connect(database_url)
    try:
        writers = await connection.fetch(
            "SELECT e.topic, k.name FROM es.events e JOIN ledger.api_keys k ON k.id = e.recorded_by"
            " ORDER BY e.position"
        )
        total = await connection.fetchval("SELECT count(*) FROM es.events")
    finally:
        await connection.close()
    assert total == 2
    assert [(row["topic"], row["name"]) for row in writers] == [
        ("domain.incident:IncidentOpened", "test editor"),
        ("domain.source:SourceRegistered", "test admin"),
    ]


async def test_the_event_table_holds_plain_json(
    client: Client, keys: Keys, database_url: str
) -> None:
    incident_id = await incident(client, keys.editor, title="Readable")
    connection = await asyncpg.connect(database_url)
    try:
        text = await connection.fetchval(
            "SELECT convert_from(state, 'UTF8') FROM es.claimledger_events"
            " WHERE originator_id = $1::uuid",
            incident_id,
        )
    finally:
        await connection.close()
    assert isinstance(text, str)
    assert '"title":"Readable"' in text
    assert UUID(incident_id)
