"""The read baseline: a bare Litestar route doing one asyncpg primary-key lookup.

``python -m bench.bare --database-url URL --port P`` serves ``GET /bare/{id}`` (one row of
``views.claims`` by id, as JSON) with uvicorn, one worker, uvloop and httptools: the same server
stack, event loop, pool and connection setup as ``claimledger serve``, and its collector's settings
(``runtime.heap.settle``), with none of its work.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

from litestar import Litestar, get
from litestar.datastructures import State
from litestar.exceptions import NotFoundException

from claimledger.runtime import heap
from claimledger.runtime.settings import Settings
from claimledger.store.db import create_pool

# The API's reads have a pool of their own, of this size.
POOL_SIZE = Settings().read_pool_size


def create_app(url: str, pool_size: int = POOL_SIZE) -> Litestar:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        pool = await create_pool(url, size=pool_size)
        app.state.pool = pool
        try:
            yield
        finally:
            await pool.close()

    @get("/bare/{claim_id:uuid}")
    async def bare(claim_id: UUID, state: State) -> dict[str, Any]:
        row = await state.pool.fetchrow(
            "SELECT id, incident_id, status, reason FROM views.claims WHERE id = $1", claim_id
        )
        if row is None:
            raise NotFoundException()
        return dict(row)

    @get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return Litestar(route_handlers=[bare, health], lifespan=[lifespan], debug=False)


def main() -> int:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m bench.bare", description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pool-size", type=int, default=POOL_SIZE)
    args = parser.parse_args()
    app = create_app(args.database_url, args.pool_size)
    heap.settle()
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
