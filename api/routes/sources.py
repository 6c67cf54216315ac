"""Sources: registering them, rating their reliability, and reading them."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from claimledger.api.auth import KEY_OPTIONAL, Role
from claimledger.api.deps import DbDep, PrincipalDep, ReadDep, WriterDep
from claimledger.api.idempotency import (
    Asked,
    IdempotencyKey,
    append_once,
    create_once,
    id_for,
    same,
    written,
)
from claimledger.api.paging import Cursor, Limit, decode_cursor, page_of
from claimledger.api.problems import READ_PROBLEMS, WRITE_PROBLEMS, problem_responses
from claimledger.api.schemas.common import Written
from claimledger.api.schemas.record import SourceRecord
from claimledger.api.schemas.sources import Source, SourceCreate, SourcePage, SourceRatingCreate
from claimledger.domain.errors import NotFound
from claimledger.domain.receipts import Receipt
from claimledger.domain.source import Source as SourceAggregate
from claimledger.domain.values import SourceKind
from claimledger.projections.queries import record as record_queries
from claimledger.projections.queries import sources as source_queries
from claimledger.store.db import session


@post(
    "/sources",
    operation_id="registerSource",
    summary="Register a source",
    tags=["sources"],
    responses=problem_responses(*WRITE_PROBLEMS),
    opt={"role": Role.EDITOR},
)
async def register_source(
    data: JSONBody[SourceCreate],
    writer: WriterDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> Response[Written]:
    """Register who speaks: a name, a kind, an affiliation and channels. Its reliability starts
    at F ("cannot be judged") until an admin rates it. Answers 201 with the new source's `id`;
    `Location` is its URL (`/v1/sources/{id}`)."""

    def register(source_id: UUID | None = None) -> Receipt:
        return writer.ledger.register_source(
            name=data.name,
            kind=data.kind,
            affiliation=data.affiliation,
            channels=tuple(data.channels),
            url=data.url,
            recorded_by=principal.key_id,
            source_id=source_id,
        )

    if idempotency_key is None:
        receipt = await writer.run(register)
    else:
        source_id = id_for("source", idempotency_key)
        asked = (data.name, data.kind, data.affiliation, data.channels, data.url)
        receipt = await writer.run(
            create_once,
            writer.ledger,
            SourceAggregate,
            source_id,
            lambda s: same((s.name, s.kind, s.affiliation, s.channels, s.url), asked),
            lambda: register(source_id),
        )
    return await written(writer, receipt, f"/v1/sources/{receipt.id}")


@post(
    "/sources/{source_id:uuid}/ratings",
    operation_id="rateSource",
    summary="Rate a source's reliability",
    tags=["sources"],
    responses=problem_responses(*WRITE_PROBLEMS, 404, 409),
    opt={"role": Role.ADMIN},
)
async def rate_source(
    source_id: FromPath[UUID],
    data: JSONBody[SourceRatingCreate],
    writer: WriterDep,
    principal: PrincipalDep,
    db: DbDep,
    idempotency_key: IdempotencyKey = None,
) -> Response[Written]:
    """Grade a source A to F (Admiralty code) with a rationale; the grade holds from now on
    (reads as known at an earlier moment show the grade of then). Answers 201 with the source's
    `id` and the rating's `position`; `Location` is the source's URL (`/v1/sources/{id}`)."""

    async def rate() -> tuple[Receipt, str]:
        receipt = await writer.run(
            writer.ledger.rate_source,
            source_id,
            reliability=data.reliability,
            rationale=data.rationale,
            recorded_by=principal.key_id,
        )
        return await writer.positioned(receipt), f"/v1/sources/{source_id}"

    asked = Asked("rateSource", source_id, data, idempotency_key)
    receipt, location = await append_once(db, asked, rate)
    return await written(writer, receipt, location)


@get(
    "/sources",
    operation_id="listSources",
    summary="List sources",
    tags=["sources"],
    responses=problem_responses(*READ_PROBLEMS),
    opt={"role": Role.READER},
    security=KEY_OPTIONAL,
)
async def list_sources(
    read: ReadDep,
    kind: Annotated[SourceKind | None, QueryParameter(description="Only this kind")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Response[SourcePage]:
    """Sources by name, with their reliability grade (as it was at `known_at`, if given)."""
    after = decode_cursor(cursor, "sources", tuple[str, UUID])
    rows = await source_queries.listing(
        read.db, known_at=read.known_at, kind=kind, after=after, limit=limit + 1
    )
    page, next_cursor = page_of(rows, limit, "sources", lambda row: (row["name"], row["id"]))
    return read.respond(SourcePage(items=[Source.of(row) for row in page], next_cursor=next_cursor))


@get(
    "/sources/{source_id:uuid}",
    operation_id="getSource",
    summary="One source",
    tags=["sources"],
    responses=problem_responses(*READ_PROBLEMS, 404),
    opt={"role": Role.READER},
    security=KEY_OPTIONAL,
)
async def get_source(source_id: FromPath[UUID], read: ReadDep) -> Response[Source]:
    """A source and its reliability grade (as it was at `known_at`, if given)."""
    row = await source_queries.get(read.db, source_id, known_at=read.known_at)
    if row is None:
        raise NotFound("source", source_id)
    return read.respond(Source.of(row))


@get(
    "/sources/{source_id:uuid}/record",
    operation_id="getSourceRecord",
    summary="A source's track record",
    tags=["sources"],
    responses=problem_responses(*READ_PROBLEMS, 404),
    opt={"role": Role.READER},
    security=KEY_OPTIONAL,
)
async def source_record(source_id: FromPath[UUID], read: ReadDep) -> Response[SourceRecord]:
    """What became of what the source said, as known at `known_at` (or now): its statements in
    view by stance; of the claims it asserted or denied (its last such stance on a claim gives
    its side), how many stand at each status; for each side, how many were later confirmed or
    refuted by independent sources, with the shares and the counts behind them; and its
    reliability grades over time.

    Only the source's statements recorded by `known_at` and not withdrawn by then count.
    `confirms`, `refutes` and `retracts` put no claim on its record (they are counted by
    stance); a claim it retracted stays on it, counted in `retracted_by_source`. A verification
    is independent when it comes from another source, was not relayed via this one
    (`via_source_id`), is not from a source of the same affiliation, and was published after
    the source first took its side on the claim."""
    async with session(read.db) as db:
        row = await source_queries.get(db, source_id, known_at=read.known_at)
        if row is None:
            raise NotFound("source", source_id)
        record = await record_queries.of_source(db, row, read.known_at)
    return read.respond(SourceRecord.of(Source.of(row), read.known_at, record))
