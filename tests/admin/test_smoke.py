from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.anyio


async def test_operator_lists_tenants(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.get("/api/admin/v1/tenants", headers=admin)
    assert response.status_code == 200
    assert "system" in [t["slug"] for t in response.json()["items"]]
