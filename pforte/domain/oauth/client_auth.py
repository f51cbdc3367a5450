"""RFC 6749 §2.3.1 client password authentication: ``client_secret_basic`` and
``client_secret_post``, never both in one request."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import unquote_plus

from pforte.domain.oauth.errors import InvalidClient, InvalidRequest
from pforte.domain.text import has_control


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    client_id: str
    secret: str
    basic: bool


def _form_decoded(value: str) -> str:
    return unquote_plus(value) if "%" in value or "+" in value else value


def from_request(authorization: str | None, form: dict[str, str]) -> ClientCredentials:
    posted = "client_secret" in form
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "basic":
            raise InvalidClient("unsupported authentication scheme", basic=True)
        if posted:
            # "The client MUST NOT use more than one authentication method in each request." (§2.3)
            raise InvalidRequest("use one client authentication method, not two")
        try:
            decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise InvalidClient("malformed Basic credentials", basic=True) from None
        raw_id, sep, raw_secret = decoded.partition(":")
        if not sep:
            raise InvalidClient("malformed Basic credentials", basic=True)
        # The id and secret are form-encoded before Basic encoding (§2.3.1).
        client_id, secret = _form_decoded(raw_id), _form_decoded(raw_secret)
        # No client id or secret holds a control character (the form parser refuses them in
        # the body); here the header is the credential, so the answer is invalid_client.
        if has_control(client_id) or has_control(secret):
            raise InvalidClient("malformed Basic credentials", basic=True)
        if "client_id" in form and form["client_id"] != client_id:
            raise InvalidRequest("client_id differs from the authenticated client")
        return ClientCredentials(client_id=client_id, secret=secret, basic=True)
    if posted and "client_id" in form:
        return ClientCredentials(client_id=form["client_id"], secret=form["client_secret"], basic=False)
    raise InvalidClient("client authentication is required")
