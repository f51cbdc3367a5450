"""``/t/{slug}/authorize`` — RFC 6749 §4.1.1, OIDC Core §3.1.2, RFC 9700 §2.1 — as named steps:

    tenant           the issuer path's tenant (an unknown one: a 404 page)
    client           the ``client_id``'s client (unknown or disabled: a 400 page, never a redirect)
    trusted redirect ``redirect_uri`` matched exactly (else a 400 page, never a redirect)
    parse            every other parameter; an error goes to the redirect URI with state and iss
    session          the browser's session; none, ``prompt=login`` or ``max_age`` passed: sign in
                     (``prompt=none``: ``login_required``)
    access           ``restrictToRole``: a user without the role sees a page, the client hears
                     ``access_denied``
    consent          ``requireConsent``: asked unless remembered for these scopes
                     (``prompt=none``: ``consent_required``); ``prompt=consent`` always asks
    code             issued, and the browser sent back with it

``consent`` takes the form its page posts and continues the same pipeline; the sign-in form
(``sign_in``) and the new-password form (``password_change``) continue it through
``start_session``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urlsplit

from pforte.domain.clients import ClientSpec
from pforte.domain.events import Actor, Event, EventName
from pforte.domain.ids import is_client_id, is_slug
from pforte.domain.oauth import authorization_requests as requests
from pforte.domain.oauth.authorization_requests import AuthorizationRequest, UntrustedRequest
from pforte.domain.oauth.authorization_responses import error_redirect, success_redirect
from pforte.domain.oauth.errors import (
    AccessDenied,
    ConsentRequired,
    InvalidRequest,
    LoginRequired,
    OAuthError,
)
from pforte.domain.oauth.user_scopes import granted_user_scopes
from pforte.domain.text import has_control
from pforte.services import audit, sessions
from pforte.services.authorization import codes, pending
from pforte.services.authorization.outcomes import (
    Answer,
    ConsentPage,
    DeniedPage,
    ErrorPage,
    Outcome,
    Redirect,
    SignInPage,
)
from pforte.services.context import Context
from pforte.services.records import spec_of
from pforte.services.sessions import SignedIn
from pforte.services.views import TenantView
from pforte.store.repos.clients import ClientRepo
from pforte.store.repos.sessions import ConsentRepo
from pforte.store.repos.tenants import TenantRepo
from pforte.store.tables import ConsentRow, UserRow


@dataclass(frozen=True, slots=True)
class Authorizing:
    """A request whose redirect URI is trusted: what every later step works on."""

    tenant: TenantView
    tenant_name: str
    client_pk: uuid.UUID
    client: ClientSpec
    redirect_uri: str
    state: str | None
    params: dict[str, str]

    def error(self, exc: OAuthError) -> Redirect:
        return Redirect(error_redirect(self.redirect_uri, exc, state=self.state, issuer=self.tenant.issuer))

    @property
    def client_name(self) -> str:
        return self.client.client_name or self.client.client_id


@dataclass(frozen=True, slots=True)
class Browser:
    """What the browser brings: its session cookie and its CSRF cookie (made by web if absent)."""

    session_cookie: str | None
    csrf: str
    address: str | None = None


async def authorize(ctx: Context, slug: str, params: Mapping[str, str], browser: Browser) -> Outcome:
    now = ctx.clock()
    found = await trusted(ctx, slug, params)
    if not isinstance(found, Authorizing):
        return found
    try:
        request = requests.parse(found.params, found.client, redirect_uri=found.redirect_uri)
    except OAuthError as exc:
        return found.error(exc)
    # What the forms carry is sealed: it must fit (the recognised parameters only; a request
    # whose own values are that long is refused here, not after the password).
    found = replace(found, params=requests.recognised(found.params))
    if len(sealed_request(ctx, found, browser, now)) > pending.MAX_SEALED:
        return found.error(InvalidRequest("the authorization request is too large"))
    signed_in = await sessions.current(ctx, found.tenant, browser.session_cookie, now)
    if signed_in is None or _must_sign_in(request, signed_in, now):
        if "none" in request.prompt:
            return found.error(LoginRequired("the user is not signed in"))
        return sign_in_page(ctx, found, request, browser, now)
    return await _after_sign_in(ctx, found, request, signed_in, browser, now, asked_consent=False)


async def consent(ctx: Context, slug: str, form: Mapping[str, str], browser: Browser) -> Outcome:
    """The consent form: allow (maybe remembered) or deny."""
    now = ctx.clock()
    resumed = await resume(ctx, slug, form, browser, now)
    if not isinstance(resumed, tuple):
        return resumed
    found, request = resumed
    signed_in = await sessions.current(ctx, found.tenant, browser.session_cookie, now)
    if signed_in is None:
        return sign_in_page(ctx, found, request, browser, now)
    if form.get("decision") != "allow":
        return found.error(AccessDenied("the user denied the request"))
    scopes = _scopes(found, request, signed_in)
    if form.get("remember") == "yes" and found.client.allow_remember_consent:
        await _remember(ctx, found, signed_in, scopes, now)
    return await _after_sign_in(ctx, found, request, signed_in, browser, now, asked_consent=True)


async def start_session(
    ctx: Context,
    found: Authorizing,
    request: AuthorizationRequest,
    user: UserRow,
    browser: Browser,
    now: datetime,
    *,
    username: str,
) -> Answer:
    """A new session for ``user``, whose password was checked just now, and the authorization
    continued (consent or the code); ``username`` as typed, for the form if the user is gone."""
    client_id = found.client.client_id
    cookie, _ = await sessions.start(
        ctx, found.tenant, user, now, replaces=browser.session_cookie, client_id=client_id
    )
    ctx.events.signed_in(found.tenant.id, now, client_id, user.id)
    signed_in = await sessions.current(ctx, found.tenant, cookie, now)
    if signed_in is None:  # disabled or deleted in the meantime
        return Answer(sign_in_page(ctx, found, request, browser, now, username, "sign_in.failed"))
    outcome = await _after_sign_in(ctx, found, request, signed_in, browser, now, asked_consent=False)
    return Answer(outcome, session_cookie=cookie)


# --- the steps ----------------------------------------------------------------------------------


async def trusted(ctx: Context, slug: str, params: Mapping[str, str]) -> Authorizing | ErrorPage:
    """Tenant, client and redirect URI: what must hold before anything may be redirected."""
    tenant = await ctx.cache.tenant(slug) if is_slug(slug) else None
    if tenant is None:
        return ErrorPage(404, "error.invalid_request", "There is no such tenant.")
    client_id = params.get("client_id", "")
    row = None
    tenant_name = slug
    async with ctx.db.transaction() as session:
        tenant_row = await TenantRepo(session).get_by_slug(slug)
        if tenant_row is not None:
            tenant_name = tenant_row.display_name
            if is_client_id(client_id) and not has_control(client_id):
                row = await ClientRepo(session).get(tenant.id, client_id)
    if row is None:
        return ErrorPage(400, "error.unknown_client", "The client_id names no application of this tenant.")
    client = spec_of(row)
    try:
        redirect_uri = requests.trusted_redirect(params, client)
    except UntrustedRequest as exc:
        return ErrorPage(400, "error.redirect_uri", exc.message)
    return Authorizing(
        tenant=tenant,
        tenant_name=tenant_name,
        client_pk=row.id,
        client=client,
        redirect_uri=redirect_uri,
        state=requests.state_of(params),
        params=dict(params),
    )


def origin_of(uri: str) -> str:
    """The CSP source of a redirect URI: ``scheme://host[:port]``, or ``scheme:`` for a
    native app's private-use scheme (RFC 8252 §7.1)."""
    parts = urlsplit(uri)
    if parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return f"{parts.scheme}:"


def _must_sign_in(request: AuthorizationRequest, signed_in: SignedIn, now: datetime) -> bool:
    if "login" in request.prompt:
        return True
    # OIDC Core §3.1.2.1 max_age: "the End-User MUST be actively re-authenticated" when older.
    return request.max_age is not None and (now - signed_in.auth_time).total_seconds() > request.max_age


def sealed_request(ctx: Context, found: Authorizing, browser: Browser, now: datetime) -> str:
    """The pending request as the pages' forms carry it (``pending``), sealed anew for each page."""
    return pending.seal(ctx.request_sealer, found.params, slug=found.tenant.slug, csrf=browser.csrf, now=now)


def sign_in_page(
    ctx: Context,
    found: Authorizing,
    request: AuthorizationRequest,
    browser: Browser,
    now: datetime,
    username: str | None = None,
    error: str | None = None,
    retry_after: int | None = None,
) -> SignInPage:
    # The form's answer continues after the sign-in step (prompt=login and max_age are met by it).
    return SignInPage(
        tenant_name=found.tenant_name,
        client_name=found.client_name,
        pending=sealed_request(ctx, found, browser, now),
        username=username if username is not None else (request.login_hint or ""),
        ui_locales=request.ui_locales,
        redirect_origin=origin_of(found.redirect_uri),
        error=error,
        retry_after=retry_after,
        status=429 if error == "sign_in.throttled" else 200,
        params=tuple(found.params.items()),
    )


async def resume(
    ctx: Context, slug: str, form: Mapping[str, str], browser: Browser, now: datetime
) -> tuple[Authorizing, AuthorizationRequest] | Outcome:
    if not pending.same_token(form.get("csrf_token"), browser.csrf):
        return ErrorPage(
            403, "error.expired", "The form was not sent from this browser's own page. Start again."
        )
    try:
        held = pending.unseal(
            ctx.request_sealer, form.get("request", ""), slug=slug, csrf=browser.csrf, now=now
        )
    except pending.Expired:
        return ErrorPage(
            400, "error.expired", "The sign-in took too long or the form was altered. Start again."
        )
    found = await trusted(ctx, slug, held.params)
    if not isinstance(found, Authorizing):
        return found
    try:
        request = requests.parse(found.params, found.client, redirect_uri=found.redirect_uri)
    except OAuthError as exc:
        return found.error(exc)
    return found, request


def _scopes(found: Authorizing, request: AuthorizationRequest, signed_in: SignedIn) -> tuple[str, ...]:
    return granted_user_scopes(
        request.scopes,
        client_allowed=found.client.allowed_scopes,
        role_permissions=signed_in.permissions,
        tenant_slug=found.tenant.slug,
    )


async def _after_sign_in(
    ctx: Context,
    found: Authorizing,
    request: AuthorizationRequest,
    signed_in: SignedIn,
    browser: Browser,
    now: datetime,
    *,
    asked_consent: bool,
) -> Outcome:
    client = found.client
    if client.restrict_to_role is not None and client.restrict_to_role not in signed_in.roles:
        denied = found.error(AccessDenied("the user may not use this application"))
        return DeniedPage(found.tenant_name, found.client_name, denied.location, request.ui_locales)
    scopes = _scopes(found, request, signed_in)
    if client.require_consent and not asked_consent:
        remembered = await _remembered(ctx, found, signed_in)
        if "consent" in request.prompt or not set(scopes) <= remembered:
            if "none" in request.prompt:
                return found.error(ConsentRequired("the user has not consented"))
            return ConsentPage(
                found.tenant_name,
                found.client_name,
                sealed_request(ctx, found, browser, now),
                scopes,
                client.allow_remember_consent,
                request.ui_locales,
                origin_of(found.redirect_uri),
                params=tuple(found.params.items()),
            )
    code = await codes.issue(
        ctx,
        tenant_id=found.tenant.id,
        client_pk=found.client_pk,
        request=request,
        scopes=scopes,
        signed_in=signed_in,
        now=now,
    )
    return Redirect(
        success_redirect(found.redirect_uri, code=code, state=found.state, issuer=found.tenant.issuer)
    )


async def _remembered(ctx: Context, found: Authorizing, signed_in: SignedIn) -> set[str]:
    async with ctx.db.transaction() as session:
        row = await ConsentRepo(session).get(found.tenant.id, signed_in.user_id, found.client_pk)
    return set(row.scopes) if row is not None else set()


async def _remember(
    ctx: Context, found: Authorizing, signed_in: SignedIn, scopes: tuple[str, ...], now: datetime
) -> None:
    async with ctx.db.transaction() as session:
        repo = ConsentRepo(session)
        row = await repo.get(found.tenant.id, signed_in.user_id, found.client_pk)
        if row is None:
            repo.add(
                ConsentRow(
                    tenant_id=found.tenant.id,
                    user_id=signed_in.user_id,
                    client_pk=found.client_pk,
                    scopes=list(scopes),
                    created_at=now,
                    updated_at=now,
                )
            )
        else:
            row.scopes = sorted(set(row.scopes) | set(scopes))
            row.updated_at = now
        audit.record(
            session,
            tenant_id=found.tenant.id,
            actor=Actor(kind="user", id=str(signed_in.user_id), tenant=found.tenant.slug),
            event=Event(EventName.CONSENT_GIVEN, "consent", found.client.client_id, {"scopes": list(scopes)}),
            publish=False,
        )
