"""The pure parts of webhook delivery: the SSRF rule, URL checks, retry timing, Retry-After."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

import pytest

from claimledger.webhooks.delivery import _retry_after
from claimledger.webhooks.guard import check_url, why_not_public
from claimledger.webhooks.retries import next_delay
from claimledger.webhooks.signing import new_secret


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "cloud metadata"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 - an address under test, not a bind
        ("100.64.0.1", "not globally routable"),
        ("::ffff:127.0.0.1", "loopback"),
        ("fd00:ec2::254", "cloud metadata"),
        ("93.184.216.34", None),
        ("2606:4700::1111", None),
        # IPv6 transition addresses are judged by the IPv4 addresses they carry.
        ("2002:0a00:0001::1", "6to4 of private"),
        ("2002:7f00:0001::1", "6to4 of loopback"),
        ("2002:a9fe:a9fe::1", "6to4 of cloud metadata"),
        ("2002:5db8:d822::1", None),
        ("2001:0:5db8:d822:0:f227:f5ff:fffe", "Teredo of private"),  # client 10.0.0.1
        ("2001::1", "Teredo of unspecified"),
        ("2001:0:5db8:d822:0:f227:a2fe:fffe", None),  # server and client public
        ("64:ff9b::10.0.0.1", "NAT64 of private"),
        ("64:ff9b::127.0.0.1", "NAT64 of loopback"),
        ("64:ff9b::169.254.169.254", "NAT64 of cloud metadata"),
        ("64:ff9b::93.184.216.34", None),
        ("64:ff9b:1::93.184.216.34", "local-use NAT64"),
        ("fec0::1", "site-local"),
        ("feff:ffff::1", "site-local"),
        ("192.88.99.1", "6to4 relay anycast"),
    ],
)
def test_only_public_addresses_may_be_called(address: str, reason: str | None) -> None:
    assert why_not_public(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize(
    "url",
    ["ftp://example.org/x", "file:///etc/passwd", "http:///nohost", "https://u:p@example.org/"],
)
def test_urls_must_be_plain_http_or_https(url: str) -> None:
    with pytest.raises(ValueError, match="webhook URL"):
        check_url(url)


def test_the_retry_schedule_with_jitter_and_retry_after() -> None:
    schedule = (0.0, 5.0, 300.0)
    assert next_delay(schedule, 1, None) == pytest.approx(5.0, rel=0.11)
    assert next_delay(schedule, 2, None) == pytest.approx(300.0, rel=0.11)
    assert next_delay(schedule, 3, None) is None
    assert next_delay(schedule, 1, 120.0) == 120.0
    assert next_delay(schedule, 1, 10 * 24 * 3600.0) == 24 * 3600.0


def test_retry_after_in_seconds_or_as_a_date() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert _retry_after("30", now) == 30.0
    assert _retry_after("Thu, 01 Jan 2026 00:02:00 GMT", now) == 120.0
    assert (
        _retry_after((now - timedelta(minutes=1)).strftime("%a, %d %b %Y %H:%M:%S GMT"), now) == 0
    )
    assert _retry_after("soon", now) is None
    assert _retry_after(None, now) is None


def test_secrets_are_whsec_and_32_random_bytes() -> None:
    import base64

    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert new_secret() != secret
