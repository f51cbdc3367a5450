"""CORS for browser applications (Fetch Standard §3.2): discovery, JWKS and userinfo for the
origins some client of the tenant allows; the token endpoint only for the authenticated
client's own origins; nothing elsewhere, and nothing without an Origin header."""

from __future__ import annotations

import httpx
import pytest

from pforte.services.context import Context
from tests.conftest import make_tenant
from tests.protocol.flow import make_app

pytestmark = pytest.mark.anyio
SPA = "https://spa.example.com"
OTHER = "https://other.example.com"


async def test_public_endpoints_answer_listed_origins_only(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    await make_app(ctx, tenant, allowed_cors_origins=[SPA])
    for path in (
        f"/t/{tenant}/jwks",
        f"/t/{tenant}/.well-known/openid-configuration",
        f"/.well-known/oauth-authorization-server/t/{tenant}",
    ):
        listed = await client.get(path, headers={"Origin": SPA})
        assert listed.status_code == 200
        assert (listed.headers["access-control-allow-origin"], listed.headers["vary"]) == (SPA, "Origin")
        unlisted = await client.get(path, headers={"Origin": OTHER})
        assert "access-control-allow-origin" not in unlisted.headers
        assert "access-control-allow-origin" not in (await client.get(path)).headers
    preflight = await client.options(
        f"/t/{tenant}/userinfo",
        headers={
            "Origin": SPA,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == SPA
    assert "Authorization" in preflight.headers["access-control-allow-headers"]
    refused = await client.options(f"/t/{tenant}/userinfo", headers={"Origin": OTHER})
    assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers


async def test_the_token_endpoint_answers_only_the_clients_own_origins(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    spa = await make_app(ctx, tenant, public=True, allowed_cors_origins=[SPA])
    await make_app(ctx, tenant, allowed_cors_origins=[OTHER])  # another client lists the other origin
    preflight = await client.options(
        f"/t/{tenant}/token", headers={"Origin": SPA, "Access-Control-Request-Method": "POST"}
    )
    assert (preflight.status_code, preflight.headers["access-control-allow-methods"]) == (204, "POST")
    code, _ = await spa.code(client)
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": "https://app.example.com/cb"}
    data |= {"code_verifier": spa.verifier, "client_id": spa.client_id}
    answer = await client.post(f"/t/{tenant}/token", data=data, headers={"Origin": SPA})
    assert answer.status_code == 200, answer.text
    assert answer.headers["access-control-allow-origin"] == SPA
    # the same client called from an origin only another client lists: no CORS header
    client.cookies.clear()
    code, _ = await spa.code(client)
    data["code"] = code
    foreign = await client.post(f"/t/{tenant}/token", data=data, headers={"Origin": OTHER})
    assert foreign.status_code == 200 and "access-control-allow-origin" not in foreign.headers


async def test_other_paths_and_tenants_get_no_cors(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    await make_app(ctx, tenant, allowed_cors_origins=[SPA])
    other = await make_tenant(ctx)
    assert (
        "access-control-allow-origin"
        not in (await client.get(f"/t/{other}/jwks", headers={"Origin": SPA})).headers
    )
    page = await client.get(f"/t/{tenant}/authorize", headers={"Origin": SPA})
    assert "access-control-allow-origin" not in page.headers
    introspect = await client.options(f"/t/{tenant}/introspect", headers={"Origin": SPA})
    assert "access-control-allow-origin" not in introspect.headers
