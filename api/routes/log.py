"""The transparency log's reads: checkpoints, the verifier key, entries, and inclusion and
consistency proofs (``transparency.proofs``), for clients that check the ledger with RFC 9162's
algorithms rather than trust it."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import MediaType, Request, Response, get
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import PathParameter, QueryParameter

from claimledger.api.auth import KEY_OPTIONAL, Role
from claimledger.api.deps import ServicesDep
from claimledger.api.log_reads import (
    TEXT,
    TreeSizeParameter,
    answer,
    default_size,
    json_answer,
    log_connection,
    refused_as_bad_parameter,
    whole_number,
    whole_parameter,
)
from claimledger.api.paging import Cursor, Limit, decode_cursor, page_of
from claimledger.api.problems import READ_PROBLEMS, problem_responses
from claimledger.api.reads import IMMUTABLE, INT64_MAX, BadParameter
from claimledger.api.schemas.log import (
    Checkpoint,
    CheckpointPage,
    ConsistencyProof,
    InclusionProof,
    LogEntries,
    LogEntry,
)
from claimledger.domain.errors import NotFound
from claimledger.domain.statement import StatementRecorded
from claimledger.store.codec import stored_topic
from claimledger.store.db import Connection
from claimledger.store.events import existing
from claimledger.transparency import proofs

STATEMENT_RECORDED = stored_topic(StatementRecorded)


class NotYetInTheLog(NotFound):
    """A statement the ledger holds that is not yet a leaf of the log's tree."""

    def __init__(self, statement_id: UUID) -> None:
        super().__init__("statement", statement_id, field="statement_id")
        self.detail = (
            f"statement {statement_id} is recorded but not yet in the log's tree; ask again "
            "in a moment"
        )


def log_read(
    path: str, operation_id: str, summary: str, *, text: bool = False, missing: bool = False
) -> get:
    """A public read of the log: ``text``, it answers a note or a key as text; ``missing``, it
    may find nothing to answer (a 404)."""
    return get(
        path,
        operation_id=operation_id,
        summary=summary,
        tags=["log"],
        media_type=TEXT if text else MediaType.JSON,
        responses=problem_responses(*READ_PROBLEMS, *((404,) if missing else ())),
        opt={"role": Role.READER},
        security=KEY_OPTIONAL,
    )


@log_read(
    "/log/checkpoint", "getLogCheckpoint", "The log's latest checkpoint", text=True, missing=True
)
async def latest_checkpoint(
    request: Request[Any, Any, Any], services: ServicesDep
) -> Response[str]:
    """The latest checkpoint as its note, byte for byte: a C2SP `signed-note` holding a
    `tlog-checkpoint` (the log's origin, the tree's size, its root hash in base64, then the
    signature lines), or the checkpoint alone when the log has no signing key.

    Check the signature with the key from `/v1/log/key` (any C2SP note verifier does), keep the
    note, and later ask `/v1/log/proofs/consistency` whether a newer tree still begins with this
    one: if the ledger ever rewrote what the note covers, no proof can say yes. A 404 while the
    log has made no checkpoint yet."""
    async with log_connection(services) as connection:
        latest = await proofs.latest_checkpoint(connection)
    if latest is None:
        raise NotFoundException("the log has no checkpoint yet")
    return answer(request, latest.note.encode(), TEXT)


@log_read("/log/checkpoints", "listLogCheckpoints", "Every checkpoint of the log")
async def list_checkpoints(
    request: Request[Any, Any, Any], services: ServicesDep, cursor: Cursor = None, limit: Limit = 50
) -> Response[CheckpointPage]:
    """Every checkpoint the log has made, newest (largest tree) first: the size and root of
    the tree, whether the note is signed, and the note itself. The log keeps every checkpoint,
    so a note a client kept can be found here again by its `tree_size`."""
    after = decode_cursor(cursor, "checkpoints", tuple[int])
    async with log_connection(services) as connection:
        rows = await proofs.checkpoints(
            connection, before=None if after is None else after[0], limit=limit + 1
        )
    page, next_cursor = page_of(rows, limit, "checkpoints", lambda row: (row.size,))
    body = CheckpointPage(items=[Checkpoint.of(row) for row in page], next_cursor=next_cursor)
    return json_answer(request, body)


@log_read(
    "/log/checkpoints/{tree_size:str}",
    "getLogCheckpointAt",
    "The checkpoint of a tree size",
    text=True,
    missing=True,
)
async def checkpoint_at(
    request: Request[Any, Any, Any],
    services: ServicesDep,
    tree_size: Annotated[
        str,
        PathParameter(
            description="The checkpoint's tree size.",
            schema_extra={
                "type": "integer",
                "format": "int64",
                "minimum": 0,
                "maximum": INT64_MAX,
            },
        ),
    ],
) -> Response[str]:
    """The note of the checkpoint of `tree_size` leaves, as `/v1/log/checkpoint` answers the
    latest. A stored checkpoint never changes: the answer is cacheable forever. A 404 when the
    log made no checkpoint of that size."""
    size = whole_number("tree_size", tree_size, source="path")
    assert size is not None
    async with log_connection(services) as connection:
        stored = await proofs.checkpoint_at(connection, size)
    if stored is None:
        raise NotFoundException(f"the log has no checkpoint of {size} leaves")
    scope = "public" if services.settings.public_read else "private"
    return answer(request, stored.note.encode(), TEXT, f"{scope}, {IMMUTABLE}")


@log_read(
    "/log/key", "getLogKey", "The key that verifies the log's checkpoints", text=True, missing=True
)
async def verifier_key(request: Request[Any, Any, Any], services: ServicesDep) -> Response[str]:
    """The log's verifier key in the C2SP note format, `name+hexid+base64(0x01 || Ed25519
    public key)`: what a note verifier takes to check the signature of a checkpoint. Get it once,
    compare it with the key the ledger's operators publish elsewhere, and keep it: a signature
    proves only that the holder of this key signed the checkpoint. A 404 when the log has no key
    and its checkpoints are unsigned (or its worker has not started yet)."""
    async with log_connection(services) as connection:
        key = await proofs.verifier_key(connection)
    if key is None:
        raise NotFoundException("the log has no signing key: its checkpoints are unsigned")
    return answer(request, key.encode(), TEXT)


@log_read("/log/entries", "getLogEntries", "Leaves of the log by index")
async def log_entries(
    request: Request[Any, Any, Any],
    services: ServicesDep,
    start: Annotated[str | None, whole_parameter("The first leaf's index.", required=True)] = None,
    end: Annotated[
        str | None,
        whole_parameter(
            f"The index after the last leaf (at most `start` + {proofs.MAX_ENTRIES}); "
            f"`start` + {proofs.MAX_ENTRIES} when left out.",
            minimum=1,
        ),
    ] = None,
) -> Response[LogEntries]:
    """Leaves `[start, end)` of the tree, at most 1,000, fewer when the tree ends before `end`:
    each leaf's index, its event's position, the leaf's bytes and its leaf hash.

    A leaf is its event's canonical bytes, integers big-endian: format (1 byte, 1), position
    (u64), aggregate id (16 bytes), aggregate version (u64), `recorded_at` (i64 microseconds
    since the epoch, -2^63 when none), topic (u16 length, UTF-8), the event's JSON (u32 length,
    the bytes stored); the table is the docstring of the source's `transparency/leaves.py`. Read
    the fields from it, check that `SHA-256(0x00 || leaf)` is `leaf_hash`, and rebuild any root
    of the tree from the leaf hashes by RFC 9162, section 2.1.1. A `start` at or past the tree's
    size is a 400."""
    first = whole_number("start", start)
    if first is None:
        raise BadParameter("start", "is required: the first leaf's index")
    last = whole_number("end", end)
    with refused_as_bad_parameter():
        async with log_connection(services) as connection:
            found = await proofs.entries(
                connection, first, first + proofs.MAX_ENTRIES if last is None else last
            )
            size = await proofs.tree_size(connection)
    body = LogEntries(tree_size=size, entries=[LogEntry.of(entry) for entry in found])
    return json_answer(request, body)


def neither_or_both() -> ValidationException:
    message = "give exactly one of index and statement_id"
    return ValidationException(
        detail=f"index: {message}",
        extra=[
            {"key": name, "message": message, "source": "query"}
            for name in ("index", "statement_id")
        ],
    )


async def leaf_of_statement(connection: Connection, statement_id: UUID) -> int:
    """The leaf of a statement's recording; a 404 when there is none (yet)."""
    index = await proofs.leaf_index_of(connection, statement_id)
    if not await existing(connection, [statement_id], topic=STATEMENT_RECORDED):
        raise NotFound("statement", statement_id, field="statement_id")
    if index is None:
        raise NotYetInTheLog(statement_id)
    return index


@log_read(
    "/log/proofs/inclusion", "getLogInclusionProof", "Proof that a leaf is in the log", missing=True
)
async def inclusion_proof(
    request: Request[Any, Any, Any],
    services: ServicesDep,
    index: Annotated[
        str | None, whole_parameter("The leaf's index (or give `statement_id` instead).")
    ] = None,
    statement_id: Annotated[
        UUID | None,
        QueryParameter(
            description="The statement whose recording is the leaf (or give `index` instead)."
        ),
    ] = None,
    tree_size: TreeSizeParameter = None,
) -> Response[InclusionProof]:
    """The proof that a leaf (by `index`, or the event that recorded `statement_id`) is in the
    tree of `tree_size` leaves: its leaf hash, the inclusion path in RFC 9162 order (the leaf's
    sibling first) and the tree's root, with the checkpoint of that size when there is one.

    Verify it with RFC 9162's algorithm (section 2.1.3.2) against a root you trust: the one in a
    checkpoint you verified and kept, rather than `root_hash` alone. Get the leaf's bytes from
    `/v1/log/entries` to see what it says. A statement recorded after the latest checkpoint is
    not in its tree yet: ask with a larger `tree_size`, or once a newer checkpoint covers it. A
    statement the ledger holds that the tree has not reached yet is a 404, as is an unknown one."""
    leaf = whole_number("index", index)
    size = whole_number("tree_size", tree_size)
    if (leaf is None) == (statement_id is None):
        raise neither_or_both()
    with refused_as_bad_parameter():
        async with log_connection(services) as connection:
            if statement_id is not None:
                leaf = await leaf_of_statement(connection, statement_id)
            assert leaf is not None
            latest: proofs.StoredCheckpoint | None = None
            defaulted = size is None
            if size is None:
                size, latest = await default_size(connection)
            if leaf >= size and (defaulted or (statement_id is not None and size >= 1)):
                raise BadParameter(*_beyond(leaf, size, statement_id, latest, defaulted=defaulted))
            proof = await proofs.inclusion_proof(connection, leaf, size)
    return json_answer(request, InclusionProof.of(proof, latest or proof.checkpoint))


def _beyond(
    leaf: int,
    size: int,
    statement_id: UUID | None,
    latest: proofs.StoredCheckpoint | None,
    *,
    defaulted: bool,
) -> tuple[str, str]:
    """The parameter to name, and why, when a leaf is past the tree a proof is asked against."""
    what = f"statement {statement_id} is leaf {leaf}" if statement_id else f"leaf {leaf}"
    field = "index" if statement_id is None else "statement_id"
    if not defaulted:
        return field, f"{what}, not in a tree of {size} leaves"
    tree = "the latest checkpoint's" if latest else "the log's tree's"
    return field, f"{what}, past {tree} {size} leaves: give a larger tree_size, or ask later"


@log_read(
    "/log/proofs/consistency",
    "getLogConsistencyProof",
    "Proof that an earlier tree is a prefix of a later one",
)
async def consistency_proof(
    request: Request[Any, Any, Any],
    services: ServicesDep,
    first: Annotated[
        str | None, whole_parameter("The earlier tree's size.", minimum=1, required=True)
    ] = None,
    second: TreeSizeParameter = None,
) -> Response[ConsistencyProof]:
    """The proof that the tree of `first` leaves is a prefix of the tree of `second` leaves:
    that nothing the first covered was changed, removed or reordered since. With both roots and
    the consistency path in RFC 9162 order (empty when the sizes are equal).

    Verify it with RFC 9162's algorithm (section 2.1.4.2) against roots you trust: the one of a
    checkpoint you kept from before, and that of a checkpoint you fetch now. A proof that does
    not verify, or a log that refuses a proof its checkpoints call for, is evidence that the
    ledger rewrote its past."""
    older = whole_number("first", first)
    if older is None:
        raise BadParameter("first", "is required: the earlier tree's size")
    newer = whole_number("second", second)
    with refused_as_bad_parameter():
        async with log_connection(services) as connection:
            if newer is None:
                newer, latest = await default_size(connection)
                if older > newer:
                    tree = "the latest checkpoint's" if latest else "the log's tree's"
                    raise BadParameter("first", f"is past {tree} {newer} leaves: give second")
            proof = await proofs.consistency_proof(connection, older, newer)
    return json_answer(request, ConsistencyProof.of(proof))
