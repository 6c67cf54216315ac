"""The example of a search (the Tiotkino raid of 12 March 2024, ids made up)."""

from __future__ import annotations

from claimledger.api.examples import CLAIM, INCIDENT, RECORDED_AT, OperationExample

SEARCH_EXAMPLES: dict[str, OperationExample] = {
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
}
