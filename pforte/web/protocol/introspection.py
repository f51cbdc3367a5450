"""``POST /t/{slug}/introspect`` (RFC 7662 §2) and ``POST /t/{slug}/revoke`` (RFC 7009 §2):
an authenticated client of the tenant names a ``token``; ``token_type_hint`` is only a hint
and is not needed to find a token, so it is accepted and ignored (RFC 7009 §2.1)."""

from __future__ import annotations

from datetime import datetime

from pforte.domain.oauth.errors import InvalidRequest
from pforte.services.cache import ClientView, TenantView
from pforte.services.context import Context
from pforte.services.introspection import introspect
from pforte.services.revocation import revoke
from pforte.web.protocol.forms import NO_STORE, Endpoint, Reply, json_reply


class _TokenParameter(Endpoint):
    def precheck(self, form: dict[str, str]) -> None:
        if "token" not in form:
            raise InvalidRequest("token is required")


class IntrospectionEndpoint(_TokenParameter):
    async def run(
        self, ctx: Context, tenant: TenantView, client: ClientView, form: dict[str, str], now: datetime
    ) -> Reply:
        return json_reply(await introspect(ctx, tenant, form["token"], now))


class RevocationEndpoint(_TokenParameter):
    async def run(
        self, ctx: Context, tenant: TenantView, client: ClientView, form: dict[str, str], now: datetime
    ) -> Reply:
        await revoke(ctx, tenant, client, form["token"], now)
        return Reply(200, b"", list(NO_STORE))
