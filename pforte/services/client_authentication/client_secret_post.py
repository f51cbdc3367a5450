"""RFC 6749 §2.3.1 ``client_secret_post``: ``client_id`` and ``client_secret`` in the form body
("NOT RECOMMENDED and SHOULD be limited to clients unable to directly utilize the HTTP Basic
authentication scheme")."""

from __future__ import annotations

from pforte.domain.oauth.errors import InvalidClient
from pforte.services.client_authentication import client_secret
from pforte.services.client_authentication.method import AuthRequest, Credentials

NAME = "client_secret_post"
USES_AUTHORIZATION = False
verify = client_secret.verify


def presented(request: AuthRequest) -> bool:
    return "client_secret" in request.form


def credentials(request: AuthRequest) -> Credentials:
    if "client_id" not in request.form:
        raise InvalidClient("client authentication is required")
    return Credentials(client_id=request.form["client_id"], secret=request.form["client_secret"], basic=False)
