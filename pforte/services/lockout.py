"""Nobody removes the last way in: a change that leaves the system tenant without a principal
holding ``tenants:admin`` is refused (409), as Keycloak refuses to delete its last admin.

A way in is an enabled client of ``system`` that holds ``tenants:admin`` and can still act:
through an unexpired API key whose scopes include it, or through the client credentials grant
with an unexpired secret. Changes are judged by what they do: if ways in existed before and
none is left after, the change is refused; time running out on the last secret is not a change
(``pforte bootstrap`` is the way back then).
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from pforte.domain.clients import CLIENT_CREDENTIALS
from pforte.domain.clock import utcnow
from pforte.domain.errors import Conflict
from pforte.domain.permissions import TENANTS_ADMIN
from pforte.store.repos.clients import ClientRepo
from pforte.store.repos.credentials import ApiKeyRepo, SecretRepo


async def ways_in(session: AsyncSession, tenant_id: uuid.UUID) -> list[str]:
    """The clientIds of the tenant through which ``tenants:admin`` can be used now."""
    now = utcnow()
    found: list[str] = []
    for client in await ClientRepo(session).enabled(tenant_id):
        if TENANTS_ADMIN not in client.allowed_scopes:
            continue
        keys = await ApiKeyRepo(session).live(tenant_id, client.id, now)
        if any(TENANTS_ADMIN in key.scopes for key in keys) or (
            client.require_client_secret
            and CLIENT_CREDENTIALS in client.allowed_grant_types
            and await SecretRepo(session).count_live(tenant_id, client.id, now) > 0
        ):
            found.append(client.client_id)
    return found


def refuse_last(before: list[str], after: list[str]) -> None:
    if before and not after:
        holders = ", ".join(before)
        raise Conflict(
            f"this would remove the last principal holding {TENANTS_ADMIN} ({holders}): nobody could "
            "administer Pforte any more; create another client or API key with tenants:admin first"
        )
