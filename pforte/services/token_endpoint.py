"""``POST /t/{slug}/token`` — RFC 6749 §3.2, as a pipeline of named steps (oidc-provider's
``actions/token.js``):

    no-store          every answer, errors included, is JSON with Cache-Control: no-store (§5.1)
    parse form        form-encoded body; a repeated parameter refused (§3.1; RFC 8707 §2)
    grant type        ``grant_type`` required (§3.2) and one this server implements (§5.2)
    tenant            the issuer path's tenant, from the cache
    authenticate      the client, by the one method it uses (``services.client_authentication``)
    grant allowed     the client is registered for the grant (``unauthorized_client``, §5.2)
    dispatch          the grant's ``handle()`` (``services.grants``) with its declared parameters;
                      a token issued is counted for /metrics (``pforte_tokens_issued_total``)
                      and noted as a ``token.issued`` event for the next batch

Web (``web.protocol.form_dispatch``) only turns ASGI into a ``FormRequest`` and the ``Reply``
into bytes. Adding a grant touches ``services.grants`` only; adding a client authentication
method touches ``services.client_authentication`` only.
"""

from __future__ import annotations

from typing import Any

from pforte.domain.oauth import resource_indicators
from pforte.domain.oauth.errors import InvalidRequest, ServerError, UnauthorizedClient, UnsupportedGrantType
from pforte.domain.oauth.forms import Repeated, parse_form
from pforte.observability import log
from pforte.services import client_authentication
from pforte.services.context import Context
from pforte.services.form_endpoints import FormRequest, find_tenant, form_endpoint
from pforte.services.grants import GRANTS
from pforte.services.grants.grant import Grant, NoSigningKey, TokenRequest
from pforte.services.views import ClientView

# "Request and response parameters MUST NOT be included more than once" (§3.1), with the error
# RFC 8707 §2 names for ``resource``.
REPEATED: Repeated = {resource_indicators.PARAMETER: resource_indicators.repeated}


@form_endpoint
async def token(ctx: Context, request: FormRequest) -> dict[str, Any]:
    form = parse_form(request.content_type, request.body, REPEATED)
    grant = grant_type(form)
    tenant = await find_tenant(ctx, request.slug)
    now = ctx.clock()  # one clock reading for the whole request
    client = await client_authentication.authenticate(
        ctx, tenant, client_authentication.AuthRequest(request.authorization, form), now
    )
    grant_allowed(client, grant)
    parameters = {name: value for name, value in form.items() if name in grant.PARAMETERS}
    return await dispatch(ctx, grant, TokenRequest(tenant, client, parameters, now))


def grant_type(form: dict[str, str]) -> Grant:
    if "grant_type" not in form:
        raise InvalidRequest("grant_type is required")
    grant = GRANTS.get(form["grant_type"])
    if grant is None:
        raise UnsupportedGrantType("this server does not support that grant_type")
    return grant


def grant_allowed(client: ClientView, grant: Grant) -> None:
    """ "The authenticated client is not authorized to use this authorization grant type." (§5.2)"""
    if grant.GRANT_TYPE not in client.grant_types:
        raise UnauthorizedClient(f"this client may not use the {grant.GRANT_TYPE} grant")


async def dispatch(ctx: Context, grant: Grant, request: TokenRequest) -> dict[str, Any]:
    try:
        response = await grant.handle(ctx, request)
    except NoSigningKey:
        log.error("no_signing_key", tenant=request.tenant.slug)
        raise ServerError("no signing key") from None
    if ctx.counts is not None:
        ctx.counts.token_issued(grant.GRANT_TYPE)
    # token.issued: noted in memory, written in the next batch (``services.event_buffer``).
    tenant = request.tenant
    ctx.events.token_issued(
        tenant.id,
        tenant.slug,
        request.now,
        request.client.client_id,
        request.user_id,
        grant.GRANT_TYPE,
        response.get("scope"),
        request.jti,
    )
    return response
