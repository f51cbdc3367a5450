"""Authorization codes (RFC 6749 §4.1.2, DESIGN.md §6): 256 random bits, stored as a keyed
hash, valid ``LIFETIME`` seconds, bound to the client, the redirect URI, the PKCE challenge,
the nonce and the session; used once."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta

from pforte.domain.oauth.authorization_requests import AuthorizationRequest
from pforte.services.context import Context
from pforte.services.sessions import SignedIn
from pforte.store.repos.sessions import CodeRepo, SessionRepo
from pforte.store.tables import AuthorizationCodeRow

LIFETIME = 60  # "A maximum authorization code lifetime of 10 minutes is RECOMMENDED" (§4.1.2); 60 s here


async def issue(
    ctx: Context,
    *,
    tenant_id: uuid.UUID,
    client_pk: uuid.UUID,
    request: AuthorizationRequest,
    scopes: tuple[str, ...],
    signed_in: SignedIn,
    now: datetime,
) -> str:
    value = secrets.token_urlsafe(32)
    row = AuthorizationCodeRow(
        code_hash=ctx.hasher.hash(value),
        tenant_id=tenant_id,
        client_pk=client_pk,
        user_id=signed_in.user_id,
        session_id=signed_in.session_id,
        redirect_uri=request.redirect_uri,
        scopes=list(scopes),
        nonce=request.nonce,
        code_challenge=request.code_challenge,
        sid=signed_in.sid,
        auth_time=signed_in.auth_time,
        created_at=now,
        expires_at=now + timedelta(seconds=LIFETIME),
        used_at=None,
        issued_jti=None,
        issued_jti_expires_at=None,
    )
    async with ctx.db.transaction() as session:
        CodeRepo(session).add(row)
        await SessionRepo(session).note_client(tenant_id, signed_in.session_id, client_pk)
    return value
