"""Claims: statements on them, withdrawals, verdicts, and reading status and history."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from litestar import Response, get, post
from litestar.exceptions import HTTPException
from litestar.params import FromPath, JSONBody

from claimledger.api.auth import KEY_OPTIONAL, Role
from claimledger.api.claimreview import (
    ClaimReview,
    NoClaim,
    load_claim_review,
    publisher_of,
)
from claimledger.api.deps import DbDep, PrincipalDep, ReadDep, SettingsDep, WriterDep
from claimledger.api.idempotency import Asked, IdempotencyKey, append_once, written
from claimledger.api.negotiation import JSON, JSON_LD, choose
from claimledger.api.paging import Cursor, Limit, decode_cursor, page_of
from claimledger.api.problems import READ_PROBLEMS, WRITE_PROBLEMS, problem_responses
from claimledger.api.public_url import public_base
from claimledger.api.schemas.claims import Claim, HistoryItem, HistoryPage, VerdictCreate
from claimledger.api.schemas.common import Written, WrittenBatch
from claimledger.api.schemas.statements import (
    StatementBatchCreate,
    StatementCreate,
    WithdrawalCreate,
)
from claimledger.domain.errors import NotFound
from claimledger.domain.receipts import Receipt, StatementRequest
from claimledger.projections.queries import claims as claim_queries
from claimledger.store.db import session

BATCH_MAX_BODY = 16 * 1024 * 1024


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
    """Record a source's stance on the claim, as published at `published_at`; the claim's status
    is derived again. Answers 201 with the statement's `id` and `position` (pass it as
    `min_position` to read your own write); `Location` is the claim's URL (`/v1/claims/{id}`),
    where its status and reasons are read (statements are read on the timelines)."""
    request = StatementRequest(
        claim_id=claim_id,
        draft=data.draft(),
        idempotency_key=idempotency_key,
        fingerprint=None if idempotency_key is None else data.fingerprint(claim_id),
    )
    receipt = await writer.record_statement(request, recorded_by=principal.key_id)
    return await written(writer, receipt, f"/v1/claims/{claim_id}")


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
    its first receipt and is not written again. The body may be up to 16 MiB. Answers 201 with
    one receipt per statement, in the order they were sent (and no `Location`: there is no one
    resource to name).
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
    db: DbDep,
    idempotency_key: IdempotencyKey = None,
) -> Response[Written]:
    """Withdraw a statement the ledger should not have recorded; the claim's status is derived
    again without it, and reads as known at an earlier moment still show it. A withdrawal happens
    once (a second is a 409 problem `already-withdrawn`). Answers 201 with the statement's `id`
    and the withdrawal's `position`; `Location` is the URL of the statement's claim."""

    async def withdraw() -> tuple[Receipt, str]:
        # Where the answer points is read before the withdrawal is written: read after it, a
        # failure would leave the write without its key kept, and a retry would get a 409.
        try:
            statement = await writer.run(writer.ledger.repository.get, statement_id)
        except AggregateNotFoundError:
            raise NotFound("statement", statement_id) from None
        receipt = await writer.run(
            writer.ledger.withdraw_statement,
            statement_id,
            reason=data.reason,
            recorded_by=principal.key_id,
        )
        return await writer.positioned(receipt), f"/v1/claims/{statement.claim_id}"

    asked = Asked("withdrawStatement", statement_id, data, idempotency_key)
    receipt, location = await append_once(db, asked, withdraw)
    return await written(writer, receipt, location)


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
    db: DbDep,
    idempotency_key: IdempotencyKey = None,
) -> Response[Written]:
    """Rate the claim (true … false, unproven) with a rationale; kept apart from the status the
    statements derive. A later verdict replaces it. Answers 201 with the claim's `id` and the
    verdict's `position`; `Location` is the claim's URL (`/v1/claims/{id}`)."""

    async def give() -> tuple[Receipt, str]:
        receipt = await writer.run(
            writer.ledger.give_verdict,
            claim_id,
            verdict=data.verdict,
            rationale=data.rationale,
            recorded_by=principal.key_id,
        )
        return await writer.positioned(receipt), f"/v1/claims/{claim_id}"

    asked = Asked("giveVerdict", claim_id, data, idempotency_key)
    receipt, location = await append_once(db, asked, give)
    return await written(writer, receipt, location)


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


class NoVerdict(HTTPException):
    """The claim has no verdict (as known at the moment asked about): nothing to review."""

    status_code = 404
    problem = "no-verdict"


REVIEW_FORMATS = (JSON_LD, JSON)


@get(
    "/claims/{claim_id:uuid}/claimreview",
    operation_id="getClaimReview",
    summary="A claim's review as schema.org ClaimReview (JSON-LD)",
    tags=["claims"],
    responses=problem_responses(*READ_PROBLEMS, 404, 406),
    opt={"role": Role.READER, "formats": REVIEW_FORMATS},
    security=KEY_OPTIONAL,
    media_type=JSON_LD.media_type,
)
async def get_claim_review(
    claim_id: FromPath[UUID], read: ReadDep, settings: SettingsDep
) -> Response[ClaimReview]:
    """The editors' verdict on the claim as a schema.org `ClaimReview`, as fact-check tools
    read it: `claimReviewed` (the claim's text), `reviewRating` (true 5, mostly_true 4, mixed 3,
    mostly_false 2, false 1 on a scale from `worstRating` 1 to `bestRating` 5, with the verdict's
    name as `alternateName`; unproven is the name alone), `itemReviewed` (the `Claim`: the first
    source to assert it as `author`, when, and the URLs of the statements asserting it as
    `appearance`), `author` (the publisher: `CLAIMLEDGER_PUBLISHER_NAME`, `_URL`),
    `datePublished` (the verdict's) and `url` (the claim's page,
    `{CLAIMLEDGER_PUBLIC_URL}/claims/{id}`). As known at `known_at`. A claim without a verdict
    is a 404 problem `no-verdict`; `Accept: application/json` gets the same document as JSON."""
    chosen = choose(read.request.headers.get("accept"), REVIEW_FORMATS)
    base_url = public_base(settings, read.request)
    try:
        review = await load_claim_review(
            read.db,
            claim_id,
            known_at=read.known_at,
            publisher=publisher_of(settings, base_url),
            base_url=base_url,
        )
    except NoClaim:
        raise NotFound("claim", claim_id) from None
    if review is None:
        when = "" if read.known_at is None else f" as known at {read.known_at.isoformat()}"
        raise NoVerdict(detail=f"claim {claim_id} has no verdict{when}")
    return read.respond(review, chosen.media_type, vary=True)
