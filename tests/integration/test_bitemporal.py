"""The two time axes: backdated statements, withdrawals, read-your-writes and caching."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.testing import AsyncTestClient

from claimledger.api.app import create_app
from claimledger.runtime.settings import Settings
from tests.conftest import Keys
from tests.helpers import Client, claim, created, incident, iso, source


async def get(client: Client, path: str, position: int, **params: str) -> dict[str, Any]:
    response = await client.get(path, params={"min_position": str(position), **params})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def say(
    client: Client, keys: Keys, claim_id: str, source_id: str, stance: str, published: datetime
) -> dict[str, Any]:
    body = {"source_id": source_id, "stance": stance, "published_at": iso(published)}
    return await created(client, f"/v1/claims/{claim_id}/statements", body, keys.editor)


async def test_a_backdated_statement_changes_the_published_past_not_the_known_past(
    client: Client, keys: Keys
) -> None:
    claim_id = await claim(client, keys.editor, await incident(client, keys.editor))
    group, ministry, newsroom = [
        await source(client, keys.editor, name) for name in ("Group", "Ministry", "Newsroom")
    ]
    noon = datetime(2024, 3, 12, 12, tzinfo=UTC)
    await say(client, keys, claim_id, group, "asserts", noon)
    denial = await say(client, keys, claim_id, ministry, "denies", noon + timedelta(hours=2))
    # Recorded last, published first: the newsroom had refuted it at 11:00 already.
    backdated = await say(client, keys, claim_id, newsroom, "refutes", noon - timedelta(hours=1))
    position = backdated["position"]
    path = f"/v1/claims/{claim_id}"

    at_one = iso(noon + timedelta(hours=1))
    assert (await get(client, path, position, published_before=at_one))["status"] == "refuted"
    known_then = {"known_at": denial["recorded_at"]}
    assert (await get(client, path, position, **known_then))["status"] == "disputed"
    both = await get(client, path, position, published_before=at_one, **known_then)
    assert both["status"] == "claimed"
    assert (await get(client, path, position))["status"] == "refuted"

    timeline = f"/v1/timeline?claim_id={claim_id}"
    as_published = await get(client, timeline, position, published_before=at_one)
    assert [i["stance"] for i in as_published["items"]] == ["refutes", "asserts"]
    as_known = await get(client, timeline, position, published_before=at_one, **known_then)
    assert [i["stance"] for i in as_known["items"]] == ["asserts"]


async def test_a_withdrawal_changes_the_present_not_the_known_past(
    client: Client, keys: Keys
) -> None:
    claim_id = await claim(client, keys.editor, await incident(client, keys.editor))
    group, ministry = [await source(client, keys.editor, n) for n in ("Group", "Ministry")]
    noon = datetime(2024, 3, 12, 12, tzinfo=UTC)
    await say(client, keys, claim_id, group, "asserts", noon)
    denial = await say(client, keys, claim_id, ministry, "denies", noon)
    withdrawal = await created(
        client,
        f"/v1/statements/{denial['id']}/withdrawal",
        {"reason": "misattributed"},
        keys.editor,
    )
    path = f"/v1/claims/{claim_id}"
    now = await get(client, path, withdrawal["position"])
    assert now["status"] == "claimed"
    before = await get(client, path, withdrawal["position"], known_at=denial["recorded_at"])
    assert before["status"] == "disputed"
    at_withdrawal = await get(
        client, path, withdrawal["position"], known_at=withdrawal["recorded_at"]
    )
    assert at_withdrawal["status"] == "claimed"
    history = await get(client, f"{path}/history", withdrawal["position"])
    assert [(h["status"], h["statement_id"]) for h in history["items"]][-1] == (
        "claimed",
        denial["id"],
    )


async def test_the_status_known_at_any_moment_is_what_the_rule_derives_again(
    client: Client, keys: Keys
) -> None:
    incident_id = await incident(client, keys.editor)
    first, second = [await claim(client, keys.editor, incident_id, text) for text in "AB"]
    group, ministry, newsroom, observers = [
        await source(client, keys.editor, name)
        for name in ("Group", "Ministry", "Newsroom", "Observers")
    ]
    noon = datetime(2024, 3, 12, 12, tzinfo=UTC)
    receipts = [
        await say(client, keys, first, group, "asserts", noon),
        await say(client, keys, second, ministry, "denies", noon),
        await say(client, keys, first, ministry, "denies", noon + timedelta(hours=1)),
        await say(client, keys, second, group, "confirms", noon + timedelta(hours=2)),
        await say(client, keys, first, newsroom, "refutes", noon - timedelta(hours=2)),
        await say(client, keys, second, observers, "confirms", noon + timedelta(hours=3)),
        await say(client, keys, first, group, "retracts", noon + timedelta(hours=4)),
    ]
    receipts.append(
        await created(
            client,
            f"/v1/statements/{receipts[4]['id']}/withdrawal",
            {"reason": "the video was older"},
            keys.editor,
        )
    )
    receipts.append(await say(client, keys, first, observers, "confirms", noon))
    last = receipts[-1]["position"]
    # Known at a moment, with or without a filter on publication that lets everything through:
    # the two time axes' code paths must always give the same status and reasons.
    everything_published = {"published_before": "2100-01-01T00:00:00Z"}
    moments = [r["recorded_at"] for r in receipts]
    moments += [iso(datetime.fromisoformat(m) - timedelta(microseconds=1)) for m in moments]
    for moment in moments:
        for claim_id in (first, second):
            path = f"/v1/claims/{claim_id}"
            known = await get(client, path, last, known_at=moment)
            derived = await get(client, path, last, known_at=moment, **everything_published)
            fields = ("status", "reason", "deciding_statement_ids", "opposing_statement_ids")
            assert {f: known[f] for f in fields} == {f: derived[f] for f in fields}, moment
            # The status history, which the incidents list filters on, agrees as well.
            history = await get(client, f"{path}/history", last, known_at=moment)
            assert history["items"][-1]["status"] == derived["status"], moment
        path = f"/v1/incidents/{incident_id}"
        known = await get(client, path, last, known_at=moment)
        derived = await get(client, path, last, known_at=moment, **everything_published)
        assert [(c["status"], c["reason"]) for c in known["claims"]] == [
            (c["status"], c["reason"]) for c in derived["claims"]
        ], moment
    now = [(await get(client, f"/v1/claims/{c}", last))["status"] for c in (first, second)]
    assert now == ["confirmed", "confirmed"]


async def test_a_read_with_min_position_sees_the_write_just_made(
    client: Client, keys: Keys
) -> None:
    for n in range(10):
        written = await created(client, "/v1/incidents", {"title": f"Incident {n}"}, keys.editor)
        found = await get(client, f"/v1/incidents/{written['id']}", written["position"])
        assert found["title"] == f"Incident {n}"


async def test_min_position_not_yet_projected_is_503_with_retry_after(
    settings: Settings, keys: Keys
) -> None:
    # No projector runs in this process (nor in any other): the write is never projected.
    impatient = replace(settings, min_position_wait_seconds=0.2, roles=frozenset({"api"}))
    async with AsyncTestClient(app=create_app(impatient)) as client:
        written = await created(client, "/v1/incidents", {"title": "Unseen"}, keys.editor)
        response = await client.get(
            "/v1/incidents", params={"min_position": str(written["position"])}
        )
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json()["type"] == "/problems/not-ready"


async def test_min_position_beyond_the_ledger_is_a_400_at_once(client: Client) -> None:
    response = await client.get("/v1/incidents", params={"min_position": "1000000"})
    assert response.status_code == 400
    assert response.json()["field"] == "min_position"
    assert "no event has position 1000000" in response.json()["detail"]


async def test_answers_carry_etags_and_old_moments_are_immutable(
    settings: Settings, keys: Keys
) -> None:
    settled = replace(settings, settle_seconds=0.0)
    async with AsyncTestClient(app=create_app(settled)) as client:
        claim_id = await claim(client, keys.editor, await incident(client, keys.editor))
        speaker = await source(client, keys.editor)
        first = await say(
            client, keys, claim_id, speaker, "asserts", datetime(2024, 3, 12, tzinfo=UTC)
        )
        later = await created(client, "/v1/incidents", {"title": "Later"}, keys.editor)
        path = f"/v1/claims/{claim_id}"
        params = {"min_position": str(later["position"])}
        current = await client.get(path, params=params)
        assert current.headers["cache-control"] == "no-cache"
        etag = current.headers["etag"]
        assert etag.startswith('"')
        unchanged = await client.get(path, params=params, headers={"If-None-Match": etag})
        assert unchanged.status_code == 304
        assert unchanged.content == b""

        old = await client.get(path, params={**params, "known_at": first["recorded_at"]})
        assert old.status_code == 200
        assert old.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert old.json()["status"] == "claimed"
        future = iso(datetime.now(UTC) + timedelta(days=1))
        ahead = await client.get(path, params={**params, "known_at": future})
        assert ahead.headers["cache-control"] == "no-cache"


async def test_reads_need_a_key_when_not_public(settings: Settings, keys: Keys) -> None:
    private = replace(settings, public_read=False)
    async with AsyncTestClient(app=create_app(private)) as client:
        assert (await client.get("/v1/incidents")).status_code == 401
        allowed = await client.get("/v1/incidents", headers=keys.header("reader"))
        assert allowed.status_code == 200
        assert (await client.get("/health")).status_code == 200


async def test_the_stream_refuses_a_bad_last_event_id_or_type(client: Client) -> None:
    bad_id = await client.get("/v1/stream", headers={"Last-Event-ID": "yesterday"})
    assert bad_id.status_code == 400
    assert bad_id.json()["field"] == "Last-Event-ID"
    bad_type = await client.get("/v1/stream", params={"types": "claim.exploded"})
    assert bad_type.status_code == 400


async def test_ready_reports_the_projection_lag(client: Client, keys: Keys) -> None:
    written = await created(client, "/v1/incidents", {"title": "Ready?"}, keys.editor)
    await get(client, f"/v1/incidents/{written['id']}", written["position"])
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json()["database"] is True
    assert response.json()["head_position"] >= written["position"]
    assert response.json()["lag"] == 0
