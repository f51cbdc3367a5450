"""The interface every client authentication method implements (a module satisfies it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from pforte.services.context import Context
from pforte.services.views import ClientView, TenantView


@dataclass(slots=True)  # read-only by convention: a frozen init costs ~0.4 µs a request
class AuthRequest:
    """What a protocol request carries for client authentication."""

    authorization: str | None  # the Authorization header, if any
    form: dict[str, str]  # the parsed form body


@dataclass(slots=True)  # read-only by convention: a frozen init costs ~0.4 µs a request
class Credentials:
    client_id: str
    secret: str
    basic: bool  # presented in the Authorization header: a failure answers WWW-Authenticate


class AuthMethod(Protocol):
    @property
    def NAME(self) -> str: ...  # noqa: N802 - a module constant: the RFC 8414 method name

    @property
    def USES_AUTHORIZATION(self) -> bool: ...  # noqa: N802 - it reads the Authorization header

    def presented(self, request: AuthRequest) -> bool:
        """Does the request use this method (whether or not correctly)?"""
        ...

    def credentials(self, request: AuthRequest) -> Credentials:
        """The credentials presented; ``invalid_client`` / ``invalid_request`` when malformed."""
        ...

    async def verify(
        self, ctx: Context, tenant: TenantView, credentials: Credentials, now: datetime
    ) -> ClientView:
        """The client they authenticate, or ``invalid_client``."""
        ...
