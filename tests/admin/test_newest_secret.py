"""After a rotation the newest secret is obvious: ``newest`` in the secrets list (one secret
at most: the latest valid one), and ``newestSecret`` in the guide."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

pytestmark = pytest.mark.anyio


async def test_the_newest_valid_secret_is_marked(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    base = f"/api/admin/v1/tenants/{tenant}/clients"
    made = await client.post(base, json={"clientId": "rotating"}, headers=admin)
    assert made.status_code == 201 and made.json()["secret"]["newest"] is True
    first = made.json()["secret"]["id"]
    rotated = await client.post(f"{base}/rotating/secrets", json={"description": "rotated"}, headers=admin)
    assert rotated.status_code == 201 and rotated.json()["newest"] is True
    ahead = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    pending = await client.post(f"{base}/rotating/secrets", json={"startTime": ahead}, headers=admin)
    assert pending.status_code == 201 and pending.json()["newest"] is False  # not valid yet
    listed = await client.get(f"{base}/rotating/secrets", headers=admin)
    flags = {s["id"]: s["newest"] for s in listed.json()["items"]}
    assert flags == {first: False, rotated.json()["id"]: True, pending.json()["id"]: False}
    guide = (await client.get(f"{base}/rotating/guide", headers=admin)).json()
    assert guide["newestSecret"] == {
        "id": rotated.json()["id"],
        "valueDisplay": rotated.json()["valueDisplay"],
        "expiration": rotated.json()["expiration"],
    }
    public = await client.post(
        base,
        json={"clientId": "spa", "requireClientSecret": False, "allowedGrantTypes": ["authorization_code"],
              "redirectUris": ["https://app.example/cb"]},
        headers=admin,
    )  # fmt: skip
    assert public.status_code == 201, public.text
    assert (await client.get(f"{base}/spa/guide", headers=admin)).json()["newestSecret"] is None
