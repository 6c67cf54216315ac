"""The exports' rules that need no database: the verdict scale, who speaks as a Person, the
ClaimReview block a page embeds (read back by extruct, as search engines read it), the CSV guard
against formulas, and content negotiation."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import extruct  # type: ignore[import-untyped]
import msgspec
import pytest

from claimledger.api.claimreview import (
    Publisher,
    claim_review,
    json_ld_script,
    publisher_of,
    rating,
)
from claimledger.api.negotiation import (
    CSV,
    GEOJSON,
    JSON,
    NotAcceptable,
    TimelineFormat,
    choose,
)
from claimledger.api.timeline_csv import COLUMNS, csv_lines, row_of, safe
from claimledger.domain.values import Verdict
from claimledger.runtime.settings import Settings

VERDICT_AT = datetime(2024, 3, 13, 9, 0, tzinfo=UTC)
HOSTILE = "</script><script>alert(1)</script><!-- & -->"


def claim(text: str = "Tyotkino is under the full control of the units") -> dict[str, Any]:
    return {
        "text": text,
        "verdict": "false",
        "verdict_rationale": None,
        "verdict_at": VERDICT_AT,
    }


def assertion(kind: str, url: str | None) -> dict[str, Any]:
    return {
        "published_at": datetime(2024, 3, 12, 9, 30, tzinfo=UTC),
        "url": url,
        "source_kind": kind,
        "source_name": "Andriy Yusov",
        "source_url": None,
    }


@pytest.mark.parametrize(
    ("verdict", "value", "name"),
    [
        (Verdict.TRUE, 5, "True"),
        (Verdict.MOSTLY_TRUE, 4, "Mostly true"),
        (Verdict.MIXED, 3, "Mixed"),
        (Verdict.MOSTLY_FALSE, 2, "Mostly false"),
        (Verdict.FALSE, 1, "False"),
        (Verdict.UNPROVEN, None, "Unproven"),
    ],
)
def test_every_verdict_has_its_place_on_the_scale(
    verdict: Verdict, value: int | None, name: str
) -> None:
    shown = msgspec.to_builtins(rating(verdict))
    assert shown["alternateName"] == name
    assert shown.get("ratingValue") == value
    if value is None:
        assert "bestRating" not in shown
    else:
        assert (shown["worstRating"], shown["bestRating"]) == (1, 5)


def test_a_person_speaks_as_a_person_and_the_first_appearance_is_the_first_assertion() -> None:
    review = msgspec.to_builtins(
        claim_review(
            claim(),
            [assertion("individual", "https://t.me/yusov/1"), assertion("media", None)],
            Publisher("Desk", "https://desk.example.org"),
            "https://desk.example.org/claims/1",
        )
    )
    item = review["itemReviewed"]
    assert item["author"] == {"@type": "Person", "name": "Andriy Yusov"}
    assert item["firstAppearance"]["url"] == "https://t.me/yusov/1"
    assert [a["url"] for a in item["appearance"]] == ["https://t.me/yusov/1"]
    assert review["datePublished"] == "2024-03-13T09:00:00Z"
    assert "reviewBody" not in review


def test_the_embedded_block_cannot_be_closed_by_what_a_claim_says() -> None:
    review = claim_review(
        claim(HOSTILE), [], Publisher("Desk", "https://desk.example.org"), "https://d/claims/1"
    )
    block = json_ld_script(review)
    assert block.count("</script>") == 1
    assert "<!--" not in block
    page = f"<html><head>{block}</head><body><p>after</p></body></html>"
    (found,) = extruct.extract(page, syntaxes=["json-ld"], uniform=True)["json-ld"]
    assert found["claimReviewed"] == HOSTILE
    assert found["@type"] == "ClaimReview"
    assert found == msgspec.to_builtins(review)


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_a_spreadsheet_would_run_is_text(start: str) -> None:
    assert safe(f"{start}SUM(A1:A9)") == f"'{start}SUM(A1:A9)"
    assert safe(f"a{start}b") == f"a{start}b"


def test_numbers_stay_numbers_and_text_is_guarded_in_a_row() -> None:
    statement = {
        "id": "s",
        "incident_id": "i",
        "claim_id": "c",
        "claim_text": "+7 tanks",
        "source_name": "@channel",
        "quote": "-minus",
        "evidence": [{"kind": "photo", "sha256": "ab" * 32}, {"kind": "video", "sha256": None}],
        "recorded_at": datetime(2024, 3, 12, 4, 12, tzinfo=UTC),
        "published_at": datetime(2024, 3, 12, 4, 0, tzinfo=UTC),
        "credibility": None,
    }
    incident = {"place": {"name": "Somewhere", "lat": -33.5, "lon": -70.6, "precision": "region"}}
    text = csv_lines([list(COLUMNS), row_of(statement, incident, "claimed")]).decode()
    (row,) = csv.DictReader(io.StringIO(text, newline=""))
    assert (row["latitude"], row["longitude"], row["geo_precision"]) == ("-33.5", "-70.6", "3")
    assert (row["claim_text"], row["source"], row["quote"]) == ("'+7 tanks", "'@channel", "'-minus")
    assert row["evidence_sha256"] == "ab" * 32
    assert row["evidence_kinds"] == "photo;video"
    assert row["timestamp"] == "1710216720"
    assert row["published_at"] == "2024-03-12T04:00:00Z"
    assert row["status"] == "claimed"


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, JSON),
        ("*/*", JSON),
        ("text/csv", CSV),
        ("text/*", CSV),
        ("application/json;q=0.5, text/csv", CSV),
        ("text/csv;q=0.2, application/*;q=0.9", JSON),
        ("text/csv;q=0, */*", JSON),
        ("text/html,application/xhtml+xml,*/*;q=0.8", JSON),
        ("TEXT/CSV", CSV),
        (" , ,", JSON),
        ("text/csv;q=nan, application/json;q=0.1", JSON),
        ("text/csv;q=7, application/json;q=1", JSON),
    ],
)
def test_accept_chooses_by_the_clients_preference(accept: str | None, chosen: object) -> None:
    assert answer(accept) == chosen


def test_nothing_acceptable_is_refused() -> None:
    with pytest.raises(NotAcceptable):
        answer("application/geo+json")
    with pytest.raises(NotAcceptable):
        answer("text/csv;q=0, application/json;q=0")
    for garbage in (";;;", "/", '"', "x" * 5000, "text/csv;q=-1"):
        with pytest.raises(NotAcceptable):
            answer(garbage)


def answer(accept: str | None, format_name: TimelineFormat | None = None) -> object:
    return choose(accept, (JSON, CSV), format_name)


def test_format_wins_over_accept() -> None:
    assert answer("text/csv", TimelineFormat.JSON) == JSON
    assert choose("application/geo+json", (JSON, GEOJSON)) == GEOJSON


def test_the_public_url_and_the_publisher_are_settings() -> None:
    settings = Settings.from_env(
        {
            "CLAIMLEDGER_PUBLIC_URL": "https://ledger.example.org/",
            "CLAIMLEDGER_PUBLISHER_NAME": "The Desk",
        }
    )
    assert settings.public_url == "https://ledger.example.org"
    assert publisher_of(settings, settings.public_url) == Publisher(
        "The Desk", "https://ledger.example.org"
    )
    assert Settings.from_env({}).public_url is None
    assert Settings.from_env({}).publisher_name == "claimledger"
    with pytest.raises(ValueError, match="not an http"):
        Settings.from_env({"CLAIMLEDGER_PUBLIC_URL": "ledger.example.org"})
