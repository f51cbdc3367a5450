"""Checking an address against the outbound policy (``domain.outbound``) before calling it:
every address the host resolves to must be allowed."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from pforte.domain.outbound import OutboundPolicy, OutboundRefused

__all__ = ["OutboundPolicy", "OutboundRefused", "check"]


async def check(policy: OutboundPolicy, url: str) -> None:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme not in {"https", "http"} or not host:
        raise OutboundRefused("only http(s) URLs with a host are called")
    if host in policy.hosts:
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise OutboundRefused(f"cannot resolve {host}") from exc
    for *_, address in infos:
        ip = ipaddress.ip_address(address[0])
        if not policy.allows(ip):
            raise OutboundRefused(f"{host} resolves to {ip}, which PFORTE_OUTBOUND_ALLOW does not list")
