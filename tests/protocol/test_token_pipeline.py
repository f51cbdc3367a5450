"""The token endpoint's pipeline (services/token_endpoint.py) as a grant author sees it: a grant
module registered in ``GRANTS`` is dispatched to after the client authenticated and was found
allowed, with exactly the parameters it declares; discovery advertises the registries."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pforte.domain.clients import AUTHORIZATION_CODE, CLIENT_CREDENTIALS, REFRESH_TOKEN, TOKEN_EXCHANGE
from pforte.domain.oauth.errors import InvalidGrant
from pforte.services import client_authentication
from pforte.services.context import Context
from pforte.services.grants import GRANTS, client_credentials
from pforte.services.grants.grant import NoSigningKey, TokenRequest
from tests.protocol.oauth import Scene, assert_json, assert_oauth_error, unchanged

pytestmark = pytest.mark.anyio


class Recorder:
    """A grant module's surface, recording what it was handed."""

    GRANT_TYPE = CLIENT_CREDENTIALS
    PARAMETERS = frozenset({"scope", "extra"})

    def __init__(self, outcome: Exception | None = None) -> None:
        self.calls: list[TokenRequest] = []
        self.outcome = outcome

    async def handle(self, ctx: Context, request: TokenRequest) -> dict[str, Any]:
        self.calls.append(request)
        if self.outcome is not None:
            raise self.outcome
        return {"access_token": "recorded", "token_type": "Bearer", "expires_in": 1}


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    grant = Recorder()
    monkeypatch.setitem(GRANTS, CLIENT_CREDENTIALS, grant)  # type: ignore[arg-type]
    return grant


@pytest.mark.parametrize("auth", ["basic", "post"])
async def test_the_grant_gets_the_authenticated_client_and_only_its_parameters(
    scene: Scene, recorder: Recorder, auth: str
) -> None:
    form = {"grant_type": CLIENT_CREDENTIALS, "scope": "events:read", "extra": "x", "other": "y"}
    response = await scene.svc.post("token", form, auth=auth)
    assert assert_json(response, 200) == {"access_token": "recorded", "token_type": "Bearer", "expires_in": 1}
    [call] = recorder.calls
    assert call.parameters == {"scope": "events:read", "extra": "x"}
    assert call.client.client_id == "svc" and call.tenant.slug == scene.svc.tenant


async def test_a_client_that_fails_authentication_never_reaches_the_grant(
    scene: Scene, recorder: Recorder
) -> None:
    wrong = scene.svc.__class__(scene.svc.http, scene.svc.tenant, "svc", scene.rs.secret)
    async with unchanged(scene.ctx):
        assert_oauth_error(
            await wrong.post("token", {"grant_type": CLIENT_CREDENTIALS}), 401, "invalid_client"
        )
    assert recorder.calls == []


async def test_an_oauth_error_of_the_grant_is_its_answer(scene: Scene, recorder: Recorder) -> None:
    recorder.outcome = InvalidGrant("the grant says no")
    response = await scene.svc.post("token", {"grant_type": CLIENT_CREDENTIALS})
    assert assert_oauth_error(response, 400, "invalid_grant") == "the grant says no"


async def test_a_tenant_without_a_signing_key_is_a_server_error(scene: Scene, recorder: Recorder) -> None:
    recorder.outcome = NoSigningKey(scene.svc.tenant)
    response = await scene.svc.post("token", {"grant_type": CLIENT_CREDENTIALS})
    assert assert_oauth_error(response, 500, "server_error") == "no signing key"


async def test_discovery_advertises_the_registries(client: httpx.AsyncClient, tenant: str) -> None:
    document = (await client.get(f"/t/{tenant}/.well-known/openid-configuration")).json()
    assert list(GRANTS) == [CLIENT_CREDENTIALS, AUTHORIZATION_CODE, REFRESH_TOKEN, "password", TOKEN_EXCHANGE]
    # the password grant is implemented for legacy clients but never advertised (RFC 9700 §2.4)
    advertised = [CLIENT_CREDENTIALS, AUTHORIZATION_CODE, REFRESH_TOKEN, TOKEN_EXCHANGE]
    assert document["grant_types_supported"] == advertised
    names = list(client_authentication.NAMES)
    assert names == ["client_secret_basic", "client_secret_post", "none"]
    for endpoint in ("token", "revocation"):
        assert document[f"{endpoint}_endpoint_auth_methods_supported"] == names
    assert document["introspection_endpoint_auth_methods_supported"] == names[:2]


def test_every_grant_and_method_exposes_the_interface() -> None:
    for grant in GRANTS.values():
        assert isinstance(grant.GRANT_TYPE, str) and isinstance(grant.PARAMETERS, frozenset)
        assert "grant_type" not in grant.PARAMETERS  # the pipeline reads it, the grant never does
    assert {"scope", "resource"} == client_credentials.PARAMETERS
    for method in client_authentication.METHODS:
        assert method.NAME in {"client_secret_basic", "client_secret_post", "none"}
