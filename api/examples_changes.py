"""Examples of the reads of what changed: an incident's changes between two moments, and a
source's track record (the Tiotkino raid of 12 March 2024, ids made up)."""

from __future__ import annotations

from typing import Any

from claimledger.api.examples import (
    CLAIM,
    INCIDENT,
    RECORDED_AT,
    SOURCE,
    STATEMENT,
    OperationExample,
)

LEGION = "5b7e0c93-4d2a-4f18-b6e3-90a1c8d7f254"

_STATEMENT_CHANGE = {
    "statement_id": STATEMENT,
    "source_id": SOURCE,
    "source_name": "Radio Svoboda",
    "stance": "confirms",
    "published_at": "2024-03-12T15:00:00Z",
    "quote": "Geolocated: the vehicle burns at the northern edge of Tyotkino.",
    "language": "ru",
    "url": "https://t.me/svoboda_radio/1",
    "credibility": 2,
}


def _change(kind: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    """An item of an incident's changes: the statement above, or the status change it caused."""
    change: dict[str, Any] = {
        "kind": kind,
        "position": 14,
        "recorded_at": "2024-03-12T15:04:12.551903Z",
        "claim_id": CLAIM,
        "claim_text": "A Russian armoured vehicle was destroyed in Tyotkino",
        "statement_id": STATEMENT,
        "source_id": None,
        "source_name": None,
        "stance": None,
        "published_at": None,
        "quote": None,
        "language": None,
        "url": None,
        "via_source_id": None,
        "credibility": None,
        "from": None,
        "to": None,
        "reason": None,
        "deciding_statement_ids": [],
        "opposing_statement_ids": [],
        "verdict": None,
        "previous_verdict": None,
        "title": None,
        "summary": None,
        "changed": [],
    }
    if kind == "status_changed":
        change.update(
            {
                "from": "claimed",
                "to": "confirmed",
                "reason": "confirmed: geolocation by Radio Svoboda",
                "deciding_statement_ids": [STATEMENT],
            }
        )
    return {**change, **(fields or {})}


def _verification(claims: int, confirmed: int, refuted: int) -> dict[str, Any]:
    return {
        "claims": claims,
        "retracted_by_source": 0,
        "confirmed": confirmed,
        "refuted": refuted,
        "confirmed_share": confirmed / claims if claims else None,
        "refuted_share": refuted / claims if claims else None,
    }


_RECORD: dict[str, Any] = {
    "source": {
        "id": LEGION,
        "name": 'Legion "Freedom of Russia"',
        "kind": "armed_group",
        "affiliation": "anti-Kremlin Russian volunteers fighting for Ukraine",
        "channels": [],
        "url": None,
        "reliability": "C",
        "reliability_label": "fairly reliable",
        "recorded_at": RECORDED_AT,
        "position": 2,
    },
    "known_at": None,
    "stances": {"asserts": 4, "denies": 0, "confirms": 0, "refutes": 0, "retracts": 0},
    "claims": 4,
    "by_status": {
        "unverified": 0,
        "claimed": 0,
        "denied": 0,
        "disputed": 2,
        "confirmed": 2,
        "refuted": 0,
        "contested": 0,
        "retracted": 0,
    },
    "asserted": _verification(4, 2, 0),
    "denied": _verification(0, 0, 0),
    "reliability_history": [
        {
            "reliability": "F",
            "reliability_label": "cannot be judged",
            "rationale": None,
            "recorded_at": RECORDED_AT,
            "position": 2,
        },
        {
            "reliability": "C",
            "reliability_label": "fairly reliable",
            "rationale": "Its claims of ground held are often overstated.",
            "recorded_at": "2024-03-12T17:00:00Z",
            "position": 31,
        },
    ],
}

CHANGE_EXAMPLES: dict[str, OperationExample] = {
    "getIncidentChanges": OperationExample(
        {
            "incident_id": INCIDENT,
            "from": "2024-03-12T09:00:00Z",
            "to": "2024-03-12T16:00:00Z",
            "items": [_change("statement_recorded", _STATEMENT_CHANGE), _change("status_changed")],
            "next_cursor": None,
        }
    ),
    "getSourceRecord": OperationExample(_RECORD),
}
