"""RFC 6749 §2.3.1 ``client_secret_basic``: the client id and secret, each form-encoded, joined
by ``:`` and Base64-encoded in the ``Authorization: Basic`` header (RFC 7617)."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote_plus

from pforte.domain.oauth.errors import InvalidClient, InvalidRequest
from pforte.domain.text import has_control
from pforte.services.client_authentication import client_secret
from pforte.services.client_authentication.method import AuthRequest, Credentials

NAME = "client_secret_basic"
USES_AUTHORIZATION = True
verify = client_secret.verify


def presented(request: AuthRequest) -> bool:
    if request.authorization is None:
        return False
    scheme, _, _ = request.authorization.partition(" ")
    return scheme.lower() == "basic"


def _form_decoded(value: str) -> str:
    return unquote_plus(value) if "%" in value or "+" in value else value


def credentials(request: AuthRequest) -> Credentials:
    assert request.authorization is not None
    token = request.authorization.partition(" ")[2]
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClient("malformed Basic credentials", basic=True) from None
    raw_id, sep, raw_secret = decoded.partition(":")
    if not sep:
        raise InvalidClient("malformed Basic credentials", basic=True)
    # "The client identifier is encoded using the application/x-www-form-urlencoded encoding
    # algorithm ... and the encoded value is used as the username" (§2.3.1); the same for the secret.
    client_id, secret = _form_decoded(raw_id), _form_decoded(raw_secret)
    # No client id or secret holds a control character (the form parser refuses them in the
    # body); here the header is the credential, so the answer is invalid_client.
    if has_control(client_id) or has_control(secret):
        raise InvalidClient("malformed Basic credentials", basic=True)
    if "client_id" in request.form and request.form["client_id"] != client_id:
        raise InvalidRequest("client_id differs from the authenticated client")
    return Credentials(client_id=client_id, secret=secret, basic=True)
