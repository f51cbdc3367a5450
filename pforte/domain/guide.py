"""The configuration guide of a client: where its tokens come from and how to get one.

The secret appears only as the placeholder ``<CLIENT_SECRET>``, never as a value.
"""

from __future__ import annotations

from dataclasses import dataclass

from pforte.domain import apis
from pforte.domain.clients import CLIENT_CREDENTIALS, ClientSpec
from pforte.domain.credentials import SecretRecord
from pforte.domain.permissions import BY_NAME, Permission

SECRET_PLACEHOLDER = "<CLIENT_SECRET>"


# A first call per API, to try with the token the snippets fetch (``{base}``: the tenant's part).
FIRST_CALLS = {
    apis.ADMIN.name: "/clients",
    apis.USERS.name: "/users?limit=10",
    apis.EVENTS.name: "/events?limit=10",
    apis.METRICS.name: "/daily",
}


@dataclass(frozen=True, slots=True)
class GuideApi:
    """One API the client's permissions open: its console, pre-filled, and a first call."""

    name: str
    title: str
    base: str  # the tenant's part of the API
    console: str  # /api/docs with the API selected and the client's sign-in pre-filled
    curl: str


@dataclass(frozen=True, slots=True)
class Guide:
    tenant: str
    issuer: str
    discovery_url: str
    token_url: str
    jwks_uri: str
    client_id: str
    client_type: str
    token_endpoint_auth_methods: list[str]
    grant_types: list[str]
    permissions: list[Permission]
    scopes: list[str]
    api_console: str
    admin_api_base: str
    curl: str
    python: str
    apis: list[GuideApi]
    # The client's newest unexpired secret: the one to use after a rotation.
    newest_secret: SecretRecord | None = None


def build_guide(
    *, public_url: str, tenant_slug: str, spec: ClientSpec, newest_secret: SecretRecord | None = None
) -> Guide:
    issuer = f"{public_url}/t/{tenant_slug}"
    token_url = f"{issuer}/token"
    scope = " ".join(spec.allowed_scopes)
    methods = ["none"] if spec.is_public else ["client_secret_basic", "client_secret_post"]
    if CLIENT_CREDENTIALS in spec.allowed_grant_types:
        curl, python = _client_credentials_snippets(token_url, spec.client_id, scope)
    else:
        curl, python = _authorization_code_snippets(issuer, spec, scope)
    return Guide(
        tenant=tenant_slug,
        issuer=issuer,
        discovery_url=f"{issuer}/.well-known/openid-configuration",
        token_url=token_url,
        jwks_uri=f"{issuer}/jwks",
        client_id=spec.client_id,
        client_type="public" if spec.is_public else "confidential",
        token_endpoint_auth_methods=methods,
        grant_types=list(spec.allowed_grant_types),
        permissions=[BY_NAME[s] for s in spec.allowed_scopes if s in BY_NAME],
        scopes=list(spec.allowed_scopes),
        api_console=f"{public_url}{apis.CONSOLE_PATH}",
        admin_api_base=f"{public_url}{apis.ADMIN.prefix}/tenants/{tenant_slug}",
        curl=curl,
        python=python,
        apis=_apis(public_url, tenant_slug, spec, token_url) if not spec.is_public else [],
        newest_secret=newest_secret,
    )


def _apis(public_url: str, tenant_slug: str, spec: ClientSpec, token_url: str) -> list[GuideApi]:
    """The APIs the client's permissions open (a public client calls none by itself)."""
    opened = []
    for api in apis.opened_by(spec.allowed_scopes):
        base = f"{public_url}{api.prefix}/tenants/{tenant_slug}"
        call = f"{base}{FIRST_CALLS[api.name]}"
        opened.append(
            GuideApi(
                name=api.name,
                title=api.title,
                base=base,
                console=apis.console_link(public_url, api, client_id=spec.client_id, token_url=token_url),
                curl=f"curl -s '{call}' \\\n  -H \"Authorization: Bearer $ACCESS_TOKEN\"",
            )
        )
    return opened


def _client_credentials_snippets(token_url: str, client_id: str, scope: str) -> tuple[str, str]:
    scope_arg = f" \\\n  -d scope='{scope}'" if scope else ""
    curl = (
        f"curl -s -X POST '{token_url}' \\\n"
        f"  -u '{client_id}:{SECRET_PLACEHOLDER}' \\\n"
        f"  -d grant_type=client_credentials{scope_arg}"
    )
    data = '{"grant_type": "client_credentials"' + (f', "scope": "{scope}"' if scope else "") + "}"
    python = (
        "import httpx\n\n"
        "response = httpx.post(\n"
        f'    "{token_url}",\n'
        f'    auth=("{client_id}", "{SECRET_PLACEHOLDER}"),  # read the secret from your secret store\n'
        f"    data={data},\n"
        ")\n"
        "response.raise_for_status()\n"
        'access_token = response.json()["access_token"]\n'
    )
    return curl, python


def _authorization_code_snippets(issuer: str, spec: ClientSpec, scope: str) -> tuple[str, str]:
    redirect = spec.redirect_uris[0] if spec.redirect_uris else "<REDIRECT_URI>"
    curl = (
        "# sign-in runs in the browser; discovery tells your library every endpoint:\n"
        f"curl -s '{issuer}/.well-known/openid-configuration'"
    )
    secret_arg = "" if spec.is_public else f', client_secret="{SECRET_PLACEHOLDER}"'
    python = (
        "from authlib.integrations.requests_client import OAuth2Session\n"
        "from authlib.common.security import generate_token\n\n"
        f'client = OAuth2Session("{spec.client_id}"{secret_arg}, scope="{scope or "openid"}",\n'
        f'                       redirect_uri="{redirect}", code_challenge_method="S256")\n'
        "verifier = generate_token(48)\n"
        f'url, state = client.create_authorization_url("{issuer}/authorize", code_verifier=verifier)\n'
        "# send the user to url; on return:\n"
        f'# token = client.fetch_token("{issuer}/token",\n'
        "#                            authorization_response=..., code_verifier=verifier)\n"
    )
    return curl, python
