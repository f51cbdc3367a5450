"""RFC 9457 problem+json for every admin API error; request guard (415, 413, slashes)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from pforte.services.context import Context
from tests.conftest import assert_problem, snapshot

pytestmark = pytest.mark.anyio


async def test_malformed_json_is_400_and_changes_nothing(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    before = await snapshot(ctx)
    response = await client.post(
        f"/api/admin/v1/tenants/{tenant}/clients",
        content=b'{"clientId": "app",',
        headers={**admin, "Content-Type": "application/json"},
    )
    assert_problem(response, 400, "malformed-json")
    assert await snapshot(ctx) == before


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", ""]
)
async def test_non_json_body_is_415(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str, content_type: str
) -> None:
    before = await snapshot(ctx)
    headers = {**admin, "Content-Type": content_type} if content_type else admin
    response = await client.post(
        f"/api/admin/v1/tenants/{tenant}/clients", content=b'{"clientId": "app"}', headers=headers
    )
    assert_problem(response, 415, "unsupported-media-type")
    assert await snapshot(ctx) == before


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "application/json-patch+json",
        "application/merge-patch+json",
    ],
)
async def test_json_media_types_are_accepted(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str, content_type: str
) -> None:
    response = await client.post(
        f"/api/admin/v1/tenants/{tenant}/clients",
        content=b'{"clientId": "app"}',
        headers={**admin, "Content-Type": content_type},
    )
    assert response.status_code == 201


async def test_oversized_body_is_413_by_content_length(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    before = await snapshot(ctx)
    big = b'{"clientId": "app", "description": "' + b"x" * (ctx.settings.max_body_bytes + 10) + b'"}'
    response = await client.post(
        f"/api/admin/v1/tenants/{tenant}/clients",
        content=big,
        headers={**admin, "Content-Type": "application/json"},
    )
    assert_problem(response, 413, "payload-too-large")
    assert await snapshot(ctx) == before


async def test_oversized_streamed_body_is_413(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    """Without Content-Length (chunked), the limit holds while the body is read."""
    before = await snapshot(ctx)

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"clientId": "app", "description": "'
        for _ in range(ctx.settings.max_body_bytes // 1024 + 2):
            yield b"x" * 1024
        yield b'"}'

    response = await client.post(
        f"/api/admin/v1/tenants/{tenant}/clients",
        content=chunks(),
        headers={**admin, "Content-Type": "application/json"},
    )
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "payload-too-large")
    assert await snapshot(ctx) == before


@pytest.mark.parametrize(
    "path", ["/api/admin/v1/nothing-here", "/api/admin/v1/tenants/system/clients/x/y/z", "/api/admin/v1"]
)
async def test_unknown_route_is_404_problem(
    client: httpx.AsyncClient, admin: dict[str, str], path: str
) -> None:
    body = assert_problem(await client.get(path, headers=admin), 404, "not-found")
    assert body["detail"] == "no such resource"


async def test_wrong_method_is_405_problem(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.put("/api/admin/v1/tenants", json={}, headers=admin)
    assert_problem(response, 405, "method-not-allowed")


async def test_trailing_slash_is_the_same_resource_without_redirect(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    created = await client.post(
        f"/api/admin/v1/tenants/{tenant}/clients/", json={"clientId": "slashed"}, headers=admin
    )
    assert created.status_code == 201
    with_slash = await client.get(f"/api/admin/v1/tenants/{tenant}/clients/slashed/", headers=admin)
    without = await client.get(f"/api/admin/v1/tenants/{tenant}/clients/slashed", headers=admin)
    assert with_slash.status_code == without.status_code == 200
    assert with_slash.json() == without.json()
    listed = await client.get(f"/api/admin/v1/tenants/{tenant}/clients/", headers=admin)
    assert listed.status_code == 200
    assert "slashed" in [c["clientId"] for c in listed.json()["items"]]


async def test_request_id_is_echoed_when_well_formed(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.get("/api/admin/v1/tenants", headers={**admin, "X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    forged = await client.get(
        "/api/admin/v1/tenants", headers={**admin, "X-Request-ID": "bad id\twith spaces"}
    )
    assert forged.headers["x-request-id"] != "bad id\twith spaces"
    assert len(forged.headers["x-request-id"]) == 32


async def test_openapi_document_and_console_are_served_from_the_package(client: httpx.AsyncClient) -> None:
    spec = await client.get("/api/admin/v1/openapi.json")
    assert spec.status_code == 200
    paths = spec.json()["paths"]
    for path in (
        "/tenants",
        "/tenants/{tenant}",
        "/tenants/{tenant}/clients",
        "/tenants/{tenant}/clients/{clientId}",
        "/tenants/{tenant}/clients/{clientId}/secrets",
        "/tenants/{tenant}/clients/{clientId}/secrets/{secretId}",
        "/tenants/{tenant}/clients/{clientId}/api-keys",
        "/tenants/{tenant}/clients/{clientId}/api-keys/{keyId}",
        "/tenants/{tenant}/clients/{clientId}/guide",
        "/tenants/{tenant}/permissions",
    ):
        assert path in paths, path
    assert "bearer" in spec.json()["components"]["securitySchemes"]
    docs = await client.get("/api/admin/v1/docs")
    assert docs.status_code == 307
    assert docs.headers["location"] == "/api/docs?urls.primaryName=admin/v1"
    console = await client.get("/api/docs")
    assert console.status_code == 200
    assert "/static/swagger-ui/swagger-ui-bundle.js" in console.text
    assert "cdn" not in console.text.lower()
    asset = await client.get("/static/swagger-ui/swagger-ui-bundle.js")
    assert asset.status_code == 200
    assert len(asset.content) > 100_000


async def test_health(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
