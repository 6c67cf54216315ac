"""An example of every operation for the OpenAPI document: what a write sends, what it answers.

They follow the Tiotkino raid of 12 March 2024 that the demo records: the ids are made up, the
shapes are those the API answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SOURCE = "3f0c2a1e-7b4d-4e8a-9c61-2d5f8e0b7a13"
RELAY = "8a41c6d2-0e5f-4b7a-a3c9-61d2f7e8b054"
INCIDENT = "c2e7f9a0-5d3b-4c1e-8f6a-94b0d2e1c357"
CLAIM = "1d9b4e6f-2a7c-4f30-b8e5-07c3a9d6f412"
STATEMENT = "6e2a8c4f-9b1d-4a57-8c3e-f05d7b2a9e61"
DENIAL = "3f8c1a7e-6b2d-4e95-a0c4-d71e5b9f2a38"
WEBHOOK = "f4b8d2c6-1e3a-4d5f-9b7c-a2e6c8d0f193"
RECORDED_AT = "2024-03-12T06:25:41.203511Z"
PUBLISHED_AT = "2024-03-12T06:10:00Z"


@dataclass(frozen=True, slots=True)
class OperationExample:
    """What an operation is sent (writes only) and what it answers on success."""

    response: Any
    request: Any = None


def _written(entity_id: str, position: int) -> dict[str, Any]:
    return {"id": entity_id, "position": position, "recorded_at": RECORDED_AT}


_SOURCE = {
    "id": SOURCE,
    "name": "Radio Svoboda",
    "kind": "media",
    "affiliation": "RFE/RL",
    "channels": ["telegram:svoboda_radio"],
    "url": "https://www.svoboda.org/",
    "reliability": "B",
    "reliability_label": "usually reliable",
    "recorded_at": RECORDED_AT,
    "position": 3,
}
_CLAIM = {
    "id": CLAIM,
    "incident_id": INCIDENT,
    "text": "A Russian armoured vehicle was destroyed in Tyotkino",
    "status": "confirmed",
    "reason": "confirmed: geolocation by Radio Svoboda; against it: denied by Ministry of Defence",
    "deciding_statement_ids": [STATEMENT],
    "opposing_statement_ids": [DENIAL],
    "status_since": "2024-03-12T15:04:12.551903Z",
    "verdict": None,
    "verdict_rationale": None,
    "verdict_at": None,
    "recorded_at": RECORDED_AT,
    "position": 12,
}
_INCIDENT = {
    "id": INCIDENT,
    "title": "Raid into Tyotkino",
    "summary": "Armed groups from Ukraine cross the border near Tyotkino, Kursk region.",
    "place": {
        "name": "Tyotkino",
        "admin1": "Kursk Oblast",
        "admin2": None,
        "country": "RU",
        "lat": 51.2725,
        "lon": 34.3033,
        "precision": "settlement",
    },
    "occurred_from": "2024-03-12T03:00:00Z",
    "occurred_to": None,
    "occurred_precision": "hour",
    "tags": ["cross-border", "kursk"],
    "recorded_at": RECORDED_AT,
    "revised_at": None,
    "position": 9,
    "claim_count": 1,
    "headline_status": "confirmed",
    "status_counts": {"confirmed": 1},
}
_STATEMENT = {
    "id": STATEMENT,
    "claim_id": CLAIM,
    "incident_id": INCIDENT,
    "source_id": SOURCE,
    "source_name": "Radio Svoboda",
    "claim_text": "A Russian armoured vehicle was destroyed in Tyotkino",
    "stance": "confirms",
    "published_at": "2024-03-12T15:00:00Z",
    "quote": "Geolocated: the vehicle burns at the northern edge of Tyotkino.",
    "language": "ru",
    "url": "https://t.me/svoboda_radio/1",
    "channel": "telegram:svoboda_radio",
    "via_source_id": None,
    "evidence": [
        {
            "kind": "geolocation",
            "url": None,
            "description": None,
            "sha256": None,
            "lat": 51.2725,
            "lon": 34.3033,
        }
    ],
    "credibility": 2,
    "credibility_label": "probably true",
    "recorded_at": "2024-03-12T15:04:12.551903Z",
    "withdrawn_at": None,
    "position": 14,
}
_WEBHOOK = {
    "id": WEBHOOK,
    "url": "https://desk.example.org/claimledger",
    "description": "status changes for the desk",
    "event_types": ["claim.status_changed"],
    "incident_ids": None,
    "enabled": True,
    "disabled_reason": None,
    "created_at": RECORDED_AT,
    "updated_at": RECORDED_AT,
    "delivered_through": 14,
    "pending_attempts": 0,
    "next_attempt_at": RECORDED_AT,
    "failing_since": None,
    "previous_secret_until": None,
    "secret": None,
}
_DELIVERY = {
    "webhook_id": "msg_14",
    "type": "claim.status_changed",
    "position": 14,
    "attempt": 1,
    "attempted_at": "2024-03-12T15:04:12.901233Z",
    "outcome": "delivered",
    "status_code": 204,
    "latency_ms": 41.7,
    "error": None,
}
_STATEMENT_SENT = {
    "source_id": SOURCE,
    "stance": "confirms",
    "published_at": "2024-03-12T15:00:00Z",
    "quote": "Geolocated: the vehicle burns at the northern edge of Tyotkino.",
    "language": "ru",
    "url": "https://t.me/svoboda_radio/1",
    "evidence": [{"kind": "geolocation", "lat": 51.2725, "lon": 34.3033}],
    "credibility": 2,
}

EXAMPLES: dict[str, OperationExample] = {
    "health": OperationExample({"status": "ok"}),
    "ready": OperationExample(
        {
            "status": "ready",
            "database": True,
            "projected_position": 14,
            "head_position": 14,
            "lag": 0,
            "projector_idle_seconds": None,
            "projector_error": None,
            "skipped_events": 0,
            "dispatcher_error": None,
        }
    ),
    "describeProblem": OperationExample(
        {
            "type": "/problems/not-found",
            "status": 404,
            "title": "Not found",
            "description": "The id in the path names nothing in the ledger.",
        }
    ),
    "registerSource": OperationExample(
        _written(SOURCE, 3),
        {
            "name": "Radio Svoboda",
            "kind": "media",
            "affiliation": "RFE/RL",
            "channels": ["telegram:svoboda_radio"],
            "url": "https://www.svoboda.org/",
        },
    ),
    "rateSource": OperationExample(
        _written(SOURCE, 4),
        {"reliability": "B", "rationale": "Geolocations checked out over two years."},
    ),
    "listSources": OperationExample({"items": [_SOURCE], "next_cursor": None}),
    "getSource": OperationExample(_SOURCE),
    "openIncident": OperationExample(
        _written(INCIDENT, 9),
        {
            "title": "Raid into Tyotkino",
            "summary": "Armed groups from Ukraine cross the border near Tyotkino, Kursk region.",
            "place": {"name": "Tyotkino", "country": "RU", "precision": "settlement"},
            "occurred_from": "2024-03-12T03:00:00Z",
            "occurred_precision": "hour",
            "tags": ["cross-border", "kursk"],
        },
    ),
    "reviseIncident": OperationExample(
        _written(INCIDENT, 21),
        {"summary": "Fighting in and around Tyotkino through the day.", "occurred_to": None},
    ),
    "addClaim": OperationExample(
        _written(CLAIM, 12), {"text": "A Russian armoured vehicle was destroyed in Tyotkino"}
    ),
    "listIncidents": OperationExample({"items": [_INCIDENT], "next_cursor": None}),
    "getIncident": OperationExample({**_INCIDENT, "claims": [_CLAIM]}),
    "getIncidentTimeline": OperationExample({"items": [_STATEMENT], "next_cursor": None}),
    "recordStatement": OperationExample(_written(STATEMENT, 14), _STATEMENT_SENT),
    "recordStatementBatch": OperationExample(
        {"items": [_written(STATEMENT, 14)]},
        {"statements": [{**_STATEMENT_SENT, "claim_id": CLAIM, "idempotency_key": "svoboda-1"}]},
    ),
    "withdrawStatement": OperationExample(
        _written(STATEMENT, 15), {"reason": "recorded against the wrong claim"}
    ),
    "giveVerdict": OperationExample(
        _written(CLAIM, 16),
        {"verdict": "mostly_true", "rationale": "The vehicle is geolocated; its type is not."},
    ),
    "getClaim": OperationExample(_CLAIM),
    "getClaimHistory": OperationExample(
        {
            "items": [
                {
                    "status": "unverified",
                    "recorded_from": RECORDED_AT,
                    "recorded_to": "2024-03-12T15:04:12.551903Z",
                    "statement_id": None,
                    "reason": "no statement on this claim yet",
                    "deciding_statement_ids": [],
                    "opposing_statement_ids": [],
                },
                {
                    "status": "confirmed",
                    "recorded_from": "2024-03-12T15:04:12.551903Z",
                    "recorded_to": None,
                    "statement_id": STATEMENT,
                    "reason": "confirmed: geolocation by Radio Svoboda",
                    "deciding_statement_ids": [STATEMENT],
                    "opposing_statement_ids": [],
                },
            ],
            "next_cursor": None,
        }
    ),
    "getTimeline": OperationExample({"items": [_STATEMENT], "next_cursor": None}),
    "search": OperationExample(
        {
            "items": [
                {
                    "kind": "claim",
                    "id": CLAIM,
                    "rank": 0.6079271,
                    "title": "A Russian armoured vehicle was destroyed in Tyotkino",
                    "snippet": [
                        {"text": "A Russian armoured vehicle was destroyed in ", "match": False},
                        {"text": "Tyotkino", "match": True},
                    ],
                    "incident_id": INCIDENT,
                    "claim_id": CLAIM,
                    "source_id": None,
                    "stance": None,
                    "language": None,
                    "published_at": None,
                    "recorded_at": RECORDED_AT,
                    "withdrawn_at": None,
                }
            ],
            "next_cursor": "WyJzZWFyY2giLDAuNjA3OTI3MSwxLCIxZDliNGU2ZiJd",
        }
    ),
    "stream": OperationExample(
        "retry: 2000\r\nid: 14\r\nevent: claim.status_changed\r\n"
        'data: {"incident_id":"' + INCIDENT + '","claim_id":"' + CLAIM + '","from":"claimed",'
        '"to":"confirmed","reasons":{"text":"confirmed: geolocation by Radio Svoboda",'
        '"statement_ids":["' + STATEMENT + '"],"opposing_statement_ids":[]},'
        '"statement_id":"' + STATEMENT + '",'
        '"recorded_at":"2024-03-12T15:04:12.551903Z",'
        '"position":14}\r\n\r\n'
    ),
    "createWebhook": OperationExample(
        {**_WEBHOOK, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
        {
            "url": "https://desk.example.org/claimledger",
            "event_types": ["claim.status_changed"],
            "description": "status changes for the desk",
        },
    ),
    "listWebhooks": OperationExample({"items": [_WEBHOOK], "next_cursor": None}),
    "getWebhook": OperationExample(_WEBHOOK),
    "updateWebhook": OperationExample(
        {**_WEBHOOK, "description": "the desk's status feed"},
        {"description": "the desk's status feed", "enabled": True},
    ),
    "deleteWebhook": OperationExample(None),
    "listWebhookDeliveries": OperationExample({"items": [_DELIVERY], "next_cursor": None}),
    "replayWebhook": OperationExample(
        {"id": WEBHOOK, "from_position": 12, "messages": 2}, {"from_position": 12}
    ),
    "testWebhook": OperationExample(
        {**_DELIVERY, "webhook_id": "msg_test_5b1c", "type": "webhook.test", "position": None}
    ),
}
