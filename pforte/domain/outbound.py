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
