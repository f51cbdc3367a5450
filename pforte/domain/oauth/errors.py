"""OAuth error codes: one class per code, carrying its status.

RFC 6749 §5.2 token endpoint errors (and RFC 8707's), §4.1.2.1 authorization endpoint errors and
OpenID Connect Core 1.0 §3.1.2.6 authentication errors. The authorization endpoint's errors travel
in the redirect's query; their ``status`` (400) is used only when they are shown instead.

    OAuthError
     ├── InvalidRequest           400  missing/repeated parameter, two auth methods, bad content type
     ├── InvalidClient            401  client authentication failed (same answer for every cause)
     ├── InvalidGrant             400
     ├── UnauthorizedClient       400  the client may not use this grant type
     ├── UnsupportedGrantType     400
     ├── InvalidScope             400
     ├── InvalidTarget            400  RFC 8707 §2: a resource this server issues no tokens for
     ├── TooManyAttempts          429  failed client authentication repeated too often (Retry-After)
     ├── NotFound                 404  no such tenant (or endpoint) under /t/ (not an RFC 6749 code)
     ├── MethodNotAllowed         405  a method the endpoint does not take (``Allow``)
     ├── ServerError              500  §4.1.2.1 server_error: a fault of the server, not of the request
     ├── TemporarilyUnavailable   503  §4.1.2.1: overloaded for now; repeat shortly (Retry-After)
     │   authorization endpoint (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6), sent to the redirect URI:
     ├── AccessDenied             400  the resource owner or the server denied the request
     ├── UnsupportedResponseType  400  a response_type other than ``code``
     ├── LoginRequired            400  prompt=none, but the End-User is not signed in
     ├── ConsentRequired          400  prompt=none, but consent would have to be asked
     ├── InteractionRequired      400  prompt=none, but some other page would have to be shown
     ├── RequestNotSupported      400  the ``request`` parameter (request objects) is not supported
     ├── RequestUriNotSupported   400  the ``request_uri`` parameter is not supported
     └── RegistrationNotSupported 400  the ``registration`` parameter is not supported

``description`` is sent to the client and must be RFC 6749 ASCII (%x20-21 / %x23-5B / %x5D-7E).
"""

from __future__ import annotations

import re

_DESCRIPTION_RE = re.compile(r"[\x20-\x21\x23-\x5b\x5d-\x7e]*")


class OAuthError(Exception):
    error = "invalid_request"
    status = 400

    def __init__(self, description: str) -> None:
        assert _DESCRIPTION_RE.fullmatch(description), "error_description must be RFC 6749 ASCII"
        super().__init__(description)
        self.description = description

    def headers(self) -> list[tuple[bytes, bytes]]:
        """Extra response headers this error calls for."""
        return []


class InvalidRequest(OAuthError):
    error = "invalid_request"


class InvalidClient(OAuthError):
    """ "If the client attempted to authenticate via the Authorization request header field, the
    authorization server MUST respond with an HTTP 401 ... and include the WWW-Authenticate
    response header field matching the authentication scheme used by the client." (§5.2)"""

    error = "invalid_client"
    status = 401

    def __init__(self, description: str = "client authentication failed", *, basic: bool = False) -> None:
        super().__init__(description)
        self.basic = basic


class InvalidGrant(OAuthError):
    error = "invalid_grant"


class UnauthorizedClient(OAuthError):
    error = "unauthorized_client"


class UnsupportedGrantType(OAuthError):
    error = "unsupported_grant_type"


class InvalidScope(OAuthError):
    error = "invalid_scope"


class InvalidTarget(OAuthError):
    """ "The requested resource is invalid, missing, unknown, or malformed." (RFC 8707 §2)"""

    error = "invalid_target"


class TooManyAttempts(OAuthError):
    """Too many failed authentications for one client id: answered 429 with ``Retry-After``
    (RFC 6585 §4) until the window has room again, whatever the credentials."""

    error = "temporarily_unavailable"
    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many failed client authentications; retry later")
        self.retry_after = max(1, retry_after)

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [(b"retry-after", str(self.retry_after).encode())]


class NotFound(OAuthError):
    """Nothing answers here: no such tenant, or no such endpoint under a tenant's issuer. The
    protocol family's 404 (``not_found``), so that ``/t/…`` never answers problem+json."""

    error = "not_found"
    status = 404


class MethodNotAllowed(OAuthError):
    """The endpoint exists but does not take this method (RFC 9110 §15.5.6: 405 with ``Allow``)."""

    error = "invalid_request"
    status = 405

    def __init__(self, allow: str) -> None:
        super().__init__(f"this endpoint accepts {allow} only")
        self.allow = allow

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [(b"allow", self.allow.encode("ascii"))]


class ServerError(OAuthError):
    """The server cannot answer through no fault of the request (e.g. the tenant has no key that
    may sign now). The detail belongs in the log, never in the description."""

    error = "server_error"
    status = 500


class TemporarilyUnavailable(OAuthError):
    """ "The authorization server is currently unable to handle the request due to a temporary
    overloading or maintenance" (§4.1.2.1): 503 with ``Retry-After``."""

    error = "temporarily_unavailable"
    status = 503

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [(b"retry-after", b"1")]


# Authorization endpoint (RFC 6749 §4.1.2.1; OpenID Connect Core 1.0 §3.1.2.6) -----------------


class AccessDenied(OAuthError):
    """ "The resource owner or authorization server denied the request." (§4.1.2.1)"""

    error = "access_denied"


class UnsupportedResponseType(OAuthError):
    """ "The authorization server does not support obtaining an authorization code using this
    method." (§4.1.2.1)"""

    error = "unsupported_response_type"


class LoginRequired(OAuthError):
    """ "The Authorization Server requires End-User authentication." (OIDC Core §3.1.2.6)"""

    error = "login_required"


class ConsentRequired(OAuthError):
    """ "The Authorization Server requires End-User consent." (OIDC Core §3.1.2.6)"""

    error = "consent_required"


class InteractionRequired(OAuthError):
    """ "The Authorization Server requires End-User interaction of some form to proceed." (OIDC
    Core §3.1.2.6), e.g. prompt=none when a page would have to be shown."""

    error = "interaction_required"


class RequestNotSupported(OAuthError):
    """ "The OP does not support use of the request parameter" (OIDC Core §3.1.2.6)."""

    error = "request_not_supported"


class RequestUriNotSupported(OAuthError):
    """ "The OP does not support use of the request_uri parameter" (OIDC Core §3.1.2.6)."""

    error = "request_uri_not_supported"


class RegistrationNotSupported(OAuthError):
    """ "The OP does not support use of the registration parameter" (OIDC Core §3.1.2.6)."""

    error = "registration_not_supported"


class InvalidToken(OAuthError):
    """RFC 6750 §3.1 ``invalid_token`` at a resource (userinfo): 401 with a Bearer challenge
    naming the error; with ``given=False`` (no token at all) the challenge names no error
    ("If the request lacks any authentication information ... the resource server SHOULD NOT
    include an error code", §3.1)."""

    error = "invalid_token"
    status = 401

    def __init__(self, description: str = "the access token is not valid", *, given: bool = True) -> None:
        super().__init__(description)
        self.given = given

    def headers(self) -> list[tuple[bytes, bytes]]:
        if not self.given:
            return [(b"www-authenticate", b'Bearer realm="pforte"')]
        return [(b"www-authenticate", b'Bearer realm="pforte", error="invalid_token"')]


class InsufficientScope(OAuthError):
    """RFC 6750 §3.1 ``insufficient_scope``: 403, naming the scope that would do."""

    error = "insufficient_scope"
    status = 403

    def __init__(self, scope: str) -> None:
        super().__init__(f"the access token lacks the scope {scope}")
        self.scope = scope

    def headers(self) -> list[tuple[bytes, bytes]]:
        value = f'Bearer realm="pforte", error="insufficient_scope", scope="{self.scope}"'
        return [(b"www-authenticate", value.encode())]
