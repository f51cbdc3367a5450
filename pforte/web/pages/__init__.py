"""The HTML pages a person sees while signing in (DESIGN §6), in English and German.

Public surface::

    negotiate_locale(accept_language: str | None, ui_locales: Sequence[str] = ()) -> str
    render(template: str, *, locale: str, **context: object) -> str
    translate(key: str, *, locale: str, **params: object) -> str

``render`` takes exactly the context members listed below (``CONTEXT``); anything missing or
extra is a ``TypeError``. Every value is HTML-escaped. The pages hold no script and no inline
style: they fit ``Content-Security-Policy: default-src 'none'; style-src 'self';
form-action 'self' …; frame-ancestors 'none'``. Their one stylesheet is
``pforte/web/static/pages/pforte.css``, linked as ``{static_base}/pages/pforte.css``.

Every template (base.html)
    ``static_base: str`` — URL path the package's ``web/static`` is served under, e.g. "/static"
    ``switch_locale_urls: dict[str, str]`` — "en" and "de" → the URL of this page in that language
    ``tenant_name: str | None`` — shown in the header (None: "Pforte", for an error page only)

sign_in.html
    ``client_name: str`` — the application being signed in to
    ``action: str`` — the URL the form posts to
    ``csrf_token: str``
    ``hidden: dict[str, str]`` — further form fields, each an ``<input type="hidden">``
    ``username: str`` — the prefill ("" for none)
    ``error: str | None`` — None, "sign_in.failed" (one neutral message for every cause) or
    "sign_in.change_expired" (the new-password form's token was no good: sign in again)
    ``retry_after: int | None`` — seconds to wait when throttled ("sign_in.throttled")
    Posts ``username``, ``password``, ``csrf_token`` and the hidden fields.

password_change.html
    ``client_name``, ``action``, ``csrf_token``, ``hidden`` as above (``hidden`` carries the
    pending request and the sealed ``change`` token)
    ``username: str`` — who is choosing a new password (shown, not a field)
    ``error: str | None`` — None or one of ``PASSWORD_CHANGE_ERRORS`` ("password_change.rules",
    "password_change.mismatch", "password_change.same"); its field is marked invalid
    Posts ``new_password``, ``new_password_repeat``, ``csrf_token`` and the hidden fields.

consent.html
    ``client_name``, ``action``, ``csrf_token``, ``hidden`` as above
    ``scopes: list[tuple[str, str]]`` — (scope, description localised by the caller, e.g.
    ``translate(f"scope.{scope}", locale=…)`` for the OIDC scopes)
    ``allow_remember: bool`` — offer the checkbox ``remember`` (value "yes")
    Posts ``decision`` = "allow" | "deny", ``remember`` when ticked, ``csrf_token``, hidden fields.

error.html
    ``status: int`` — the HTTP status, shown as "Error 400"
    ``title_key: str`` — one of ``ERROR_TITLE_KEYS`` ("error.invalid_request",
    "error.unknown_client", "error.redirect_uri", "error.expired", "error.server_error");
    the page shows its title and ``<title_key>.help``, which never links back to the application
    ``detail: str`` — a localised or plain English technical detail ("" for none)

denied.html
    ``client_name: str``
    ``continue_url: str | None`` — a link "Back to the application" when given (the caller's
    redirect carrying ``error=access_denied``)

Message keys callers use: ``scope.openid``, ``scope.profile``, ``scope.email``,
``scope.offline_access``, ``scope.address``, ``scope.phone``, ``sign_in.failed``.
"""

from __future__ import annotations

from pforte.web.pages.locales import DEFAULT_LOCALE, LOCALES, negotiate_locale
from pforte.web.pages.messages import ERROR_TITLE_KEYS, MESSAGES
from pforte.web.pages.render import CONTEXT, render, translate

__all__ = [
    "CONTEXT",
    "DEFAULT_LOCALE",
    "ERROR_TITLE_KEYS",
    "LOCALES",
    "MESSAGES",
    "negotiate_locale",
    "render",
    "translate",
]
