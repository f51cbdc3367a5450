"""The admin console's events page reads through the Event API's service (type filter, cursor
pages: "Older events"); the secrets tab and the guide mark the newest secret."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest

from pforte.domain.clients import ClientSpec
from pforte.domain.clock import utcnow
from pforte.services import clients as client_service
from pforte.services import credentials as credential_service
from pforte.services.bootstrap import SYSTEM_PRINCIPAL
from pforte.services.context import Context
from pforte.services.credentials import SecretRequest
from tests.web.test_admin_console import open_console, person

pytestmark = pytest.mark.anyio


async def test_the_events_page_filters_by_type_and_pages_to_older_events(
    ctx: Context, client: httpx.AsyncClient, tenant: str
) -> None:
    await open_console(client, tenant, await person(ctx, tenant, ["admin"]))
    for n in range(105):  # more than a page of client.created
        await client_service.create_client(ctx, SYSTEM_PRINCIPAL, tenant, ClientSpec(client_id=f"c{n:03}"))
    base = f"/t/{tenant}/admin/{tenant}/events"
    first = await client.get(base, params={"type": "client"})  # a prefix without its dot
    assert first.status_code == 200
    names = re.findall(r"<td><code>([a-z_.]+)</code></td>", first.text)
    assert len(names) == 100 and set(names) == {"client.created"}
    older = re.search(r'<a href="([^"]+)" rel="next">Older events</a>', first.text)
    assert older is not None
    second = await client.get(older.group(1).replace("&amp;", "&"))
    rest = re.findall(r"<td><code>([a-z_.]+)</code></td>", second.text)
    assert set(rest) == {"client.created"} and len(rest) == 105 + 2 - 100  # the consoles' two clients too
    assert 'rel="next"' not in second.text
    bad = await client.get(base, params={"cursor": "not-a-cursor"})
    assert bad.status_code == 422 and "cursor" in bad.text


async def test_the_secrets_tab_and_the_guide_mark_the_newest_secret(
    ctx: Context, client: httpx.AsyncClient, tenant: str
) -> None:
    await open_console(client, tenant, await person(ctx, tenant, ["admin"]))
    await client_service.create_client(ctx, SYSTEM_PRINCIPAL, tenant, ClientSpec(client_id="rotating"))
    later = await credential_service.create_secret(
        ctx, SYSTEM_PRINCIPAL, tenant, "rotating", SecretRequest(expiration=utcnow() + timedelta(days=30))
    )
    await credential_service.create_secret(  # newer but not valid yet: not the one to use
        ctx, SYSTEM_PRINCIPAL, tenant, "rotating", SecretRequest(start_time=utcnow() + timedelta(days=2))
    )
    app = f"/t/{tenant}/admin/{tenant}/applications/rotating"
    secrets = await client.get(f"{app}/secrets")
    assert secrets.status_code == 200
    assert secrets.text.count('badge ok">Newest') == 1
    row = next(r for r in secrets.text.split("<tr>") if "Newest" in r)
    assert later.record.value_display in row
    guide = await client.get(f"{app}/guide")
    marked = re.search(r'<p id="g-newest-secret">.*?<code>([^<]+)</code>', guide.text)
    assert marked is not None and marked.group(1) == later.record.value_display
