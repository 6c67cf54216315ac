"""One settings object, read from the environment once; tests build their own."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

import platformdirs

from claimledger.transparency.notes import is_key_name
from claimledger.webhooks.delivery import DeliveryOptions
from claimledger.webhooks.dispatcher import DispatchOptions

DEFAULT_RETRY_SCHEDULE = (0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)


def default_data_dir() -> Path:
    return platformdirs.user_data_path("claimledger") / "pgdata"


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "y", "on")


def _schedule(value: str | None) -> tuple[float, ...]:
    if not value:
        return DEFAULT_RETRY_SCHEDULE
    return tuple(float(part) for part in value.split(",") if part.strip())


def _base_url(value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    url = value.strip().rstrip("/")
    if not url.startswith(("http://", "https://")) or any(c.isspace() for c in url):
        msg = f"{value!r} is not an http(s) URL"
        raise ValueError(msg)
    return url


def _log_origin(value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    origin = value.strip()
    if not is_key_name(origin):
        msg = f"CLAIMLEDGER_LOG_ORIGIN {value!r} holds a space or a '+' (like example.org/log)"
        raise ValueError(msg)
    return origin


def _tiles_url(value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    url = value.strip()
    if not url.startswith(("http://", "https://", "/")) or any(c.isspace() for c in url):
        msg = f"{value!r} is neither an http(s) URL nor a path"
        raise ValueError(msg)
    if not all(f"{{{name}}}" in url for name in "zxy"):
        msg = f"{value!r} does not name {{z}}, {{x}} and {{y}}"
        raise ValueError(msg)
    return url


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything configurable. ``database_url`` is None until the embedded server is started."""

    database_url: str | None = None
    read_database_url: str | None = None
    data_dir: Path = field(default_factory=default_data_dir)
    public_read: bool = True
    webhook_allow_private: bool = False
    webhook_retry_schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE
    # Roles run by `serve`: any of "api", "projector", "dispatcher".
    roles: frozenset[str] = frozenset({"api", "projector", "dispatcher"})
    # Whether `serve` runs the projector and the dispatcher in processes of their own (else
    # beside the API, on its event loop).
    worker_processes: bool = True
    max_body_bytes: int = 1024 * 1024
    # Connections for the event store's writers; the thread limiter is sized to match.
    write_pool_size: int = 8
    read_pool_size: int = 10
    search_pool_size: int = 4
    clock_skew_seconds: float = 300.0
    # How long a key lookup is trusted before the database is asked again.
    key_cache_seconds: float = 5.0
    min_position_wait_seconds: float = 5.0
    # Answers as known before (the projector's last catch-up minus this) are final: no write
    # takes longer than this between being stamped and being committed.
    settle_seconds: float = 60.0
    # Events a projector transaction applies at most: big while catching up, and as small as
    # what is new once caught up.
    projector_batch_size: int = 5000
    # Processes a projector starting from position 0 on a long ledger replays it in (as a
    # rebuild does, each holding its share's claims: about 600 MB for half a million
    # statements); 1: it catches up alone, within its memory bound.
    replay_workers: int = 1
    # How often workers look for work when no NOTIFY has woken them.
    poll_seconds: float = 0.5
    # An endpoint failing for longer than this is disabled.
    webhook_disable_after_seconds: float = 5 * 24 * 3600.0
    webhook_workers: int = 4
    webhook_connect_timeout: float = 5.0
    webhook_read_timeout: float = 10.0
    # One attempt at most this long, from connecting to the last byte of the answer.
    webhook_attempt_seconds: float = 15.0
    # After a secret rotation the old secret keeps signing (beside the new one) this long.
    webhook_secret_overlap_seconds: float = 24 * 3600.0
    # A dispatcher holds an endpoint this long, renewed every third of it while it works; one
    # that dies mid-delivery holds it this long at most.
    webhook_lease_seconds: float = 15.0
    # /ready answers 503 when the projector is behind and has not advanced for this long, or a
    # dispatcher has not been able to ask for work for this long.
    stuck_after_seconds: float = 30.0
    # Open /v1/stream connections per process; more are answered 503.
    max_streams: int = 500
    # A stream with nothing to send sends a comment line this often.
    stream_heartbeat_seconds: float = 15.0
    # Where a projector or dispatcher run alone (`serve --role ...`) serves /metrics; None: not.
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    # The public base URL of the server (scheme, host, optional path, no trailing slash) that
    # exported documents link to; None: the base URL each request came in on.
    public_url: str | None = None
    # Who publishes the reviews the ledger exports (ClaimReview's `author`); the URL defaults to
    # the public URL.
    publisher_name: str = "claimledger"
    publisher_url: str | None = None
    # Map tiles under the workspace's maps (a URL with {z}, {x} and {y}); None: no tiles, and no
    # request leaves the server.
    map_tiles_url: str | None = None
    # The log's Ed25519 signing key: a file (PEM PKCS#8, as `openssl genpkey -algorithm ed25519`
    # writes, or a base64 32-byte seed on one line) or a base64 seed. Neither: the embedded
    # server makes one in its data directory; a server on DATABASE_URL signs nothing.
    log_key_file: Path | None = None
    log_key_seed: str | None = field(default=None, repr=False)
    # The log's name in its checkpoints, and its key's name; None: the public URL's host, port
    # and path + "/log", else "localhost/claimledger" (`runtime.log_keys.log_origin_of`).
    log_origin: str | None = None
    # A checkpoint is signed when the tree has grown and this long has passed since the last.
    checkpoint_seconds: float = 10.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data_dir = env.get("CLAIMLEDGER_DATA_DIR")
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            read_database_url=env.get("DATABASE_READ_URL") or None,
            data_dir=Path(data_dir) if data_dir else default_data_dir(),
            public_read=_flag(env.get("CLAIMLEDGER_PUBLIC_READ"), True),
            worker_processes=_flag(env.get("CLAIMLEDGER_WORKER_PROCESSES"), True),
            webhook_allow_private=_flag(env.get("CLAIMLEDGER_WEBHOOK_ALLOW_PRIVATE"), False),
            webhook_retry_schedule=_schedule(env.get("CLAIMLEDGER_WEBHOOK_RETRY_SCHEDULE")),
            webhook_disable_after_seconds=float(
                env.get("CLAIMLEDGER_WEBHOOK_DISABLE_AFTER_SECONDS") or 5 * 24 * 3600
            ),
            webhook_lease_seconds=float(env.get("CLAIMLEDGER_WEBHOOK_LEASE_SECONDS") or 15),
            webhook_attempt_seconds=float(env.get("CLAIMLEDGER_WEBHOOK_ATTEMPT_SECONDS") or 15),
            stuck_after_seconds=float(env.get("CLAIMLEDGER_STUCK_AFTER_SECONDS") or 30),
            max_streams=int(env.get("CLAIMLEDGER_MAX_STREAMS") or 500),
            settle_seconds=float(env.get("CLAIMLEDGER_SETTLE_SECONDS") or 60),
            poll_seconds=float(env.get("CLAIMLEDGER_POLL_SECONDS") or 0.5),
            replay_workers=max(1, int(env.get("CLAIMLEDGER_REPLAY_WORKERS") or 1)),
            stream_heartbeat_seconds=float(env.get("CLAIMLEDGER_STREAM_HEARTBEAT_SECONDS") or 15),
            metrics_port=int(env["CLAIMLEDGER_METRICS_PORT"])
            if env.get("CLAIMLEDGER_METRICS_PORT")
            else None,
            metrics_host=env.get("CLAIMLEDGER_METRICS_HOST") or "127.0.0.1",
            public_url=_base_url(env.get("CLAIMLEDGER_PUBLIC_URL")),
            publisher_name=env.get("CLAIMLEDGER_PUBLISHER_NAME") or "claimledger",
            publisher_url=_base_url(env.get("CLAIMLEDGER_PUBLISHER_URL")),
            map_tiles_url=_tiles_url(env.get("CLAIMLEDGER_MAP_TILES_URL")),
            log_key_file=Path(env["CLAIMLEDGER_LOG_KEY_FILE"])
            if env.get("CLAIMLEDGER_LOG_KEY_FILE")
            else None,
            log_key_seed=env.get("CLAIMLEDGER_LOG_KEY_SEED") or None,
            log_origin=_log_origin(env.get("CLAIMLEDGER_LOG_ORIGIN")),
            checkpoint_seconds=float(env.get("CLAIMLEDGER_CHECKPOINT_SECONDS") or 10),
        )

    def with_database(self, url: str) -> Settings:
        return replace(self, database_url=url)

    @property
    def require_database_url(self) -> str:
        if self.database_url is None:
            msg = "no database: set DATABASE_URL or start the embedded server first"
            raise RuntimeError(msg)
        return self.database_url

    def delivery_options(self) -> DeliveryOptions:
        return DeliveryOptions(
            allow_private=self.webhook_allow_private,
            connect_timeout=self.webhook_connect_timeout,
            read_timeout=self.webhook_read_timeout,
            deadline=self.webhook_attempt_seconds,
        )

    def dispatch_options(self) -> DispatchOptions:
        return DispatchOptions(
            retry_schedule=self.webhook_retry_schedule,
            disable_after=timedelta(seconds=self.webhook_disable_after_seconds),
            delivery=self.delivery_options(),
            workers=self.webhook_workers,
            lease_seconds=self.webhook_lease_seconds,
            poll_seconds=self.poll_seconds,
        )
