"""Below a tenant's issuer (``/t/…``) every error is the protocol family's JSON
(``{"error", "error_description"}``, ``Cache-Control: no-store``), never problem+json or plain
text; the admin API keeps RFC 9457 problem+json (CONVENTIONS §2.4, docs/architecture.md)."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import assert_problem

pytestmark = pytest.mark.anyio


def assert_protocol_error(response: httpx.Response, status: int, error: str) -> dict[str, str]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == error
    return body


@pytest.mark.parametrize("path", ["/t/system/nothing-here", "/t/system/token/more", "/t/no-such/x/y"])
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
async def test_an_unknown_path_under_an_issuer_is_a_protocol_404(
    client: httpx.AsyncClient, path: str, method: str
) -> None:
    body = assert_protocol_error(await client.request(method, path), 404, "not_found")
    assert body["error_description"] == "no such endpoint"


@pytest.mark.parametrize(
    ("path", "method", "allow"),
    [
        ("/t/system/token", "GET", "POST"),
        ("/t/system/introspect", "PUT", "POST"),
        ("/t/system/revoke", "DELETE", "POST"),
        ("/t/system/jwks", "POST", "GET, HEAD"),
        ("/t/system/.well-known/openid-configuration", "DELETE", "GET, HEAD"),
    ],
)
async def test_a_method_the_endpoint_does_not_take_is_a_protocol_405(
    client: httpx.AsyncClient, path: str, method: str, allow: str
) -> None:
    response = await client.request(method, path)
    body = assert_protocol_error(response, 405, "invalid_request")
    assert response.headers["allow"] == allow
    assert body["error_description"] == f"this endpoint accepts {allow} only"


async def test_the_admin_api_and_other_paths_keep_problem_json(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/no/such/path"), 404, "not-found")
    assert_problem(await client.get("/api/admin/v1/no-such-route"), 404, "not-found")
