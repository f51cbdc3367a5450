"""What the form-posting protocol endpoints (token, introspection, revocation) share: the
request as the web layer hands it over, the answer it turns into bytes, and the steps that
come before each endpoint's own work.

Every answer is JSON with ``Cache-Control: no-store`` and ``Pragma: no-cache`` (RFC 6749 §5.1),
errors included: an error is an ``OAuthError`` (``domain.oauth.errors``) whose status, code and
headers make the reply; ``invalid_client`` after a Basic attempt adds ``WWW-Authenticate``
(§5.2). A busy database is ``temporarily_unavailable`` (503, ``Retry-After``).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pforte.domain.errors import Unavailable
from pforte.domain.ids import is_slug
from pforte.domain.oauth.errors import (
    InvalidClient,
    InvalidRequest,
    NotFound,
    OAuthError,
    TemporarilyUnavailable,
)
from pforte.domain.oauth.forms import parse_form
from pforte.services import client_authentication
from pforte.services.context import Context
from pforte.services.views import ClientView, TenantView

Headers = tuple[tuple[bytes, bytes], ...]
NO_STORE: Headers = ((b"cache-control", b"no-store"), (b"pragma", b"no-cache"))
BASIC_CHALLENGE = (b"www-authenticate", b'Basic realm="pforte", charset="UTF-8"')


@dataclass(slots=True)  # read-only by convention: a frozen init costs ~0.4 µs a request
class FormRequest:
    """A POST to ``/t/{slug}/<endpoint>``, as read off the wire."""

    slug: str
    content_type: str
    authorization: str | None
    body: bytes


@dataclass(slots=True)  # read-only by convention: a frozen init costs ~0.4 µs a request
class Reply:
    """The answer: a status, a JSON body (None: empty) and headers besides the content type."""

    status: int
    body: dict[str, Any] | None
    headers: Headers = NO_STORE


def error_reply(exc: OAuthError) -> Reply:
    extra: list[tuple[bytes, bytes]] = []
    if isinstance(exc, InvalidClient) and exc.basic:
        extra.append(BASIC_CHALLENGE)
    extra.extend(exc.headers())
    return Reply(exc.status, {"error": exc.error, "error_description": exc.description}, (*NO_STORE, *extra))


Pipeline = Callable[[Context, FormRequest], Awaitable[dict[str, Any] | None]]


def form_endpoint(pipeline: Pipeline) -> Callable[[Context, FormRequest], Awaitable[Reply]]:
    """The first step of each endpoint: whatever happens, the answer is JSON and not stored."""

    @functools.wraps(pipeline)
    async def answered(ctx: Context, request: FormRequest) -> Reply:
        try:
            return Reply(200, await pipeline(ctx, request))
        except OAuthError as exc:
            return error_reply(exc)
        except Unavailable as exc:
            return error_reply(TemporarilyUnavailable(exc.message))

    return answered


@dataclass(slots=True)  # read-only by convention: a frozen init costs ~0.4 µs a request
class TokenCall:
    """An authenticated client of the tenant naming a ``token`` (RFC 7662 §2.1, RFC 7009 §2.1)."""

    tenant: TenantView
    client: ClientView
    token: str
    now: datetime


async def token_call(ctx: Context, request: FormRequest) -> TokenCall:
    """The steps introspection and revocation share: parse the form, ``token`` required, the
    tenant, the client authenticated. ``token_type_hint`` is only a hint and is not needed to
    find a token, so it is accepted and ignored (RFC 7009 §2.1)."""
    form = parse_form(request.content_type, request.body)
    if "token" not in form:
        raise InvalidRequest("token is required")
    tenant = await find_tenant(ctx, request.slug)
    now = ctx.clock()
    client = await client_authentication.authenticate(
        ctx, tenant, client_authentication.AuthRequest(request.authorization, form), now
    )
    return TokenCall(tenant, client, form["token"], now)


async def find_tenant(ctx: Context, slug: str) -> TenantView:
    """The tenant of the issuer path, from the cache; ``not_found`` when there is none."""
    # A slug no tenant can have is unknown without a look-up (PostgreSQL refuses NUL, SQLite not).
    tenant = await ctx.cache.tenant(slug) if is_slug(slug) else None
    if tenant is None:
        raise NotFound("no such tenant")
    return tenant
