"""Redirect URI rules (RFC 9700 §2.1, §4.1.3; RFC 6749 §3.1.2).

Registration: absolute URIs without a fragment, of one of three kinds (RFC 8252 §7 for native
apps): ``https:``; ``http:`` on a loopback host only; or a private-use scheme in reverse-domain
form (§7.1, ``com.example.app:/oauth2redirect``). Nothing else — ``javascript:``, ``data:``,
``file:``, ``vbscript:`` or any other scheme a browser or an app might act on. A URI the server
itself calls (the back-channel logout URI) is ``https:`` or loopback ``http:`` only. An entry
ending in ``*`` is a prefix (Vantage compatibility), allowed only when the client opts in.

Matching: exact string comparison ("Authorization servers MUST utilize exact string
matching", RFC 9700 §2.1). A prefix entry never matches across the host: scheme, host and port
compare exactly on the parsed URL, the path prefix ends at a ``/`` boundary, and a candidate
with userinfo, a fragment, or ``..``/encoded dot segments never matches.

The one exception is RFC 8252 §7.3's: an exact entry ``http://127.0.0.1…`` or ``http://[::1]…``
(the loopback IP literals; not ``localhost``, whose name may resolve elsewhere, §8.3) matches a
candidate that differs only in its port, any port 1-65535 or none; every other character of the
string still compares exactly. Prefix entries keep their port.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})
WEB_SCHEMES = frozenset({"https", "http"})
# Browsers read "\\" as "/" in http(s) URLs; encoded slashes and ";" path parameters hide segments.
_PATH_TRICKS = ("\\", "%5c", "%2f", ";")
_DOT_SEGMENT = re.compile(r"(^|/)(\.|%2e){1,2}(/|$)", re.IGNORECASE)
# RFC 8252 §7.3: "http://127.0.0.1:{port}/{path}" and "http://[::1]:{port}/{path}": the literal,
# the port (digits without a leading zero, or none) and the rest, which starts a path, query or
# fragment (so "http://127.0.0.1:1@evil.example/" is not one).
_LOOPBACK_IP = re.compile(r"http://(127\.0\.0\.1|\[::1\])(?::([1-9][0-9]{0,4}))?([/?#].*)?", re.DOTALL)
MAX_PORT = 65535


def registration_error(uri: str, *, allow_prefix: bool, allow_private_scheme: bool = True) -> str | None:
    """Why ``uri`` cannot be registered, or None if it can. ``allow_private_scheme``: a native
    app's private-use scheme is allowed (redirect URIs, not URIs the server calls)."""
    is_prefix = uri.endswith("*")
    if is_prefix and not allow_prefix:
        return "a prefix entry ending in '*' needs allowRedirectUriPrefix: true"
    base = uri[:-1] if is_prefix else uri
    if "*" in base:
        return "'*' is allowed only as the last character of a prefix entry"
    try:
        parts = urlsplit(base)
        port = parts.port  # raises on a bad port
    except ValueError:
        return "is not a valid URI"
    del port
    if not parts.scheme or (not parts.netloc and parts.scheme in WEB_SCHEMES):
        return "must be an absolute URI"
    if parts.scheme not in WEB_SCHEMES:
        if not allow_private_scheme:
            return "must be an https: URI (http: only for loopback hosts)"
        # "apps MUST use a URI scheme based on a domain name under their control, expressed in
        # reverse order" (RFC 8252 §7.1): a scheme without a "." is not one.
        if "." not in parts.scheme:
            return (
                "the scheme must be https:, http: on a loopback host, or a private-use scheme in "
                "reverse-domain form such as com.example.app: (RFC 8252 §7.1)"
            )
    if parts.fragment or "#" in base:
        return "must not contain a fragment"
    if parts.username is not None or parts.password is not None:
        return "must not contain userinfo"
    if parts.scheme == "http" and (parts.hostname or "") not in LOOPBACK_HOSTS:
        return "http: is allowed only for loopback hosts; use https:"
    if any(c.isspace() for c in uri):
        return "must not contain whitespace"
    return None


def matches(registered: Sequence[str], candidate: str) -> bool:
    """Whether ``candidate`` is allowed by one of the ``registered`` entries."""
    for entry in registered:
        if entry.endswith("*"):
            if _prefix_matches(entry[:-1], candidate):
                return True
        elif entry == candidate or _loopback_matches(entry, candidate):
            return True
    return False


def _loopback_matches(entry: str, candidate: str) -> bool:
    # "The authorization server MUST allow any port to be specified at the time of the request
    # for loopback IP redirect URIs" (RFC 8252 §7.3)
    want = _LOOPBACK_IP.fullmatch(entry)
    if want is None:
        return False
    got = _LOOPBACK_IP.fullmatch(candidate)
    if got is None or (got[2] is not None and int(got[2]) > MAX_PORT):
        return False
    return (got[1], got[3] or "") == (want[1], want[3] or "")


def _prefix_matches(prefix: str, candidate: str) -> bool:
    if not candidate.startswith(prefix):
        return False
    try:
        want, got = urlsplit(prefix), urlsplit(candidate)
        same_origin = (want.scheme, want.hostname, want.port) == (got.scheme, got.hostname, got.port)
    except ValueError:
        return False
    if not same_origin or got.username is not None or got.password is not None:
        return False
    lowered = got.path.lower()
    if "#" in candidate or _DOT_SEGMENT.search(got.path) or "%2e" in lowered:
        return False
    if any(trick in lowered for trick in _PATH_TRICKS) or "\\" in candidate:
        return False
    # The path prefix ends at a "/" boundary: "/app" must not admit "/application".
    want_path = want.path or "/"
    got_path = got.path or "/"
    if want_path.endswith("/"):
        return got_path.startswith(want_path)
    return got_path == want_path or got_path.startswith(want_path + "/")
