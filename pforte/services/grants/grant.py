"""What every grant module exposes (oidc-provider's ``grantType`` / ``parameters`` / ``handler``):

- ``GRANT_TYPE``: the ``grant_type`` value it answers (RFC 6749 §4);
- ``PARAMETERS``: the form parameters it reads — it is handed only those;
- ``Storage``: a ``typing.Protocol`` of the narrow storage it needs, which the cache or the
  store satisfies structurally (checked by mypy where ``handle`` passes it on);
- ``handle(ctx, request)``: the token response, or an ``OAuthError``.

The token endpoint (``services.token_endpoint``) has already authenticated the client and
checked that it may use the grant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pforte.services.context import Context
from pforte.services.views import ClientView, TenantView


class NoSigningKey(Exception):
    """The tenant has no key that may sign now (every key retired or not yet active)."""


@dataclass(slots=True)  # read-only by convention: a frozen init costs ~0.4 µs a request
class TokenRequest:
    tenant: TenantView
    client: ClientView  # authenticated, and allowed this grant
    parameters: dict[str, str]  # the form's parameters that the grant declares
    now: datetime  # the request's one clock reading
    # Set by what signs the access token, for its ``token.issued`` event (``token_endpoint``).
    jti: str | None = None
    user_id: str | None = None  # when the token acts for a user


class Grant(Protocol):
    @property
    def GRANT_TYPE(self) -> str: ...  # noqa: N802 - a module constant

    @property
    def PARAMETERS(self) -> frozenset[str]: ...  # noqa: N802 - a module constant

    async def handle(self, ctx: Context, request: TokenRequest) -> dict[str, Any]: ...
