"""Every write endpoint over HTTP, against a real PostgreSQL: successes and failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from tests.conftest import Keys
from tests.helpers import Client, an_hour_ago, claim, created, incident, iso, source, statement


def assert_written(answer: dict[str, object]) -> None:
    assert set(answer) == {"id", "position", "recorded_at"}
    UUID(str(answer["id"]))
    assert isinstance(answer["position"], int)
    assert answer["position"] > 0
    recorded_at = datetime.fromisoformat(str(answer["recorded_at"]))
    assert recorded_at.tzinfo is not None
    assert abs(datetime.now(UTC) - recorded_at) < timedelta(minutes=1)


async def test_register_source(client: Client, keys: Keys) -> None:
    answer = await created(
        client,
        "/v1/sources",
        {"name": "FSB", "kind": "security_service", "affiliation": "Russian state", "channels": []},
        keys.editor,
    )
    assert_written(answer)


async def test_positions_increase_with_each_write(client: Client, keys: Keys) -> None:
    first = await created(client, "/v1/sources", {"name": "A", "kind": "media"}, keys.editor)
    second = await created(client, "/v1/sources", {"name": "B", "kind": "media"}, keys.editor)
    assert second["position"] > first["position"]


async def test_unknown_kind_is_a_422_naming_the_field(client: Client, keys: Keys) -> None:
    response = await client.post(
        "/v1/sources", json={"name": "X", "kind": "astrologer"}, headers=keys.header("editor")
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["field"] == "kind"
    assert problem["status"] == 422
    assert problem["type"] == "/problems/validation"


async def test_rate_source(client: Client, keys: Keys) -> None:
    source_id = await source(client, keys.editor)
    answer = await created(
        client,
        f"/v1/sources/{source_id}/ratings",
        {"reliability": "B", "rationale": "Usually reliable"},
        keys.admin,
    )
    assert_written(answer)
    assert answer["id"] == source_id


async def test_rating_needs_admin(client: Client, keys: Keys) -> None:
    source_id = await source(client, keys.editor)
    response = await client.post(
        f"/v1/sources/{source_id}/ratings", json={"reliability": "B"}, headers=keys.header("editor")
    )
    assert response.status_code == 403


async def test_rating_an_unknown_source_is_404(client: Client, keys: Keys) -> None:
    response = await client.post(
        f"/v1/sources/{uuid4()}/ratings", json={"reliability": "A"}, headers=keys.header("admin")
    )
    assert response.status_code == 404
    assert response.json()["type"] == "/problems/not-found"


async def test_bad_reliability_grade(client: Client, keys: Keys) -> None:
    source_id = await source(client, keys.editor)
    response = await client.post(
        f"/v1/sources/{source_id}/ratings", json={"reliability": "G"}, headers=keys.header("admin")
    )
    assert response.status_code == 422
    assert response.json()["field"] == "reliability"


async def test_open_incident_with_place_and_time(client: Client, keys: Keys) -> None:
    answer = await created(
        client,
        "/v1/incidents",
        {
            "title": "Raid",
            "summary": "Cross-border raid",
            "place": {"name": "Tyotkino", "country": "RU", "lat": 51.27, "lon": 34.3},
            "occurred_from": "2024-03-12T00:00:00Z",
            "occurred_precision": "day",
            "tags": ["partisans"],
        },
        keys.editor,
    )
    assert_written(answer)


async def test_incident_rejects_bad_country_and_inverted_time(client: Client, keys: Keys) -> None:
    bad_country = await client.post(
        "/v1/incidents",
        json={"title": "X", "place": {"name": "Y", "country": "Russia"}},
        headers=keys.header("editor"),
    )
    assert bad_country.status_code == 422
    assert bad_country.json()["field"] == "place.country"
    inverted = await client.post(
        "/v1/incidents",
        json={
            "title": "X",
            "occurred_from": "2024-03-12T00:00:00Z",
            "occurred_to": "2024-03-11T00:00:00Z",
        },
        headers=keys.header("editor"),
    )
    assert inverted.status_code == 422
    assert inverted.json()["field"] == "occurred_to"


async def test_revise_incident(client: Client, keys: Keys) -> None:
    incident_id = await incident(client, keys.editor, tags=["a"])
    response = await client.patch(
        f"/v1/incidents/{incident_id}",
        json={"title": "Raid (revised)"},
        headers=keys.header("editor"),
    )
    # A change answers 200, as a webhook's does; 201 is for what a request creates.
    assert response.status_code == 200, response.text
    assert response.json()["id"] == incident_id
    missing = await client.patch(
        f"/v1/incidents/{uuid4()}", json={"title": "Nope"}, headers=keys.header("editor")
    )
    assert missing.status_code == 404


async def test_add_claim(client: Client, keys: Keys) -> None:
    incident_id = await incident(client, keys.editor)
    answer = await created(
        client, f"/v1/incidents/{incident_id}/claims", {"text": "Tyotkino is taken"}, keys.editor
    )
    assert_written(answer)


async def test_claim_on_unknown_incident_is_404(client: Client, keys: Keys) -> None:
    response = await client.post(
        f"/v1/incidents/{uuid4()}/claims", json={"text": "x"}, headers=keys.header("editor")
    )
    assert response.status_code == 404


async def test_empty_claim_text_is_refused(client: Client, keys: Keys) -> None:
    incident_id = await incident(client, keys.editor)
    response = await client.post(
        f"/v1/incidents/{incident_id}/claims", json={"text": ""}, headers=keys.header("editor")
    )
    assert response.status_code == 422
    assert response.json()["field"] == "text"


async def test_record_statement_with_every_field(client: Client, keys: Keys) -> None:
    claim_id = await claim(client, keys.editor, await incident(client, keys.editor))
    speaker = await source(client, keys.editor, "Andriy Yusov")
    relay = await source(client, keys.editor, "Radio Svoboda")
    answer = await statement(
        client,
        keys.editor,
        claim_id,
        speaker,
        quote="They are at home.",
        language="uk",
        url="https://example.org/report",
        channel="telegram",
        via_source_id=relay,
        evidence=[
            {
                "kind": "geolocation",
                "description": "Fighting inside Tyotkino",
                "sha256": "a" * 64,
                "lat": 51.27,
                "lon": 34.3,
            }
        ],
        credibility=2,
    )
    assert_written(answer)


async def test_statement_on_unknown_claim_is_404(client: Client, keys: Keys) -> None:
    speaker = await source(client, keys.editor)
    response = await client.post(
        f"/v1/claims/{uuid4()}/statements",
        json={"source_id": speaker, "stance": "asserts", "published_at": an_hour_ago()},
        headers=keys.header("editor"),
    )
    assert response.status_code == 404


async def test_unknown_source_in_body_is_422_naming_it(client: Client, keys: Keys) -> None:
    claim_id = await claim(client, keys.editor, await incident(client, keys.editor))
    for field in ("source_id", "via_source_id"):
        speaker = await source(client, keys.editor)
        body = {"source_id": speaker, "stance": "asserts", "published_at": an_hour_ago()}
        body[field] = str(uuid4())
        response = await client.post(
            f"/v1/claims/{claim_id}/statements", json=body, headers=keys.header("editor")
        )
        assert response.status_code == 422, response.text
        assert response.json()["field"] == field
        assert response.json()["type"] == "/problems/unknown-reference"


async def test_naive_and_future_published_at_are_422(client: Client, keys: Keys) -> None:
    claim_id = await claim(client, keys.editor, await incident(client, keys.editor))
    speaker = await source(client, keys.editor)
    future = iso(datetime.now(UTC) + timedelta(hours=1))
    for published_at in ("2024-03-12T06:10:00", future):
        response = await client.post(
            f"/v1/claims/{claim_id}/statements",
            json={"source_id": speaker, "stance": "asserts", "published_at": published_at},
            headers=keys.header("editor"),
        )
        assert response.status_code == 422, (published_at, response.text)
        assert response.json()["field"] == "published_at"


async def test_statement_field_limits(client: Client, keys: Keys) -> None:
    claim_id = await claim(client, keys.editor, await incident(client, keys.editor))
    speaker = await source(client, keys.editor)
    base = {"source_id": speaker, "stance": "asserts", "published_at": an_hour_ago()}
    cases: dict[str, dict[str, object]] = {
        "credibility": {"credibility": 7},
        "stance": {"stance": "believes"},
        "url": {"url": "javascript:alert(1)"},
        "evidence[0].sha256": {"evidence": [{"kind": "video", "sha256": "xyz"}]},
        "evidence[0].lat": {"evidence": [{"kind": "video", "lat": 91}]},
        "evidence[0].colour": {"evidence": [{"kind": "video", "colour": "red"}]},
        "mood": {"mood": "angry"},
        "source_id": {"source_id": "not-a-uuid"},
    }
    for field, change in cases.items():
        response = await client.post(
            f"/v1/claims/{claim_id}/statements",
            json={**base, **change},
            headers=keys.header("editor"),
        )
        assert response.status_code == 422, (field, response.text)
        assert response.json()["field"] == field, response.json()


async def test_malformed_json_is_400(client: Client, keys: Keys) -> None:
    response = await client.post(
        "/v1/sources",
        content=b'{"name": ',
        headers={**keys.header("editor"), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_oversized_body_is_413_and_writes_nothing(client: Client, keys: Keys) -> None:
    before = await created(client, "/v1/sources", {"name": "Before", "kind": "media"}, keys.editor)
    response = await client.post(
        "/v1/sources",
        json={"name": "X", "kind": "media", "affiliation": "y" * (2 * 1024 * 1024)},
        headers=keys.header("editor"),
    )
    assert response.status_code == 413
    assert response.json()["type"] == "/problems/too-large"
    after = await created(client, "/v1/sources", {"name": "After", "kind": "media"}, keys.editor)
    assert after["position"] == before["position"] + 1


async def test_withdrawal(client: Client, keys: Keys) -> None:
    claim_id = await claim(client, keys.editor, await incident(client, keys.editor))
    recorded = await statement(client, keys.editor, claim_id, await source(client, keys.editor))
    path = f"/v1/statements/{recorded['id']}/withdrawal"
    answer = await created(client, path, {"reason": "recorded on the wrong claim"}, keys.editor)
    assert_written(answer)
    assert answer["id"] == recorded["id"]
    assert answer["position"] > recorded["position"]
    again = await client.post(path, json={"reason": "again"}, headers=keys.header("editor"))
    assert again.status_code == 409
    assert again.json()["type"] == "/problems/already-withdrawn"
    unknown = await client.post(
        f"/v1/statements/{uuid4()}/withdrawal", json={"reason": "x"}, headers=keys.header("editor")
    )
    assert unknown.status_code == 404


async def test_verdict(client: Client, keys: Keys) -> None:
    claim_id = await claim(client, keys.editor, await incident(client, keys.editor))
    answer = await created(
        client,
        f"/v1/claims/{claim_id}/verdicts",
        {"verdict": "mostly_true", "rationale": "Geolocated"},
        keys.editor,
    )
    assert_written(answer)
    bad = await client.post(
        f"/v1/claims/{claim_id}/verdicts", json={"verdict": "maybe"}, headers=keys.header("editor")
    )
    assert bad.status_code == 422
    assert bad.json()["field"] == "verdict"
    unknown = await client.post(
        f"/v1/claims/{uuid4()}/verdicts", json={"verdict": "true"}, headers=keys.header("editor")
    )
    assert unknown.status_code == 404


async def test_malformed_path_id_is_a_problem_not_a_500(client: Client, keys: Keys) -> None:
    response = await client.post(
        "/v1/claims/not-a-uuid/verdicts", json={"verdict": "true"}, headers=keys.header("editor")
    )
    assert response.status_code in (400, 404)
    assert response.headers["content-type"].startswith("application/problem+json")
