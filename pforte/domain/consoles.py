"""The consoles' own clients (DESIGN.md §6 and §8): every tenant has them, created with it.

A console is an application of its tenant like any other: a person signs in to it through the
tenant's ``/authorize`` with the authorization code flow and PKCE, as the public client named
here. Their redirect URIs follow ``PFORTE_PUBLIC_URL``, so the server sets them itself (at
tenant creation and at every start); an administrator may change the rest (``restrictToRole``,
``requireConsent``, lifetimes) but cannot delete them or create another client under their ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from pforte.domain.clients import AUTHORIZATION_CODE, ClientSpec


@dataclass(frozen=True, slots=True)
class Console:
    client_id: str
    name: str
    description: str
    path: str  # below the issuer: "/account"

    def home(self, issuer: str) -> str:
        return f"{issuer}{self.path}/"

    def callback(self, issuer: str) -> str:
        return f"{issuer}{self.path}/callback"


ACCOUNT: Final = Console(
    client_id="pforte-account-console",
    name="Account console",
    description="Built in: where people see and withdraw what they granted applications.",
    path="/account",
)
ADMIN: Final = Console(
    client_id="pforte-admin-console",
    name="Admin console",
    description="Built in: the administrators' web console.",
    path="/admin",
)
CONSOLES: Final = (ACCOUNT, ADMIN)
BUILTIN_CLIENT_IDS: Final = frozenset(c.client_id for c in CONSOLES)

# What the server keeps as it sets it, whatever an administrator sent.
MANAGED_FIELDS: Final = (
    "require_client_secret",
    "allowed_grant_types",
    "redirect_uris",
    "allow_redirect_uri_prefix",
    "post_logout_redirect_uris",
    "allow_offline_access",
    "allow_no_pkce",
    "allow_ropc",
    "back_channel_logout_uri",
    "show_in_account_console",
)


def console_spec(console: Console, issuer: str) -> ClientSpec:
    """The console's client at the tenant whose issuer is ``issuer``."""
    return ClientSpec(
        client_id=console.client_id,
        client_name=console.name,
        description=console.description,
        require_client_secret=False,
        allowed_grant_types=[AUTHORIZATION_CODE],
        allowed_scopes=["openid", "profile", "email"],
        redirect_uris=[console.callback(issuer)],
        post_logout_redirect_uris=[console.home(issuer)],
        access_token_lifetime=300,
    )
