"""The authorization code flow as a browser and a client application walk it, for the tests:
a tenant with a user and an application, the sign-in form read from the real HTML, the code
taken from the real redirect."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from pforte.domain.clients import ClientSpec
from pforte.domain.users import UserSpec
from pforte.services import clients as client_service
from pforte.services import roles as role_service
from pforte.services import users as user_service
from pforte.services.bootstrap import SYSTEM_PRINCIPAL
from pforte.services.context import Context

REDIRECT = "https://app.example.com/cb"
PASSWORD = "correct horse battery staple"
_INPUT = re.compile(r'<input[^>]*\bname="(?P<name>[^"]+)"[^>]*\bvalue="(?P<value>[^"]*)"', re.IGNORECASE)
_ACTION = re.compile(r'<form[^>]*\baction="(?P<action>[^"]+)"', re.IGNORECASE)


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def form_of(page: str) -> tuple[str, dict[str, str]]:
    """The form's action and its pre-filled fields (hidden inputs, csrf_token, username)."""
    action = _ACTION.search(page)
    assert action is not None, page[:2000]
    fields = {m["name"]: html.unescape(m["value"]) for m in _INPUT.finditer(page)}
    return html.unescape(action["action"]), fields


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@dataclass
class App:
    ctx: Context
    tenant: str
    client_id: str
    secret: str | None
    username: str
    user_id: uuid.UUID
    verifier: str = field(default="")
    challenge: str = field(default="")

    def __post_init__(self) -> None:
        self.verifier, self.challenge = pkce_pair()

    @property
    def base(self) -> str:
        return f"/t/{self.tenant}"

    def authorize_params(self, **extra: str) -> dict[str, str]:
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": REDIRECT,
            "scope": "openid profile email",
            "state": "st-" + secrets.token_hex(4),
            "nonce": "n-" + secrets.token_hex(4),
            "code_challenge": self.challenge,
            "code_challenge_method": "S256",
        }
        params.update(extra)
        return {k: v for k, v in params.items() if v != ""}

    def client_auth(self) -> tuple[str, str] | None:
        return (self.client_id, self.secret) if self.secret is not None else None

    async def sign_in(
        self,
        http: httpx.AsyncClient,
        params: dict[str, str],
        *,
        password: str = PASSWORD,
        username: str | None = None,
    ) -> httpx.Response:
        """GET /authorize, then post the sign-in form it shows; the answer to the post."""
        page = await http.get(f"{self.base}/authorize", params=params)
        assert page.status_code == 200, page.text
        action, fields = form_of(page.text)
        fields.update(username=username or self.username, password=password)
        return await http.post(action, data=fields)

    async def code(self, http: httpx.AsyncClient, **extra: str) -> tuple[str, dict[str, str]]:
        params = self.authorize_params(**extra)
        answer = await self.sign_in(http, params)
        assert answer.status_code == 303, answer.text
        got = query_of(answer.headers["location"])
        assert got["state"] == params["state"]
        return got["code"], params

    async def exchange(self, http: httpx.AsyncClient, code: str, **extra: str) -> httpx.Response:
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
        data["code_verifier"] = self.verifier
        if self.secret is None:
            data["client_id"] = self.client_id
        data.update(extra)
        data = {k: v for k, v in data.items() if v != ""}
        return await http.post(
            f"{self.base}/token", data=data, auth=self.client_auth() or httpx.USE_CLIENT_DEFAULT
        )


async def make_app(
    ctx: Context,
    tenant: str,
    *,
    public: bool = False,
    roles: list[str] | None = None,
    must_change_password: bool = False,
    **fields: Any,
) -> App:
    username = f"user-{uuid.uuid4().hex[:6]}"
    user = await user_service.create_user(
        ctx,
        SYSTEM_PRINCIPAL,
        tenant,
        UserSpec(username=username, email=f"{username}@example.com", given_name="Ada", family_name="L"),
        password=PASSWORD,
        roles=roles or [],
        must_change_password=must_change_password,
    )
    client_id = f"web-{uuid.uuid4().hex[:6]}"
    values: dict[str, Any] = {
        "client_name": "Shop",
        "require_client_secret": not public,
        "allowed_grant_types": ["authorization_code"],
        "allowed_scopes": ["openid", "profile", "email", "clients:read"],
        "redirect_uris": [REDIRECT],
        **fields,
    }
    spec = ClientSpec(client_id=client_id, **values)
    _, secret = await client_service.create_client(ctx, SYSTEM_PRINCIPAL, tenant, spec)
    return App(ctx, tenant, client_id, secret.value if secret else None, username, user.id)


async def reader_token(http: httpx.AsyncClient, ctx: Context, tenant: str, *, also: str) -> str:
    """A password-grant access token of a user whose one role ``reader`` holds ``users:read``,
    asked for ``users:read`` and ``also`` by a client allowed both: it carries ``users:read`` only
    (DESIGN.md §6: a user's token holds what their roles hold)."""
    await role_service.create_role(
        ctx, SYSTEM_PRINCIPAL, tenant, name="reader", description=None, permissions=["users:read"]
    )
    app = await make_app(
        ctx,
        tenant,
        allowed_grant_types=["password"],
        allow_ropc=True,
        allowed_scopes=["openid", "users:read", also],
    )
    await user_service.add_role(ctx, SYSTEM_PRINCIPAL, tenant, app.username, "reader")
    grant = await http.post(
        f"/t/{tenant}/token",
        data={
            "grant_type": "password",
            "username": app.username,
            "password": PASSWORD,
            "scope": f"users:read {also}",
        },
        auth=(app.client_id, app.secret or ""),
    )
    assert grant.status_code == 200, grant.text
    assert grant.json()["scope"] == "users:read"
    token: str = grant.json()["access_token"]
    return token
