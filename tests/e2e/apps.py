"""What the end-to-end sign-in tests set up, each through the door an operator or a browser uses:
a tenant and an application through the admin API, a user through ``pforte users create``, the
authorization URL and the sign-in form of the real HTML page, the application's back-channel
logout endpoint on loopback, and the database a pair of servers shares — with the services of
the test process on it, for what no endpoint does yet and for reading the state afterwards.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import threading
import uuid
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlencode

import httpx
from sqlalchemy import func, select
from sqlalchemy.sql import ColumnElement

from pforte.services.context import Context
from pforte.settings import Settings
from tests.conftest import throwaway_postgres
from tests.e2e.conftest import SECRET_KEY, Server, pforte_command
from tests.protocol.flow import form_of

API = "/api/admin/v1"
DATABASES = ["sqlite", "postgresql"]
T = TypeVar("T")
_CREATED = re.compile(r"Created user \S+ \((?P<id>[0-9a-f-]{36})\)")


def admin_http(server: Server) -> httpx.Client:
    """The admin API with the bootstrap API key that the first start wrote beside its SQLite
    file (or, for PostgreSQL, into its working directory)."""
    banner = server.banner()
    assert banner is not None, f"no bootstrap credentials in {server.workdir}"
    return server.http(banner.api_key)


def create_tenant(admin: httpx.Client, slug: str, display_name: str | None = None) -> None:
    body = {"slug": slug} if display_name is None else {"slug": slug, "displayName": display_name}
    created = admin.post(f"{API}/tenants", json=body)
    assert created.status_code == 201, created.text


def create_client(admin: httpx.Client, slug: str, client_id: str, **members: Any) -> str | None:
    """A client of ``slug`` with these admin API members; its first secret (None if public)."""
    created = admin.post(f"{API}/tenants/{slug}/clients", json={"clientId": client_id, **members})
    assert created.status_code == 201, created.text
    secret: dict[str, str] | None = created.json().get("secret")
    return secret["value"] if secret else None


def create_user(
    server: Server,
    slug: str,
    username: str,
    password: str,
    *,
    email: str | None = None,
    roles: tuple[str, ...] = (),
) -> uuid.UUID:
    """``pforte users create`` with the server's settings, the password on standard input."""
    options = ["--email", email] if email is not None else []
    for role in roles:
        options += ["--role", role]
    made = subprocess.run(
        [*pforte_command(), "users", "create", "--tenant", slug, "--username", username, *options],
        input=f"{password}\n{password}\n",
        env=server.env,
        cwd=server.workdir,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    found = _CREATED.search(" ".join((made.stdout + made.stderr).split()))
    assert found is not None, made.stdout + made.stderr
    return uuid.UUID(found["id"])


def authorize_url(
    base: str, slug: str, client_id: str, redirect_uri: str, challenge: str, **extra: str
) -> str:
    """The authorization request (code flow, PKCE S256) an application sends the browser to."""
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": "openid profile email",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return f"{base}/t/{slug}/authorize?{urlencode(params)}"


def filled_form(page: str, **values: str) -> tuple[str, dict[str, str]]:
    """The page's form as a browser submits it: its action, its fields with ``values`` typed in."""
    action, fields = form_of(page)
    fields.update(values)
    return action, fields


class BackChannel:
    """An application's back-channel logout endpoint on loopback: the logout tokens POSTed to it."""

    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.arrived = threading.Event()
        channel = self

        class Receiver(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                channel.tokens.append(parse_qs(self.rfile.read(length).decode())["logout_token"][0])
                channel.arrived.set()
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self._http = HTTPServer(("127.0.0.1", 0), Receiver)
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._http.server_port}/logout"

    def __enter__(self) -> BackChannel:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._http.shutdown()
        self._http.server_close()


@contextmanager
def database(kind: str, directory: Path) -> Iterator[str]:
    """The URL of an empty database of ``kind``: "sqlite", a file in ``directory`` (give the
    first server's, and the bootstrap credentials are written there); "postgresql", a
    throwaway database, dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{directory / 'shared.db'}"
    else:
        with throwaway_postgres() as url:
            yield url


def on_database(url: str, work: Callable[[Context], Coroutine[Any, Any, T]]) -> T:
    """Run ``work`` with the services of this test process on the servers' database ``url``
    (what the CLI does); the servers hear of its changes through the change feed only."""

    async def inside() -> T:
        ctx = Context.create(Settings(database_url=url, secret_key=SECRET_KEY))
        try:
            return await work(ctx)
        finally:
            await ctx.db.dispose()

    return asyncio.run(inside())


def count_rows(url: str, table: Any, *where: ColumnElement[bool]) -> int:
    """How many rows of ``table`` the database ``url`` holds that match ``where``."""

    async def count(ctx: Context) -> int:
        async with ctx.db.transaction() as session:
            return int(await session.scalar(select(func.count()).select_from(table).where(*where)) or 0)

    return on_database(url, count)
