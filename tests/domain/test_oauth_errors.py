"""The authorization endpoint's error codes (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6): one class
each, with its code, status 400, no extra headers, and an RFC 6749 ASCII description."""

from __future__ import annotations

import pytest

from pforte.domain.oauth import errors
from pforte.domain.oauth.errors import OAuthError


@pytest.mark.parametrize(
    ("cls", "code"),
    [
        (errors.AccessDenied, "access_denied"),
        (errors.UnsupportedResponseType, "unsupported_response_type"),
        (errors.LoginRequired, "login_required"),
        (errors.ConsentRequired, "consent_required"),
        (errors.InteractionRequired, "interaction_required"),
        (errors.RequestNotSupported, "request_not_supported"),
        (errors.RequestUriNotSupported, "request_uri_not_supported"),
        (errors.RegistrationNotSupported, "registration_not_supported"),
        # RFC 6749 §4.1.2.1 codes the token endpoint already had
        (errors.InvalidRequest, "invalid_request"),
        (errors.UnauthorizedClient, "unauthorized_client"),
        (errors.InvalidScope, "invalid_scope"),
    ],
)
def test_authorization_endpoint_error(cls: type[OAuthError], code: str) -> None:
    error = cls("the user declined")
    assert isinstance(error, OAuthError)
    assert (error.error, error.status, error.description) == (code, 400, "the user declined")
    assert error.headers() == []
    assert str(error) == "the user declined"


def test_every_code_has_one_class() -> None:
    classes = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, OAuthError)]
    codes = [c.error for c in classes if c is not OAuthError and c.status < 404]
    assert len(codes) == len(set(codes))


@pytest.mark.parametrize("description", ['say "no"', "back\\slash", "é", "line\nbreak", "tab\t"])
def test_descriptions_are_rfc_6749_ascii(description: str) -> None:
    with pytest.raises(AssertionError, match="error_description must be RFC 6749 ASCII"):
        errors.AccessDenied(description)
