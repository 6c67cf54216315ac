"""A client of the API over a ledger holding the Tiotkino demo, with an editor's and an admin's
key. The demo is loaded by services of its own, closed before the app starts its own, so that a
test holds few connections at a time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from claimledger.api.app import create_app
from claimledger.runtime.bootstrap import started
from claimledger.runtime.demo import load_demo
from claimledger.runtime.keys import SYSTEM_KEY_ID, Role
from claimledger.runtime.settings import Settings
from claimledger.store.events import head_position


@dataclass(frozen=True)
class Demo:
    client: AsyncTestClient[Litestar]
    editor: dict[str, str]
    admin: dict[str, str]

    async def write(self, path: str, body: dict[str, Any], *, role: str = "editor") -> Any:
        """POST ``body``, expecting 201; the receipt."""
        headers = self.admin if role == "admin" else self.editor
        response = await self.client.post(path, json=body, headers=headers)
        assert response.status_code == 201, response.text
        return response.json()


@asynccontextmanager
async def demo_client(settings: Settings) -> AsyncIterator[Demo]:
    """The demo recorded at the moments of 12 March 2024, read once the projector has it all."""
    async with started(replace(settings, roles=frozenset())) as services:
        await services.writer.run(load_demo, services.writer.ledger, recorded_by=SYSTEM_KEY_ID)
        head = await head_position(services.pool)
        editor = await services.keys.create(name="desk", role=Role.EDITOR)
        admin = await services.keys.create(name="lead", role=Role.ADMIN)
    desk = {"Authorization": f"Bearer {editor.secret}"}
    async with AsyncTestClient(app=create_app(settings)) as client:
        ready = await client.get("/v1/sources", params={"min_position": str(head)}, headers=desk)
        assert ready.status_code == 200, ready.text
        yield Demo(client, desk, {"Authorization": f"Bearer {admin.secret}"})
