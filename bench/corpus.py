"""A deterministic synthetic ledger: sources, incidents, claims, statements and withdrawals.

Everything is drawn from one seeded ``random.Random``, so a scale and a seed always give the same
files, byte for byte. The corpus is written as three NDJSON files in the import format
(``claimledger import``): the entities (sources, incidents, claims), the statements, and the
withdrawals (of statements recorded with an idempotency key). ``meta.json`` keeps the ids the
benchmark needs afterwards (which claim belongs to which incident, each source's kind and grade).

The shape, per claim: a *scenario* decides the stance mix (a party asserts and another denies; an
independent outlet confirms or refutes; a source retracts ...), so every derived status occurs.
Statements are published over the days after the incident; about 7% are *backdated*: the ledger
learns of them weeks or months after they were published, so they are recorded after statements
published later than they were.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec

VERSION = 1
DEFAULT_SEED = 20240312

# Publication times stay in this window: fixed, so the corpus does not depend on today's date,
# and in the past, so no statement is refused as published in the future.
EPOCH = datetime(2022, 2, 24, tzinfo=UTC)
LATEST_INCIDENT = datetime(2025, 9, 30, tzinfo=UTC)
LATEST_PUBLICATION = datetime(2025, 10, 31, tzinfo=UTC)

PARTY_KINDS = ("armed_group", "government", "military", "security_service")
INDEPENDENT_KINDS = ("media", "osint", "ngo", "individual", "other")
KIND_WEIGHTS = {
    "armed_group": 8,
    "government": 8,
    "military": 10,
    "security_service": 5,
    "media": 30,
    "osint": 15,
    "ngo": 8,
    "individual": 12,
    "other": 4,
}
GRADES = ("A", "B", "C", "D", "E", "F")
GRADE_WEIGHTS = (5, 20, 30, 20, 10, 15)

# (country, min lat, max lat, min lon, max lon, weight)
COUNTRIES = (
    ("UA", 46.0, 51.5, 23.0, 39.5, 40),
    ("RU", 50.0, 54.0, 33.0, 40.0, 12),
    ("SY", 32.5, 37.0, 36.0, 41.5, 10),
    ("SD", 11.0, 20.0, 23.0, 36.0, 9),
    ("ML", 12.0, 20.0, -11.0, 3.0, 6),
    ("BF", 10.0, 14.5, -5.0, 2.0, 5),
    ("MM", 16.0, 26.0, 93.0, 100.0, 7),
    ("YE", 13.0, 17.5, 43.0, 51.0, 6),
    ("ET", 6.0, 14.0, 35.0, 43.0, 5),
)

SYLLABLES = ("ko", "va", "ri", "lan", "dar", "mi", "tyot", "ka", "no", "sel", "bor", "ha", "zi")
EVENTS = (
    "Drone strike on {p}",
    "Shelling of {p}",
    "Raid into {p}",
    "Explosion at a depot near {p}",
    "Clashes on the outskirts of {p}",
    "Airstrike on the market in {p}",
    "Convoy ambushed near {p}",
    "Power station hit in {p}",
)
CLAIMS = (
    "{n} civilians were killed in {p}",
    "An armoured vehicle was destroyed near {p}",
    "Government forces took control of {p}",
    "The strike hit a hospital in {p}",
    "A fuel depot in {p} was set on fire",
    "{n} fighters were captured near {p}",
    "The bridge at {p} was destroyed",
    "The attack on {p} was launched from across the border",
)
TAGS = ("shelling", "drone", "raid", "airstrike", "casualties", "infrastructure", "border", "ied")
QUOTES = {
    "asserts": (
        "Our units repelled the attack and inflicted heavy losses on the enemy.",
        "Local residents told our correspondent they heard several explosions overnight.",
    ),
    "denies": (
        "These reports are fabricated; no such event took place.",
        "The ministry has no information about any losses in the area.",
    ),
    "confirms": (
        "Footage geolocated to the village centre shows the aftermath of the strike.",
        "We have verified the video: shadows and landmarks match the reported time and place.",
    ),
    "refutes": (
        "Satellite imagery from the following morning shows no damage at the site.",
        "The video circulating was filmed in another region two years earlier.",
    ),
    "retracts": ("We withdraw our earlier report pending verification.",),
}
LANGUAGES = ("uk", "ru", "en", "ar", "fr", "my")
EVIDENCE_KINDS = ("video", "photo", "geolocation", "satellite")
CHANNELS = ("telegram", "x", "website", "tv", "facebook")

# Each scenario: the palette of stances a claim's statements are drawn from, and its weight.
# "party" stances come from party sources (armed groups, governments ...), the others from
# independent ones, so the status rule sees the independent confirmations and refutations.
SCENARIOS: tuple[tuple[tuple[tuple[str, int], ...], int], ...] = (
    ((("asserts", 55), ("denies", 45)), 30),  # disputed
    ((("asserts", 50), ("confirms", 40), ("denies", 10)), 20),  # confirmed
    ((("asserts", 50), ("refutes", 40), ("denies", 10)), 14),  # refuted
    ((("asserts", 30), ("confirms", 35), ("refutes", 35)), 10),  # contested
    ((("asserts", 100),), 14),  # claimed
    ((("denies", 100),), 5),  # denied
    ((("asserts", 85), ("retracts", 15)), 7),  # retracted, sometimes
)
BACKDATED_SHARE = 0.07
WITHDRAWN_SHARE = 0.01
EVIDENCE_SHARE = 0.2
QUOTE_SHARE = 0.6


@dataclass(frozen=True, slots=True)
class CorpusScale:
    name: str
    statements: int
    incidents: int
    sources: int


SCALES = {
    "quick": CorpusScale("quick", statements=50_000, incidents=1_000, sources=300),
    "medium": CorpusScale("medium", statements=250_000, incidents=5_000, sources=800),
    "full": CorpusScale("full", statements=1_000_000, incidents=20_000, sources=2_000),
}


class SourceMeta(msgspec.Struct, array_like=True):
    id: UUID
    kind: str
    grade: str


class ClaimMeta(msgspec.Struct, array_like=True):
    id: UUID
    incident_id: UUID


class Meta(msgspec.Struct):
    """What the benchmark needs to know about a corpus after it is written."""

    scale: str
    seed: int
    version: int
    sources: list[SourceMeta]
    incidents: list[UUID]
    claims: list[ClaimMeta]
    statements: int
    withdrawals: int
    backdated: int
    by_stance: dict[str, int]


@dataclass(frozen=True, slots=True)
class Corpus:
    directory: Path
    meta: Meta

    @property
    def entities(self) -> Path:
        return self.directory / "entities.ndjson"

    @property
    def statements(self) -> Path:
        return self.directory / "statements.ndjson"

    @property
    def withdrawals(self) -> Path:
        return self.directory / "withdrawals.ndjson"


def rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def random_uuid(rng: random.Random) -> UUID:
    return UUID(int=rng.getrandbits(128), version=4)


def load_or_generate(scale: CorpusScale, seed: int, root: Path) -> Corpus:
    """The corpus for ``scale`` and ``seed`` under ``root``, generated once and then reused."""
    directory = root / f"{scale.name}-s{seed}-v{VERSION}"
    done = directory / "complete"
    if done.exists():
        meta = msgspec.json.decode((directory / "meta.json").read_bytes(), type=Meta)
        return Corpus(directory, meta)
    directory.mkdir(parents=True, exist_ok=True)
    corpus = Corpus(directory, generate(scale, seed, directory))
    done.write_text("ok\n")
    return corpus


class _Generator:
    def __init__(self, scale: CorpusScale, seed: int) -> None:
        self.scale = scale
        self.rng = random.Random(seed)
        self.seed = seed
        self.encode = msgspec.json.Encoder().encode
        self.sources: list[SourceMeta] = []
        self.party: list[SourceMeta] = []
        self.independent: list[SourceMeta] = []

    def name(self) -> str:
        rng = self.rng
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
        return word.capitalize() + rng.choice(("", "ivka", "ove", "ino", "abad", "a"))

    def source_lines(self) -> Iterator[bytes]:
        rng = self.rng
        kinds = list(KIND_WEIGHTS)
        weights = list(KIND_WEIGHTS.values())
        for index in range(self.scale.sources):
            kind = rng.choices(kinds, weights)[0]
            source = SourceMeta(random_uuid(rng), kind, rng.choices(GRADES, GRADE_WEIGHTS)[0])
            self.sources.append(source)
            (self.party if kind in PARTY_KINDS else self.independent).append(source)
            line: dict[str, Any] = {
                "type": "source",
                "id": source.id,
                "name": f"{self.name()} {kind.replace('_', ' ')} {index}",
                "kind": kind,
            }
            if rng.random() < 0.5:
                line["affiliation"] = rng.choice(("UA", "RU", "SY", "SD", "independent"))
            if rng.random() < 0.6:
                line["channels"] = rng.sample(CHANNELS, rng.randint(1, 3))
            yield self.encode(line)

    def incident_line(self, incident_id: UUID, occurred: datetime) -> tuple[bytes, tuple[Any, ...]]:
        rng = self.rng
        country, lat0, lat1, lon0, lon1, _ = rng.choices(COUNTRIES, [c[5] for c in COUNTRIES])[0]
        place = self.name()
        line = {
            "type": "incident",
            "id": incident_id,
            "title": rng.choice(EVENTS).format(p=place),
            "place": {
                "name": place,
                "country": country,
                "lat": round(rng.uniform(lat0, lat1), 4),
                "lon": round(rng.uniform(lon0, lon1), 4),
                "precision": "settlement",
            },
            "occurred_from": rfc3339(occurred),
            "tags": sorted(rng.sample(TAGS, rng.randint(1, 3))),
        }
        return self.encode(line), (place, line["place"])

    def statement(
        self,
        claim: ClaimMeta,
        stance: str,
        published: datetime,
        place: dict[str, Any],
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        rng = self.rng
        pool = self.party if stance in ("asserts", "denies") else self.independent
        if stance == "retracts":
            pool = self.party if rng.random() < 0.5 else self.independent
        source = rng.choice(pool)
        body: dict[str, Any] = {
            "type": "statement",
            "claim_id": claim.id,
            "source_id": source.id,
            "stance": stance,
            "published_at": rfc3339(published),
        }
        if rng.random() < QUOTE_SHARE:
            body["quote"] = rng.choice(QUOTES[stance])
            body["language"] = rng.choice(LANGUAGES)
        if rng.random() < 0.3:
            channel = rng.choice(CHANNELS)
            body["channel"] = channel
            body["url"] = f"https://example.org/{channel}/{rng.getrandbits(40)}"
        if rng.random() < EVIDENCE_SHARE:
            body["evidence"] = [
                {
                    "kind": rng.choice(EVIDENCE_KINDS),
                    "lat": round(place["lat"] + rng.uniform(-0.02, 0.02), 4),
                    "lon": round(place["lon"] + rng.uniform(-0.02, 0.02), 4),
                }
            ]
        if rng.random() < 0.4:
            body["credibility"] = rng.randint(1, 6)
        if idempotency_key is not None:
            body["idempotency_key"] = idempotency_key
        return body


def _allocate(rng: random.Random, total: int, slots: int) -> list[int]:
    """``total`` split over ``slots`` with a heavy tail: most get a few, some get very many."""
    weights = [rng.lognormvariate(0.0, 0.9) for _ in range(slots)]
    scale = total / sum(weights)
    counts = [math.floor(w * scale) for w in weights]
    # The floors lose less than one per slot: hand the rest out one each, at random.
    for index in rng.sample(range(slots), total - sum(counts)):
        counts[index] += 1
    return counts


def generate(scale: CorpusScale, seed: int, directory: Path) -> Meta:
    gen = _Generator(scale, seed)
    rng = gen.rng
    entities = directory / "entities.ndjson"
    with entities.open("wb") as out:
        for line in gen.source_lines():
            out.write(line + b"\n")

        incidents: list[UUID] = []
        places: list[dict[str, Any]] = []
        occurred: list[datetime] = []
        span = (LATEST_INCIDENT - EPOCH).total_seconds()
        incident_lines = []
        for _ in range(scale.incidents):
            incident_id = random_uuid(rng)
            moment = EPOCH + timedelta(seconds=int(rng.uniform(0, span)))
            line, (_, place) = gen.incident_line(incident_id, moment)
            incidents.append(incident_id)
            places.append(place)
            occurred.append(moment)
            incident_lines.append(line)
        for line in incident_lines:
            out.write(line + b"\n")

        claims: list[ClaimMeta] = []
        claim_incident_index: list[int] = []
        for index, incident_id in enumerate(incidents):
            for _ in range(rng.randint(3, 8)):
                claim = ClaimMeta(random_uuid(rng), incident_id)
                claims.append(claim)
                claim_incident_index.append(index)
                text = rng.choice(CLAIMS).format(n=rng.randint(2, 40), p=places[index]["name"])
                out.write(
                    gen.encode(
                        {"type": "claim", "id": claim.id, "incident_id": incident_id, "text": text}
                    )
                    + b"\n"
                )

    counts = _allocate(rng, scale.statements, len(claims))
    scenario_weights = [weight for _, weight in SCENARIOS]
    pending: list[tuple[float, int, bytes]] = []
    withdrawals: list[bytes] = []
    by_stance: dict[str, int] = {}
    backdated = 0
    latest = LATEST_PUBLICATION.timestamp()
    sequence = 0
    for claim, incident_index, count in zip(claims, claim_incident_index, counts, strict=True):
        palette = rng.choices(SCENARIOS, scenario_weights)[0][0]
        stances = [stance for stance, _ in palette]
        weights = [weight for _, weight in palette]
        start = occurred[incident_index].timestamp()
        for _ in range(count):
            published = min(start + rng.expovariate(1 / (1.5 * 86400)), latest - 3600)
            # When the ledger learns of it: at once, or, when backdated, much later.
            learned = published
            if rng.random() < BACKDATED_SHARE:
                learned = published + rng.uniform(7, 180) * 86400
                backdated += 1
            stance = rng.choices(stances, weights)[0]
            by_stance[stance] = by_stance.get(stance, 0) + 1
            key = None
            if rng.random() < WITHDRAWN_SHARE:
                key = f"bench-{seed}-{sequence}"
                withdrawals.append(
                    gen.encode(
                        {
                            "type": "withdrawal",
                            "idempotency_key": key,
                            "reason": "recorded in error: a duplicate of another report",
                        }
                    )
                )
            body = gen.statement(
                claim,
                stance,
                datetime.fromtimestamp(published, UTC),
                places[incident_index],
                idempotency_key=key,
            )
            pending.append((learned, sequence, gen.encode(body)))
            sequence += 1
    # The ledger learns of statements in the order the world published them, backdated ones late.
    pending.sort()
    with (directory / "statements.ndjson").open("wb") as out:
        out.writelines(line + b"\n" for _, _, line in pending)
    with (directory / "withdrawals.ndjson").open("wb") as out:
        out.writelines(line + b"\n" for line in withdrawals)
    meta = Meta(
        scale=scale.name,
        seed=seed,
        version=VERSION,
        sources=gen.sources,
        incidents=incidents,
        claims=claims,
        statements=len(pending),
        withdrawals=len(withdrawals),
        backdated=backdated,
        by_stance=by_stance,
    )
    (directory / "meta.json").write_bytes(msgspec.json.encode(meta))
    return meta


class ExtraStatements:
    """More statements like the corpus's, on its claims, from a stream of their own.

    The benchmark's in-process baselines and HTTP writes use these, so that the baseline saves
    the same aggregate with the same kind of content as the measured path.
    """

    def __init__(self, meta: Meta, seed: int) -> None:
        self.gen = _Generator(SCALES.get(meta.scale, SCALES["quick"]), seed)
        self.gen.sources = meta.sources
        self.gen.party = [s for s in meta.sources if s.kind in PARTY_KINDS]
        self.gen.independent = [s for s in meta.sources if s.kind not in PARTY_KINDS]
        self.claims = meta.claims
        self.rng = self.gen.rng
        self.scenario = [stance for stance, _ in SCENARIOS[1][0]]

    def next(self, published: datetime) -> dict[str, Any]:
        rng = self.rng
        claim = rng.choice(self.claims)
        place = {"lat": rng.uniform(46, 51), "lon": rng.uniform(23, 39)}
        stance = rng.choice(self.scenario)
        return self.gen.statement(claim, stance, published, place)
