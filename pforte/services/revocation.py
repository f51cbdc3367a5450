"""RFC 7009 token revocation: a client revokes its own access tokens, refresh tokens (with their
family) and API keys.

A revoked JWT's ``jti`` goes on the deny-list (a row every process loads, and a change every
process applies within a second) until the token would have expired anyway. An API key is
deleted, with an audit event naming the client. Unknown, malformed, expired and other
tenants' tokens change nothing and answer 200 (§2.2); a token of another client of this tenant
is refused (§2.1).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError

from pforte.domain import credentials as cred
from pforte.domain.errors import Conflict
from pforte.domain.events import Actor, Event, EventName
from pforte.domain.ids import SYSTEM_TENANT
from pforte.domain.oauth.errors import InvalidRequest, UnauthorizedClient
from pforte.domain.permissions import TENANTS_ADMIN
from pforte.services import audit, changes, lockout, tokens
from pforte.services.context import Context
from pforte.services.form_endpoints import FormRequest, form_endpoint, token_call
from pforte.services.views import ClientView, TenantView
from pforte.store.repos.changes import RevokedTokenRepo
from pforte.store.repos.credentials import ApiKeyRepo
from pforte.store.repos.sessions import RefreshTokenRepo
from pforte.store.repos.tenants import TenantRepo
from pforte.store.tables import RevokedTokenRow

NOT_YOURS = "the token was not issued to this client"
LAST_ADMIN = (
    "this API key is the last credential holding tenants:admin; create another first "
    "(or run pforte bootstrap), then revoke it"
)


@form_endpoint
async def endpoint(ctx: Context, request: FormRequest) -> None:
    """``POST /t/{slug}/revoke``: an authenticated client revokes one of its tokens (§2.1)."""
    call = await token_call(ctx, request)
    await revoke(ctx, call.tenant, call.client, call.token, call.now)


async def revoke(ctx: Context, tenant: TenantView, caller: ClientView, token: str, now: datetime) -> None:
    if cred.is_well_formed(token, cred.Kind.API_KEY):
        await _revoke_api_key(ctx, tenant, caller, token)
        return
    if cred.is_well_formed(token, cred.Kind.REFRESH_TOKEN):
        await _revoke_refresh_token(ctx, tenant, caller, token, now)
        return
    live = await tokens.live_token(ctx, tenant, token, now)
    if live is None:
        return
    if live.client.client_id != caller.client_id:
        raise UnauthorizedClient(NOT_YOURS)
    jti, exp = live.claims["jti"], live.claims["exp"]
    try:
        async with ctx.db.transaction() as session:
            row = RevokedTokenRow(
                tenant_id=tenant.id,
                jti=jti,
                client_id=caller.client_id,
                expires_at=datetime.fromtimestamp(exp, UTC),
                revoked_at=now,
            )
            if await RevokedTokenRepo(session).add(row):
                changes.publish(session, changes.Change(changes.REVOKED, tenant.id, f"{jti} {exp}"))
    except IntegrityError:
        return  # revoked by a concurrent request, which published it: the same outcome


async def _revoke_api_key(ctx: Context, tenant: TenantView, caller: ClientView, value: str) -> None:
    async with ctx.db.transaction() as session:
        repo = ApiKeyRepo(session)
        found = await repo.authenticate(ctx.hasher.hash(value))
        if found is None or found[0].tenant_id != tenant.id:
            return
        key, client, _ = found
        if client.id != caller.pk:
            raise UnauthorizedClient(NOT_YOURS)
        guarded = tenant.slug == SYSTEM_TENANT and TENANTS_ADMIN in key.scopes
        if guarded:  # the last way in with tenants:admin stays (lockout); held as the admin API holds it
            await TenantRepo(session).lock(tenant.id)
            before = await lockout.ways_in(session, tenant.id)
        if not await repo.delete(tenant.id, client.id, key.id):
            return  # revoked by a concurrent request: the same outcome
        if guarded:
            try:
                lockout.refuse_last(before, await lockout.ways_in(session, tenant.id))
            except Conflict as exc:
                raise InvalidRequest(LAST_ADMIN) from exc
        actor = Actor(kind="client", id=caller.client_id, tenant=tenant.slug, client_id=caller.client_id)
        event = Event(EventName.API_KEY_REVOKED, "api_key", str(key.id), {"clientId": caller.client_id})
        audit.record(session, tenant_id=tenant.id, actor=actor, event=event)


async def _revoke_refresh_token(
    ctx: Context, tenant: TenantView, caller: ClientView, value: str, now: datetime
) -> None:
    """Revoking a refresh token ends its family: every token rotated from the same grant."""
    async with ctx.db.transaction() as session:
        repo = RefreshTokenRepo(session)
        row = await repo.get(tenant.id, ctx.hasher.hash(value))
        if row is None:
            return
        if row.client_pk != caller.pk:
            raise UnauthorizedClient(NOT_YOURS)
        await repo.revoke_family(tenant.id, row.family_id, now)
