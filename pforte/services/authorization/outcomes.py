"""What the authorization endpoint answers: a page to show, or a redirect to the client.

The web layer renders a page (``web.protocol.authorize``) or sends a 303; nothing here knows
HTTP beyond the status a page is shown with.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ErrorPage:
    """Shown, never redirected: the request cannot be trusted with a redirect (RFC 6749 §4.1.2.1)."""

    status: int
    title_key: str
    detail: str


@dataclass(frozen=True, slots=True)
class Redirect:
    location: str


@dataclass(frozen=True, slots=True)
class SignInPage:
    tenant_name: str
    client_name: str
    pending: str  # the sealed request, posted back with the form
    username: str
    ui_locales: tuple[str, ...]
    redirect_origin: str  # where the form's answer may send the browser (CSP form-action)
    error: str | None = None  # a message key: one neutral message for every failure
    retry_after: int | None = None
    status: int = 200
    # The request as /authorize received it: a page shown after a POST links its language switch
    # there (the POST-only routes have no GET to add ``ui_locales`` to).
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class PasswordChangePage:
    """The password was right, but the user must choose a new one before a session starts
    (Keycloak's UPDATE_PASSWORD required action)."""

    tenant_name: str
    client_name: str
    pending: str  # the sealed request, as the sign-in form carries it
    change: str  # the sealed password-change token (``password_change.PURPOSE``)
    username: str  # who is choosing (shown, never a field)
    ui_locales: tuple[str, ...]
    redirect_origin: str
    error: str | None = None  # a message key: "password_change.mismatch" …
    status: int = 200
    # The request as /authorize received it: a page shown after a POST links its language switch
    # there (the POST-only routes have no GET to add ``ui_locales`` to).
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class ConsentPage:
    tenant_name: str
    client_name: str
    pending: str
    scopes: tuple[str, ...]
    allow_remember: bool
    ui_locales: tuple[str, ...]
    redirect_origin: str
    # The request as /authorize received it: a page shown after a POST links its language switch
    # there (the POST-only routes have no GET to add ``ui_locales`` to).
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class DeniedPage:
    """``restrictToRole``: the user lacks the role; the client hears ``access_denied``."""

    tenant_name: str
    client_name: str
    continue_url: str
    ui_locales: tuple[str, ...]


Outcome = ErrorPage | Redirect | SignInPage | PasswordChangePage | ConsentPage | DeniedPage


@dataclass(frozen=True, slots=True)
class Answer:
    """An outcome, and the session cookie to set when a sign-in started one."""

    outcome: Outcome
    session_cookie: str | None = None


@dataclass(frozen=True, slots=True)
class LogoutPage:
    """RP-Initiated Logout: the user confirms the sign-out (no ID token of this session named it)."""

    tenant_name: str
    pending: str
    ui_locales: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SignedOutPage:
    tenant_name: str
    ui_locales: tuple[str, ...]


LogoutOutcome = ErrorPage | Redirect | LogoutPage | SignedOutPage
