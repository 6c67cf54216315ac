"""Claims: statements on them, withdrawals, verdicts, and reading status and history."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Response, get, post
from litestar.params import FromPath, HeaderParameter, JSONBody

from claimledger.api.auth import KEY_OPTIONAL, Role
from claimledger.api.deps import PrincipalDep, ReadDep, WriterDep
from claimledger.api.paging import Cursor, Limit, decode_cursor, page_of
from claimledger.api.problems import READ_PROBLEMS, WRITE_PROBLEMS, problem_responses
from claimledger.api.schemas.claims import Claim, HistoryItem, HistoryPage, VerdictCreate
from claimledger.api.schemas.common import Written, WrittenBatch
from claimledger.api.schemas.statements import (
    StatementBatchCreate,
    StatementCreate,
    WithdrawalCreate,
)
from claimledger.domain.errors import NotFound
from claimledger.domain.receipts import StatementRequest
from claimledger.projections.queries import claims as claim_queries
from claimledger.store.db import session

BATCH_MAX_BODY = 16 * 1024 * 1024

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Retrying with the same key and body answers the first result; "
        "the same key with another body is refused with 422.",
    ),
]


@post(
    "/claims/{claim_id:uuid}/statements",
    operation_id="recordStatement",
    summary="Record a statement on a claim",
    tags=["statements"],
    responses=problem_responses(*WRITE_PROBLEMS, 404),
    opt={"role": Role.EDITOR},
)
async def record_statement(
    claim_id: FromPath[UUID],
    data: JSONBody[StatementCreate],
    writer: WriterDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> Response[Written]:
    """Record a source's stance on the claim. Honours `Idempotency-Key`."""
    request = StatementRequest(
        claim_id=claim_id,
        draft=data.draft(),
        idempotency_key=idempotency_key,
        fingerprint=None if idempotency_key is None else data.fingerprint(claim_id),
    )
    receipt = await writer.record_statement(request, recorded_by=principal.key_id)
    headers = {"Idempotent-Replayed": "true"} if receipt.replayed else {}
    return Response(Written.of(receipt), status_code=201, headers=headers)


@post(
    "/statements:batch",
    operation_id="recordStatementBatch",
    summary="Record up to 1,000 statements at once",
    tags=["statements"],
    responses=problem_responses(*WRITE_PROBLEMS, 409),
    opt={"role": Role.EDITOR},
    request_max_body_size=BATCH_MAX_BODY,
)
async def record_statement_batch(
    data: JSONBody[StatementBatchCreate], writer: WriterDep, principal: PrincipalDep
) -> WrittenBatch:
    """Record statements on any claims in one transaction: all of them or none.

    Each may carry its own `idempotency_key`; a statement whose key was recorded before answers
    its first receipt and is not written again. The body may be up to 16 MiB.
    """
    receipts = await writer.record_statements(
        [item.request() for item in data.statements], recorded_by=principal.key_id
    )
    return WrittenBatch(items=[Written.of(receipt) for receipt in receipts])


@post(
    "/statements/{statement_id:uuid}/withdrawal",
    operation_id="withdrawStatement",
    summary="Withdraw a statement recorded in error",
    tags=["statements"],
    responses=problem_responses(*WRITE_PROBLEMS, 404, 409),
    opt={"role": Role.EDITOR},
)
async def withdraw_statement(
    statement_id: FromPath[UUID],
    data: JSONBody[WithdrawalCreate],
    writer: WriterDep,
    principal: PrincipalDep,
) -> Written:
    """Withdraw a statement the ledger should not have recorded. A withdrawal happens once."""
    receipt = await writer.run(
        writer.ledger.withdraw_statement,
        statement_id,
        reason=data.reason,
        recorded_by=principal.key_id,
    )
    return Written.of(await writer.positioned(receipt))


@post(
    "/claims/{claim_id:uuid}/verdicts",
    operation_id="giveVerdict",
    summary="Give an editor's verdict on a claim",
    tags=["claims"],
    responses=problem_responses(*WRITE_PROBLEMS, 404, 409),
    opt={"role": Role.EDITOR},
)
async def give_verdict(
    claim_id: FromPath[UUID],
    data: JSONBody[VerdictCreate],
    writer: WriterDep,
    principal: PrincipalDep,
) -> Written:
    """Rate the claim (true … false, unproven); kept apart from the derived status."""
    receipt = await writer.run(
        writer.ledger.give_verdict,
        claim_id,
        verdict=data.verdict,
        rationale=data.rationale,
        recorded_by=principal.key_id,
    )
    return Written.of(await writer.positioned(receipt))


@get(
    "/claims/{claim_id:uuid}",
    operation_id="getClaim",
    summary="One claim with its status and reasons",
    tags=["claims"],
    responses=problem_responses(*READ_PROBLEMS, 404),
    opt={"role": Role.READER},
    security=KEY_OPTIONAL,
)
async def get_claim(claim_id: FromPath[UUID], bitemporal_read: ReadDep) -> Response[Claim]:
    """The claim's derived status, its reasons and the editors' verdict, as known at `known_at`
    and from what was published before `published_before`."""
    read = bitemporal_read
    found = await claim_queries.get(read.db, claim_id, read.moment)
    if found is None:
        raise NotFound("claim", claim_id)
    return read.respond(Claim.of(found))


@get(
    "/claims/{claim_id:uuid}/history",
    operation_id="getClaimHistory",
    summary="A claim's status over recorded time",
    tags=["claims"],
    responses=problem_responses(*READ_PROBLEMS, 404),
    opt={"role": Role.READER},
    security=KEY_OPTIONAL,
)
async def claim_history(
    claim_id: FromPath[UUID], read: ReadDep, cursor: Cursor = None, limit: Limit = 100
) -> Response[HistoryPage]:
    """Status intervals `[recorded_from, recorded_to)` with the statement that caused each
    change. A new claim starts `unverified`; as known at `known_at`, the last interval is open."""
    after = decode_cursor(cursor, "history", tuple[int])
    async with session(read.db) as db:
        if not await claim_queries.exists(db, claim_id, read.known_at):
            raise NotFound("claim", claim_id)
        rows = await claim_queries.history(
            db,
            claim_id,
            known_at=read.known_at,
            after_seq=after[0] if after else None,
            limit=limit + 1,
        )
    page, next_cursor = page_of(rows, limit, "history", lambda row: (row["seq"],))
    return read.respond(
        HistoryPage(items=[HistoryItem.of(row) for row in page], next_cursor=next_cursor)
    )
