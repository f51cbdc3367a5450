"""The user's account console (DESIGN.md §6 ``/account``, Keycloak's "Applications"): who the
user is, which applications they use or granted access, and withdrawing that access.

An application is listed when it is enabled and shown always (``showInAccountConsole``), or the
user gave it a remembered consent, or it holds a live refresh token of the user (offline
access). The consoles' own clients are never listed.

Withdrawing access deletes the remembered consent (the next sign-in asks again) and revokes the
user's refresh tokens of that client; access tokens already issued run out by themselves
(``accessTokenLifetime``). It is recorded as ``consent.withdrawn``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from pforte.domain.consoles import BUILTIN_CLIENT_IDS
from pforte.domain.events import Actor, Event, EventName
from pforte.services import audit
from pforte.services.context import Context
from pforte.services.views import TenantView
from pforte.store.repos.clients import ClientRepo
from pforte.store.repos.sessions import ConsentRepo, RefreshTokenRepo
from pforte.store.repos.users import UserRepo


@dataclass(frozen=True, slots=True)
class Application:
    client_id: str
    name: str
    description: str | None
    scopes: tuple[str, ...]  # what the user's remembered consent allows; () if none
    offline: bool  # it holds a live refresh token of the user

    @property
    def granted(self) -> bool:
        return bool(self.scopes) or self.offline


@dataclass(frozen=True, slots=True)
class Account:
    user_id: uuid.UUID
    username: str
    email: str | None
    given_name: str | None
    family_name: str | None
    applications: tuple[Application, ...]


async def overview(ctx: Context, tenant: TenantView, user_id: uuid.UUID, now: datetime) -> Account | None:
    """The account page of the user; None if the user is gone or disabled."""
    async with ctx.db.transaction() as session:
        user = await UserRepo(session).get(tenant.id, user_id)
        if user is None or not user.enabled:
            return None
        consents = {c.client_pk: c for c in await ConsentRepo(session).of_user(tenant.id, user_id)}
        offline = await RefreshTokenRepo(session).live_clients_of_user(tenant.id, user_id, now)
        clients = await ClientRepo(session).for_account(tenant.id, consents.keys() | offline)
    applications = tuple(
        Application(
            client_id=c.client_id,
            name=c.client_name or c.client_id,
            description=c.description,
            scopes=tuple(consents[c.id].scopes) if c.id in consents else (),
            offline=c.id in offline,
        )
        for c in clients
        if c.client_id not in BUILTIN_CLIENT_IDS
    )
    return Account(
        user_id=user.id,
        username=user.username,
        email=user.email,
        given_name=user.given_name,
        family_name=user.family_name,
        applications=tuple(sorted(applications, key=lambda a: (a.name.casefold(), a.client_id))),
    )


async def withdraw(
    ctx: Context, tenant: TenantView, user_id: uuid.UUID, client_id: str, now: datetime
) -> bool:
    """Withdraw what the user granted ``client_id``; False if there was nothing to withdraw."""
    async with ctx.db.transaction() as session:
        client = await ClientRepo(session).get(tenant.id, client_id)
        if client is None:
            return False
        consents = ConsentRepo(session)
        consent = await consents.get(tenant.id, user_id, client.id)
        scopes = list(consent.scopes) if consent is not None else []
        removed = await consents.delete(tenant.id, user_id, client.id)
        revoked = await RefreshTokenRepo(session).revoke_of_user_client(tenant.id, user_id, client.id, now)
        if not removed and not revoked:
            return False
        audit.record(
            session,
            tenant_id=tenant.id,
            actor=Actor(kind="user", id=str(user_id), tenant=tenant.slug),
            event=Event(
                EventName.CONSENT_WITHDRAWN,
                "consent",
                client_id,
                {"scopes": scopes, "refreshTokensRevoked": revoked},
            ),
            publish=False,
        )
    return True
