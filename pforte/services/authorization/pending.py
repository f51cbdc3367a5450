"""A pending authorization request, carried by the sign-in and consent forms.

The original request's parameters travel in a hidden form field, sealed with AES-256-GCM under
a key derived from the server secret (``Context.request_sealer``), bound to the tenant and to
the browser's CSRF cookie, and valid ``LIFETIME`` seconds. Nothing is stored between the pages,
so any process of a cluster can take the form, and a copied form is useless in another
browser (another CSRF cookie) or at another tenant.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import orjson
from cryptography.exceptions import InvalidTag

from pforte.security.keys import KeySealer

LIFETIME = 600  # seconds to sign in (Keycloak's "Login timeout" is 30 minutes; 10 is plenty)
MAX_SEALED = 8192


@dataclass(frozen=True, slots=True)
class Pending:
    params: dict[str, str]
    issued: int  # epoch seconds


class Expired(Exception):
    """The form is too old, altered, from another tenant or from another browser."""


PURPOSE = "pforte-authorization-request"


def _context(purpose: str, slug: str, csrf: str) -> str:
    return f"{purpose}:{slug}:{csrf}"


def seal(
    sealer: KeySealer,
    params: Mapping[str, str],
    *,
    slug: str,
    csrf: str,
    now: datetime,
    purpose: str = PURPOSE,
) -> str:
    """``purpose`` separates what is sealed for different uses (a console's cookies use this
    too): a value sealed for one purpose never opens for another."""
    plain = orjson.dumps({"p": dict(params), "t": int(now.timestamp())})
    return base64.urlsafe_b64encode(sealer.seal(plain, context=_context(purpose, slug, csrf))).decode("ascii")


def unseal(
    sealer: KeySealer,
    value: str,
    *,
    slug: str,
    csrf: str,
    now: datetime,
    purpose: str = PURPOSE,
    lifetime: int = LIFETIME,
) -> Pending:
    if not value or len(value) > MAX_SEALED:
        raise Expired("no pending request")
    try:
        sealed = base64.urlsafe_b64decode(value.encode("ascii"))
        data = orjson.loads(sealer.open(sealed, context=_context(purpose, slug, csrf)))
    except (InvalidTag, ValueError, binascii.Error, UnicodeError, orjson.JSONDecodeError):
        raise Expired("the pending request is not one of ours") from None
    params, issued = data.get("p"), data.get("t")
    if not isinstance(params, dict) or not isinstance(issued, int):
        raise Expired("the pending request is malformed")
    if not 0 <= int(now.timestamp()) - issued <= lifetime:
        raise Expired("the pending request has expired")
    return Pending(params={str(k): str(v) for k, v in params.items()}, issued=issued)


def same_token(presented: str | None, cookie: str | None) -> bool:
    """The form's CSRF token is the browser's cookie (double submit), compared in constant time."""
    if not presented or not cookie:
        return False
    return hmac.compare_digest(presented.encode(), cookie.encode())
