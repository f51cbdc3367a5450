"""The outbound policy: the server calls addresses it is given (back-channel logout URIs), but
never one the operator has not allowed (SSRF, RFC 9700 §4.16 and OWASP).

An address that resolves to anything but public unicast — loopback, private (RFC 1918, fc00::/7),
link-local (cloud metadata at 169.254.169.254), shared, multicast, reserved, unspecified — is
refused unless ``PFORTE_OUTBOUND_ALLOW`` lists it: a comma-separated list of IP networks
(``10.0.0.0/8``, ``127.0.0.1/32``) and host names (``logout.internal``). Every address the host
resolves to must pass, so a name with one public and one private address is refused.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_HOST = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?")


class OutboundRefused(Exception):
    """The address is not one the server may call; the message names why, never a secret."""


@dataclass(frozen=True, slots=True)
class OutboundPolicy:
    networks: tuple[IPNetwork, ...] = ()
    hosts: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, value: str) -> OutboundPolicy:
        """``PFORTE_OUTBOUND_ALLOW``; ValueError naming a bad entry."""
        networks: list[IPNetwork] = []
        hosts: set[str] = set()
        for raw in value.split(","):
            entry = raw.strip()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                if not _HOST.fullmatch(entry.lower()):
                    raise ValueError(f"not an IP network or host name: {entry!r}") from None
                hosts.add(entry.lower().rstrip("."))
        return cls(tuple(networks), frozenset(hosts))

    def allows(self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        if any(ip in network for network in self.networks):
            return True
        return ip.is_global and not ip.is_multicast


def parse_networks(value: str) -> tuple[IPNetwork, ...]:
    """A comma-separated list of IP networks (``PFORTE_TRUSTED_PROXIES``); ValueError names a bad one."""
    networks = []
    for raw in value.split(","):
        entry = raw.strip()
        if entry:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise ValueError(f"not an IP network: {entry!r}") from None
    return tuple(networks)


def client_address(peer: str | None, forwarded_for: str | None, trusted: tuple[IPNetwork, ...]) -> str | None:
    """The address a request came from: the peer, unless the peer is a trusted proxy — then the
    right-most ``X-Forwarded-For`` entry that is not a trusted proxy itself (entries left of it
    are the client's word, and anyone can write them)."""
    if peer is None or not trusted or not forwarded_for or not _within(peer, trusted):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _within(hop, trusted):
            return hop if _is_ip(hop) else peer
    return hops[0] if hops and _is_ip(hops[0]) else peer


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _within(value: str, networks: tuple[IPNetwork, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return False
    return any(ip in network for network in networks)
