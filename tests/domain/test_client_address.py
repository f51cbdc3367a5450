"""The client address behind trusted reverse proxies (sign-in throttling per address)."""

from __future__ import annotations

import pytest

from pforte.domain.outbound import client_address, parse_networks

PROXIES = parse_networks("10.0.0.0/8, 127.0.0.1/32")


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        ("203.0.113.9", None, PROXIES, "203.0.113.9"),  # no proxy in between
        ("203.0.113.9", "198.51.100.1", PROXIES, "203.0.113.9"),  # an untrusted peer's header is ignored
        ("10.0.0.5", "198.51.100.1", PROXIES, "198.51.100.1"),
        ("10.0.0.5", "1.2.3.4, 198.51.100.1", PROXIES, "198.51.100.1"),  # the client's own word is left
        ("10.0.0.5", "198.51.100.1, 10.0.0.7", PROXIES, "198.51.100.1"),  # two proxies
        ("10.0.0.5", "10.0.0.8, 10.0.0.7", PROXIES, "10.0.0.8"),  # all trusted: the left-most
        ("10.0.0.5", "not-an-ip", PROXIES, "10.0.0.5"),
        ("10.0.0.5", "198.51.100.1", (), "10.0.0.5"),  # no trusted proxies configured
        (None, "198.51.100.1", PROXIES, None),
    ],
)
def test_client_address(
    peer: str | None, forwarded: str | None, trusted: tuple, expected: str | None
) -> None:  # type: ignore[type-arg]
    assert client_address(peer, forwarded, trusted) == expected


def test_a_bad_network_is_named() -> None:
    with pytest.raises(ValueError, match="not an IP network: 'nonsense'"):
        parse_networks("10.0.0.0/8, nonsense")
