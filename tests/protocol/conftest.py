"""Fixtures of the protocol tests."""

from __future__ import annotations

import httpx
import pytest

from pforte.services.context import Context
from tests.protocol.oauth import Scene, register


@pytest.fixture
async def scene(client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str) -> Scene:
    return Scene(
        ctx, admin, await register(client, admin, tenant), await register(client, admin, tenant, "rs")
    )
