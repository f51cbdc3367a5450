"""``POST /t/{slug}/token`` — RFC 6749 §3.2: ``grant_type`` is required and dispatched on after
the client has authenticated (``forms.handle``); the answer is never cached."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import ClassVar

from pforte.domain.oauth import resource_indicators
from pforte.domain.oauth.errors import InvalidRequest, OAuthError, UnsupportedGrantType
from pforte.observability import log
from pforte.services.cache import ClientView, TenantView
from pforte.services.context import Context
from pforte.services.grants import client_credentials
from pforte.web.protocol.forms import Endpoint, Reply, json_reply

GRANTS = {client_credentials.GRANT_TYPE: client_credentials}


class TokenEndpoint(Endpoint):
    repeated: ClassVar[Mapping[str, Callable[[], OAuthError]]] = {
        resource_indicators.PARAMETER: resource_indicators.repeated
    }

    def precheck(self, form: dict[str, str]) -> None:
        if "grant_type" not in form:
            raise InvalidRequest("grant_type is required")
        if form["grant_type"] not in GRANTS:
            raise UnsupportedGrantType("this server does not support that grant_type")

    async def run(
        self, ctx: Context, tenant: TenantView, client: ClientView, form: dict[str, str], now: datetime
    ) -> Reply:
        grant = GRANTS[form["grant_type"]]
        try:
            return json_reply(grant.handle(tenant, client, form, now))
        except client_credentials.NoSigningKey:
            log.error("no_signing_key", tenant=tenant.slug)
            return json_reply({"error": "server_error", "error_description": "no signing key"}, 500)
