"""``/t/{slug}/logout`` — OpenID Connect RP-Initiated Logout 1.0, and the back-channel
notifications of OpenID Connect Back-Channel Logout 1.0 it starts.

    tenant              the issuer path's tenant
    id_token_hint       an ID token this tenant signed (expired ones too: "the OP SHOULD accept
                        ID Tokens ... even when their exp time has passed", §2); else a 400 page
    client              ``client_id``, or the hint's ``aud``; both given must agree
    post-logout URI     exactly one of the client's ``postLogoutRedirectUris`` (else a 400 page,
                        never a redirect); ``state`` returned with it
    confirm             without a hint naming this session, the user confirms (a form with CSRF):
                        a link alone never signs anyone out
    sign out            the session ends; its refresh tokens are revoked; each client that got a
                        code in it and has a ``backChannelLogoutUri`` is sent a logout token in
                        the background
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from joserfc import jws, jwt
from joserfc.errors import JoseError

from pforte.domain.events import Actor, Event, EventName
from pforte.domain.ids import is_client_id, is_slug
from pforte.domain.oauth import logout_tokens
from pforte.domain.oauth.authorization_requests import state_of
from pforte.domain.oauth.redirect_uris import matches
from pforte.services import audit, sessions
from pforte.services.authorization import pending
from pforte.services.authorization.endpoint import Browser
from pforte.services.authorization.outcomes import (
    ErrorPage,
    LogoutOutcome,
    LogoutPage,
    Redirect,
    SignedOutPage,
)
from pforte.services.context import Context
from pforte.services.views import TenantView
from pforte.store.repos.clients import ClientRepo
from pforte.store.repos.sessions import RefreshTokenRepo, SessionRepo
from pforte.store.repos.tenants import TenantRepo
from pforte.store.tables import ClientRow


async def logout(ctx: Context, slug: str, params: Mapping[str, str], browser: Browser) -> LogoutOutcome:
    """The RP's request (GET or POST): sign out at once when its ID token names this session,
    else ask the user."""
    return await _logout(ctx, slug, params, browser, confirmed=False)


async def confirm(ctx: Context, slug: str, form: Mapping[str, str], browser: Browser) -> LogoutOutcome:
    """The confirmation form: CSRF-checked, then the sign-out the sealed request asked for."""
    if not pending.same_token(form.get("csrf_token"), browser.csrf):
        return ErrorPage(403, "error.expired", "The form was not sent from this browser's own page.")
    try:
        held = pending.unseal(
            ctx.request_sealer, form.get("request", ""), slug=slug, csrf=browser.csrf, now=ctx.clock()
        )
    except pending.Expired:
        return ErrorPage(400, "error.expired", "The sign-out took too long or the form was altered.")
    return await _logout(ctx, slug, held.params, browser, confirmed=True)


async def _logout(
    ctx: Context, slug: str, params: Mapping[str, str], browser: Browser, *, confirmed: bool
) -> LogoutOutcome:
    now = ctx.clock()
    tenant = await ctx.cache.tenant(slug) if is_slug(slug) else None
    if tenant is None:
        return ErrorPage(404, "error.invalid_request", "There is no such tenant.")
    hint = params.get("id_token_hint")
    claims = _hinted(tenant, hint) if hint else None
    if hint and claims is None:
        return ErrorPage(400, "error.invalid_request", "The id_token_hint is not an ID token of this issuer.")
    client_id = params.get("client_id")
    hinted_client = str(claims.get("aud")) if claims is not None else None
    if client_id and hinted_client and client_id != hinted_client:
        return ErrorPage(
            400, "error.invalid_request", "client_id and the id_token_hint name different clients."
        )
    client_id = client_id or hinted_client
    tenant_name, client = await _tenant_and_client(ctx, tenant, client_id)
    target = params.get("post_logout_redirect_uri")
    if target is not None and (client is None or not matches(client.post_logout_redirect_uris, target)):
        return ErrorPage(
            400, "error.redirect_uri", "The post_logout_redirect_uri is not registered for this client."
        )
    ui_locales = tuple(params.get("ui_locales", "").split())
    signed_in = await sessions.current(ctx, tenant, browser.session_cookie, now)
    named = claims is not None and signed_in is not None and claims.get("sid") == signed_in.sid
    if signed_in is not None and not confirmed and not named:
        sealed = pending.seal(ctx.request_sealer, params, slug=slug, csrf=browser.csrf, now=now)
        return LogoutPage(tenant_name, sealed, ui_locales)
    if signed_in is not None:
        await end_session(ctx, tenant, signed_in)
    if target is not None:
        state = state_of(params)
        query = urlencode({"state": state}) if state else ""
        joiner = "&" if "?" in target else "?"
        return Redirect(f"{target}{joiner}{query}" if query else target)
    return SignedOutPage(tenant_name, ui_locales)


def _hinted(tenant: TenantView, token: str) -> dict[str, Any] | None:
    """The claims of an ID token this tenant signed, expired or not; None for anything else."""
    try:
        header = jws.extract_compact(token.encode("ascii")).protected
        kid = header.get("kid")
        key = next((k for k in tenant.keys if k.kid == kid), None) if isinstance(kid, str) else None
        if key is None or header.get("typ") not in ("JWT", None):
            return None
        decoded = jwt.decode(token, key.public, algorithms=[key.alg])
    except (JoseError, ValueError, UnicodeError):
        return None
    claims = dict(decoded.claims)
    if claims.get("iss") != tenant.issuer or not isinstance(claims.get("aud"), str):
        return None
    return claims


async def _tenant_and_client(
    ctx: Context, tenant: TenantView, client_id: str | None
) -> tuple[str, ClientRow | None]:
    async with ctx.db.transaction() as session:
        row = await TenantRepo(session).get_by_slug(tenant.slug)
        client = (
            await ClientRepo(session).get(tenant.id, client_id)
            if client_id and is_client_id(client_id)
            else None
        )
    return (row.display_name if row is not None else tenant.slug), client


async def end_session(ctx: Context, tenant: TenantView, signed_in: sessions.SignedIn) -> None:
    """Sign out: the session ends, its refresh tokens are revoked, back-channel logout goes out."""
    now = ctx.clock()
    async with ctx.db.transaction() as session:
        repo = SessionRepo(session)
        clients = await repo.clients_of(tenant.id, signed_in.session_id)
        await RefreshTokenRepo(session).revoke_of_session(tenant.id, signed_in.session_id, now)
        await repo.delete(tenant.id, signed_in.session_id)
        audit.record(
            session,
            tenant_id=tenant.id,
            actor=Actor(kind="user", id=str(signed_in.user_id), tenant=tenant.slug),
            event=Event(EventName.USER_SIGNED_OUT, "user", str(signed_in.user_id), {"sid": signed_in.sid}),
            publish=False,
        )
    targets = [(c.client_id, c.back_channel_logout_uri) for c in clients if c.back_channel_logout_uri]
    notify(ctx, tenant, str(signed_in.user_id), signed_in.sid, targets)


def notify(ctx: Context, tenant: TenantView, subject: str, sid: str, targets: list[tuple[str, str]]) -> None:
    """Send each (client id, back-channel logout URI) a logout token for the ended session."""
    now = ctx.clock()
    key = tenant.signing_key(now)
    if key is None:
        return
    for client_id, uri in targets:
        claims = logout_tokens.logout_token_claims(
            issuer=tenant.issuer, audience=client_id, subject=subject, sid=sid, now=int(now.timestamp())
        )
        ctx.backchannel.send(uri, key.logout_signer.sign(claims), client_id=client_id)
