"""Value objects and vocabularies shared by the aggregates, the status rule and the adapters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from claimledger.domain.errors import InvalidInput

# The instants a client may give (when a source spoke, when an incident happened): wide enough for
# any report, narrow enough that every later step can render them in any offset.
EARLIEST_INSTANT = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_INSTANT = datetime(2200, 1, 1, tzinfo=UTC)


def check_instant(value: datetime, *, field: str) -> None:
    """Refuse an instant outside [1900-01-01, 2200-01-01)."""
    if not EARLIEST_INSTANT <= value < LATEST_INSTANT:
        raise InvalidInput(
            f"{field} {value.isoformat()} is outside the instants the ledger keeps"
            " (from 1900-01-01 up to 2200-01-01)",
            field=field,
        )


class SourceKind(StrEnum):
    ARMED_GROUP = "armed_group"
    GOVERNMENT = "government"
    MILITARY = "military"
    SECURITY_SERVICE = "security_service"
    MEDIA = "media"
    OSINT = "osint"
    NGO = "ngo"
    INDIVIDUAL = "individual"
    OTHER = "other"


class Reliability(StrEnum):
    """Admiralty code source reliability: A (reliable) to E (unreliable), F (cannot be judged)."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"
    F = "F"


# The Admiralty code's words for each grade (NATO AJP-2.1), shown beside the code in every answer.
RELIABILITY_LABELS: dict[Reliability, str] = {
    Reliability.A: "completely reliable",
    Reliability.B: "usually reliable",
    Reliability.C: "fairly reliable",
    Reliability.D: "not usually reliable",
    Reliability.E: "unreliable",
    Reliability.F: "cannot be judged",
}
CREDIBILITY_LABELS: dict[int, str] = {
    1: "confirmed by other sources",
    2: "probably true",
    3: "possibly true",
    4: "doubtful",
    5: "improbable",
    6: "cannot be judged",
}


def reliability_label(grade: Reliability | str) -> str:
    """The words of a reliability grade, A to F: ``F`` is "cannot be judged"."""
    return RELIABILITY_LABELS[Reliability(grade)]


def credibility_label(grade: int | None) -> str | None:
    """The words of a credibility grade, 1 to 6 (None for none given, or one outside the scale
    that an older version may have stored)."""
    return None if grade is None else CREDIBILITY_LABELS.get(grade)


class Stance(StrEnum):
    ASSERTS = "asserts"
    DENIES = "denies"
    CONFIRMS = "confirms"
    REFUTES = "refutes"
    RETRACTS = "retracts"


class Status(StrEnum):
    UNVERIFIED = "unverified"
    CLAIMED = "claimed"
    DENIED = "denied"
    DISPUTED = "disputed"
    CONFIRMED = "confirmed"
    REFUTED = "refuted"
    CONTESTED = "contested"
    RETRACTED = "retracted"


class Verdict(StrEnum):
    TRUE = "true"
    MOSTLY_TRUE = "mostly_true"
    MIXED = "mixed"
    MOSTLY_FALSE = "mostly_false"
    FALSE = "false"
    UNPROVEN = "unproven"


class TimePrecision(StrEnum):
    """How precisely the time of an incident is known."""

    EXACT = "exact"
    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


class PlacePrecision(StrEnum):
    """How precisely the place of an incident is known."""

    EXACT = "exact"
    SETTLEMENT = "settlement"
    DISTRICT = "district"
    REGION = "region"
    COUNTRY = "country"
    APPROXIMATE = "approximate"


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    admin1: str | None = None
    admin2: str | None = None
    country: str | None = None
    lat: float | None = None
    lon: float | None = None
    precision: PlacePrecision | None = None


@dataclass(frozen=True, slots=True)
class Evidence:
    kind: str
    url: str | None = None
    description: str | None = None
    sha256: str | None = None
    lat: float | None = None
    lon: float | None = None
