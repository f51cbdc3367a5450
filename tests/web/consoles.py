"""Signing in to a console over HTTP, as a browser does, for the console tests."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from tests.protocol.flow import PASSWORD, form_of


def local(location: str) -> str:
    """The path and query of a redirect (the app answers under PFORTE_PUBLIC_URL)."""
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def sign_in_to_console(
    http: httpx.AsyncClient, tenant: str, username: str, path: str = "/account", password: str = PASSWORD
) -> httpx.Response:
    """Open the console, sign in through the form unless the browser is signed in already
    (single sign-on: /authorize answers with the code at once), follow the callback back; the
    answer of the console's home."""
    start = await http.get(f"/t/{tenant}{path}/")
    assert start.status_code == 303, start.text
    answer = await http.get(local(start.headers["location"]))
    if answer.status_code == 200:
        action, fields = form_of(answer.text)
        fields.update(username=username, password=password)
        answer = await http.post(action, data=fields)
    assert answer.status_code == 303, answer.text
    back = await http.get(local(answer.headers["location"]))
    assert back.status_code == 303, back.text
    assert back.headers["location"] == f"/t/{tenant}{path}/"
    return await http.get(back.headers["location"])
