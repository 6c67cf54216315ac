"""One delivery attempt: resolve and check the target, sign, POST, and say what happened."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import anyio
import httpx
import msgspec

from claimledger.webhooks.guard import Refused, Unresolved, resolve
from claimledger.webhooks.signing import signature_header

_encoder = msgspec.json.Encoder()
USER_AGENT = "claimledger-webhooks/1"


@dataclass(frozen=True, slots=True)
class Message:
    """What an endpoint receives: a stable id (the same on every retry and replay) and a body."""

    id: str
    type: str
    timestamp: datetime
    data: dict[str, Any]
    position: int | None = None
    seq: int | None = None

    def body(self) -> bytes:
        return _encoder.encode({"type": self.type, "timestamp": self.timestamp, "data": self.data})


def message_id(position: int, seq: int) -> str:
    return f"msg_{position}_{seq}"


@dataclass(frozen=True, slots=True)
class Attempt:
    """The outcome of one attempt, as the deliveries log records it."""

    outcome: str  # delivered, failed or refused
    attempted_at: datetime
    status_code: int | None = None
    latency_ms: float | None = None
    error: str | None = None
    retry_after: float | None = None

    @property
    def gone(self) -> bool:
        return self.status_code == 410


@dataclass(frozen=True, slots=True)
class DeliveryOptions:
    allow_private: bool = False
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    max_response_bytes: int = 64 * 1024
    # One attempt, from resolving the host to the last byte read, whatever the receiver drips.
    deadline: float = 15.0


def new_client(options: DeliveryOptions) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        follow_redirects=False,
        trust_env=False,
        timeout=httpx.Timeout(options.read_timeout, connect=options.connect_timeout),
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
    )


async def attempt(
    client: httpx.AsyncClient,
    options: DeliveryOptions,
    url: str,
    message: Message,
    secrets: list[str],
) -> Attempt:
    """POST the message once, within ``options.deadline``; only a 2xx answer counts."""
    at = datetime.now(UTC)
    begun = time.perf_counter()
    try:
        with anyio.fail_after(options.deadline):
            target = await resolve(url, allow_private=options.allow_private)
    except TimeoutError:
        return Attempt("failed", at, error=f"cannot resolve within {options.deadline:g} s")
    except Unresolved as error:
        return Attempt("failed", at, error=str(error))
    except (Refused, ValueError) as refusal:
        return Attempt("refused", at, error=f"refused: {refusal}")
    body = message.body()
    default_port = 443 if target.scheme == "https" else 80
    host = target.host if target.port == default_port else f"{target.host}:{target.port}"
    headers = {
        "Host": host,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": message.id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature_header(message.id, at, body.decode(), secrets),
    }
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    started = time.perf_counter()
    try:
        with anyio.fail_after(max(0.0, options.deadline - (time.perf_counter() - begun))):
            async with client.stream(
                "POST", target.connect_url, content=body, headers=headers, extensions=extensions
            ) as response:
                await _drain(response, options.max_response_bytes)
    except TimeoutError:
        latency = (time.perf_counter() - started) * 1000
        return Attempt(
            "failed",
            at,
            latency_ms=latency,
            error=f"no complete answer within {options.deadline:g} s",
        )
    except httpx.HTTPError as error:
        latency = (time.perf_counter() - started) * 1000
        return Attempt("failed", at, latency_ms=latency, error=f"{type(error).__name__}: {error}")
    latency = (time.perf_counter() - started) * 1000
    status = response.status_code
    if 200 <= status < 300:
        return Attempt("delivered", at, status, latency)
    return Attempt(
        "failed",
        at,
        status,
        latency,
        error=f"HTTP {status}",
        retry_after=_retry_after(response.headers.get("retry-after"), at),
    )


async def _drain(response: httpx.Response, limit: int) -> None:
    """Read the answer up to ``limit`` bytes; what comes after is not waited for."""
    read = 0
    async for chunk in response.aiter_raw():
        read += len(chunk)
        if read >= limit:
            break


def _retry_after(value: str | None, now: datetime) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())
