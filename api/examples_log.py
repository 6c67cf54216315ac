"""Examples of the transparency log's reads: a log of 21 leaves whose leaf 13 is the recording of
the Tiotkino statement (ids made up), with its checkpoint signed by a made-up key.

The hashes are computed here with the log's own tree math, so the proofs verify against the
roots shown; the leaves other than 13 stand in for events by hashes of their own.
"""

from __future__ import annotations

import base64
from typing import Any
from uuid import UUID

import msgspec

from claimledger.api.examples import CLAIM, INCIDENT, SOURCE, STATEMENT, OperationExample
from claimledger.transparency import merkle
from claimledger.transparency.leaves import encode_leaf

ORIGIN = "ledger.example.org/log"
SIZE = 21
EARLIER = 16
INDEX = 13
POSITION = 14
SIGNED_AT = "2024-03-12T15:04:20.118342Z"
# Made once, with the log's signer, from a key made up for the example.
VERIFIER_KEY = f"{ORIGIN}+e96f1018+ART/HsceWPe+O2FQe+puCqmctdso6zIllo2zu05QXqbd"
SIGNATURES = {
    SIZE: "6W8QGKYd7JVA97Zd4+JpjQYm6XiPrfH9oY9w/9njtYTVgnSSY88WRCj1r9/kyxpn2EPTVLVT66w5"
    "9Jg+umWty+Ztvgo=",
    EARLIER: "6W8QGIl9PTL5cCoygVKnDazdIuc2qYsDLdPjnoDrRzh/WDJVhpd6he34fIN2yzO9sM6E0++fM9BAqqpG"
    "LkYkQYHZ1gs=",
}

# The event's JSON as the event table holds it.
_STATE = msgspec.json.encode(
    {
        "originator_id": STATEMENT,
        "originator_version": 1,
        "timestamp": "2024-03-12T15:04:12.551903+00:00",
        "claim_id": CLAIM,
        "incident_id": INCIDENT,
        "source_id": SOURCE,
        "stance": "confirms",
        "published_at": "2024-03-12T15:00:00+00:00",
        "quote": "Geolocated: the vehicle burns at the northern edge of Tyotkino.",
        "language": "ru",
        "url": "https://t.me/svoboda_radio/1",
        "channel": None,
        "via_source_id": None,
        "evidence": [],
        "credibility": 2,
        "recorded_by": "00000000-0000-0000-0000-000000000000",
        "fingerprint": None,
    }
)
LEAF = encode_leaf(
    POSITION,
    UUID(STATEMENT),
    1,
    "domain.statement:StatementRecorded",
    _STATE,
)
_HASHES = [
    merkle.leaf_hash(LEAF) if i == INDEX else merkle.leaf_hash(b"event %d" % i) for i in range(SIZE)
]
_, _NODES = merkle.tree_of(_HASHES)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _root(size: int) -> bytes:
    return merkle.root_from(size, _NODES)


def checkpoint_body_of(size: int) -> str:
    """The checkpoint of the example's tree of ``size`` leaves, unsigned."""
    return f"{ORIGIN}\n{size}\n{_b64(_root(size))}\n"


def note_of(size: int) -> str:
    """The example's checkpoint of ``size`` leaves, signed."""
    return f"{checkpoint_body_of(size)}\n\u2014 {ORIGIN} {SIGNATURES[size]}\n"


NOTE = note_of(SIZE)


def _checkpoint(size: int, note: str, signed_at: str) -> dict[str, Any]:
    return {
        "tree_size": size,
        "root_hash": _b64(_root(size)),
        "origin": ORIGIN,
        "signed_at": signed_at,
        "signed": True,
        "checkpoint": note,
    }


_INCLUSION = merkle.inclusion_ranges(INDEX, SIZE)
_CONSISTENCY = merkle.consistency_ranges(EARLIER, SIZE)

LOG_EXAMPLES: dict[str, OperationExample] = {
    "getLogCheckpoint": OperationExample(NOTE),
    "getLogCheckpointAt": OperationExample(NOTE),
    "getLogKey": OperationExample(VERIFIER_KEY),
    "listLogCheckpoints": OperationExample(
        {
            "items": [
                _checkpoint(SIZE, NOTE, SIGNED_AT),
                _checkpoint(EARLIER, note_of(EARLIER), "2024-03-12T14:58:03.902114Z"),
            ],
            "next_cursor": "WyJjaGVja3BvaW50cyIsMTZd",
        }
    ),
    "getLogEntries": OperationExample(
        {
            "tree_size": SIZE,
            "entries": [
                {
                    "index": INDEX,
                    "position": POSITION,
                    "leaf": _b64(LEAF),
                    "leaf_hash": _b64(_HASHES[INDEX]),
                }
            ],
        }
    ),
    "getLogInclusionProof": OperationExample(
        {
            "leaf_index": INDEX,
            "tree_size": SIZE,
            "leaf_hash": _b64(_HASHES[INDEX]),
            "inclusion_path": [_b64(h) for h in merkle.proof_hashes(_INCLUSION, _NODES)],
            "root_hash": _b64(_root(SIZE)),
            "checkpoint": NOTE,
        }
    ),
    "getLogConsistencyProof": OperationExample(
        {
            "first": EARLIER,
            "second": SIZE,
            "consistency_path": [_b64(h) for h in merkle.proof_hashes(_CONSISTENCY, _NODES)],
            "first_root": _b64(_root(EARLIER)),
            "second_root": _b64(_root(SIZE)),
        }
    ),
}
