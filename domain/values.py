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
