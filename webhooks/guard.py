"""The SSRF guard: webhooks go only to public addresses, checked when each delivery is made.

The name is resolved at delivery time, every address it resolves to must be public, and the
request is then sent to the address that was checked (not resolved again), so a name cannot
point somewhere else between the check and the connection.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import anyio

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Named for the log; anything not globally routable is refused, these are just the usual suspects.
_METADATA = {
    ipaddress.ip_address("169.254.169.254"): "cloud metadata",
    ipaddress.ip_address("fd00:ec2::254"): "cloud metadata",
    ipaddress.ip_address("100.100.100.200"): "cloud metadata",
}


class Refused(Exception):
    """A delivery the guard will not make; the message says why."""


class Unresolved(Exception):
    """The endpoint's host did not resolve (this time): a failed attempt, not a refusal."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where to send: the URL's parts and the address to connect to."""

    scheme: str
    host: str
    port: int
    path: str
    address: str

    @property
    def connect_url(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.scheme}://{host}:{self.port}{self.path}"


def check_url(url: str) -> None:
    """Only absolute http and https URLs with a host; raises ValueError naming the problem."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError("a webhook URL must be http or https")
    if not parts.hostname:
        raise ValueError("a webhook URL needs a host")
    if parts.username or parts.password:
        raise ValueError("a webhook URL cannot carry credentials")
    _ = parts.port  # a port that is not a number from 0 to 65535 raises ValueError here


# IPv6 prefixes that carry an IPv4 address inside; they are judged by the address they carry.
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"),)
# Refused whatever they carry: the 6to4 relay anycast block, and IPv6 site-local (deprecated, but
# routed inside some networks as if it were private).
_REFUSED = {
    ipaddress.ip_network("192.88.99.0/24"): "6to4 relay anycast",
    ipaddress.ip_network("fec0::/10"): "site-local",
    ipaddress.ip_network("64:ff9b:1::/48"): "local-use NAT64",
}


def _embedded(address: ipaddress.IPv6Address) -> list[tuple[str, ipaddress.IPv4Address]]:
    """The IPv4 addresses an IPv6 transition address carries, with the mechanism's name."""
    if address.ipv4_mapped is not None:
        return [("IPv4-mapped", address.ipv4_mapped)]
    if address.sixtofour is not None:
        return [("6to4", address.sixtofour)]
    if address.teredo is not None:
        server, client = address.teredo
        return [("Teredo", server), ("Teredo", client)]
    if any(address in network for network in _NAT64):
        return [("NAT64", ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF))]
    return []


def why_not_public(address: IPAddress) -> str | None:
    """Why an address may not be called, or None when it is public."""
    for network, label in _REFUSED.items():
        if address.version == network.version and address in network:
            return label
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded(address)
        if embedded:
            for mechanism, inner in embedded:
                reason = why_not_public(inner)
                if reason is not None:
                    return reason if mechanism == "IPv4-mapped" else f"{mechanism} of {reason}"
            return None
    if address in _METADATA:
        return _METADATA[address]
    for test, label in (
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (address.is_private, "private"),
        (address.is_reserved, "reserved"),
    ):
        if test:
            return label
    if not address.is_global:
        return "not globally routable"
    return None


async def resolve(url: str, *, allow_private: bool) -> Target:
    """Resolve the URL's host and check every address; the target to connect to."""
    check_url(url)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise Unresolved(f"cannot resolve {host}: {error}") from error
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise Refused(f"{host} resolves to no address")
    if not allow_private:
        for text in addresses:
            reason = why_not_public(ipaddress.ip_address(text.split("%")[0]))
            if reason is not None:
                raise Refused(f"{host} resolves to {text}, which is {reason}")
    return Target(parts.scheme, host, port, path, addresses[0])
