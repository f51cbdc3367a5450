"""The OpenAPI document is the API (CONVENTIONS.md §4): schemathesis runs every check against a
real ``pforte serve`` on SQLite and on PostgreSQL, with a fixed seed and a bounded number of
examples, and any finding fails the test with its reproduction.

The run authenticates with the bootstrap API key (``tenants:admin``). It cannot lock itself out:
the server refuses (409) to remove the last principal holding ``tenants:admin``, and the test
checks afterwards that the key still works.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema

from pforte.domain.apis import ADMIN, EVENTS, METRICS, USERS, Api
from pforte.domain.clients import GRANT_TYPES
from pforte.domain.ids import CLIENT_ID_PATTERN, TENANT_REF_PATTERN
from pforte.settings import Settings
from pforte.web.admin.app import PREFIX
from tests.conftest import assert_problem, throwaway_postgres
from tests.e2e.conftest import Server, Servers, base_env

SEED = 20250
MAX_EXAMPLES = 8

# Statuses a schema-valid request may get besides 2xx. 412: a syntactically valid If-Match that is
# not the current version; 413: the body limit (PFORTE_MAX_BODY_BYTES) is no JSON Schema keyword.
ACCEPTED = ["2xx", "401", "403", "404", "409", "412", "413"]
# ...and where the server's rules go beyond what JSON Schema can say, 422 as well: a cursor is
# valid only if this server issued it; a client's settings depend on each other (a public client
# has no client_credentials; the password grant needs allowRopc; redirect URIs are absolute
# https or loopback http; a permission must be in the catalogue); a secret's or key's expiration
# depends on the clock; an API key's scopes must be among its client's permissions.
SEMANTIC_422 = [
    *(f"GET {path}" for path in ("/tenants", "/tenants/{tenant}/clients")),
    *(f"GET /tenants/{{tenant}}/clients/{{clientId}}/{sub}" for sub in ("secrets", "api-keys")),
    "POST /tenants/{tenant}/clients",
    "PUT /tenants/{tenant}/clients/{clientId}",
    "PATCH /tenants/{tenant}/clients/{clientId}",
    "POST /tenants/{tenant}/clients/{clientId}/secrets",
    "POST /tenants/{tenant}/clients/{clientId}/api-keys",
    # a role's permissions must be in the catalogue
    "POST /tenants/{tenant}/roles",
    "PATCH /tenants/{tenant}/roles/{name}",
    # the User API: its cursors, a date-time's zone, a username or e-mail no pattern can fully say
    # (case-folded lengths), a password of only NULs
    "GET /tenants/{tenant}/users",
    "POST /tenants/{tenant}/users",
    "PATCH /tenants/{tenant}/users/{userId}",
    "PUT /tenants/{tenant}/users/{userId}/password",
    # the Event and Metric APIs: cursors, a date-time's zone, type and client id patterns over
    # comma lists, a day range longer than a year or reversed
    "GET /tenants/{tenant}/events",
    "GET /tenants/{tenant}/daily",
]
# Statuses a schema-violating request may get: schemathesis' defaults plus 412 and 413.
REJECTED = ["400", "401", "403", "404", "405", "406", "409", "412", "413", "415", "422", "428", "429"]


def config(api_key: str) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "headers": {"Authorization": f"Bearer {api_key}"},
            "generation": {"max-examples": MAX_EXAMPLES, "database": "none", "deterministic": True},
            "checks": {
                "enabled": True,
                "positive_data_acceptance": {"expected-statuses": ACCEPTED},
                "negative_data_rejection": {"expected-statuses": REJECTED},
            },
            "operations": [
                {
                    "include-name": name,
                    "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "422"]}},
                }
                for name in SEMANTIC_422
            ],
        }
    )


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    title: str
    operation: str
    message: str
    reproduction: str

    def __str__(self) -> str:
        return f"{self.code} {self.title} — {self.operation}\n{self.message}\n{self.reproduction}"


def run_schemathesis(server: Server, api_key: str, prefix: str = PREFIX) -> list[Finding]:
    """Every distinct finding of one schemathesis run against the API at ``prefix`` of ``server``."""
    schema = schemathesis.openapi.from_url(f"{server.url}{prefix}/openapi.json", config=config(api_key))
    findings: dict[tuple[str, str, str], Finding] = {}
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.failure_info is None:
                        continue
                    failure = check.failure_info.failure
                    response = event.recorder.find_response(case_id=failure.case_id or "")
                    answer = (
                        ""
                        if response is None
                        else f"[{response.status_code}] {response.text_lossy()[:500]}\n"
                    )
                    key = (failure.code, failure.operation or "", failure.title)
                    findings.setdefault(
                        key,
                        Finding(
                            failure.code,
                            failure.title,
                            failure.operation or "",
                            failure.message,
                            answer + check.failure_info.code_sample,
                        ),
                    )
        elif isinstance(event, events.NonFatalError | events.FatalError):
            text = str(getattr(event, "value", None) or getattr(event, "exception", ""))
            findings.setdefault(("error", text, ""), Finding("error", "run error", "", text, ""))
        elif isinstance(event, events.EngineFinished):
            for failure in event.failures:
                key = (failure.code, failure.operation or "", failure.title)
                findings.setdefault(
                    key, Finding(failure.code, failure.title, failure.operation or "", failure.message, "")
                )
    return sorted(findings.values(), key=lambda f: (f.operation, f.code, f.title))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """A fresh ``pforte serve`` on an empty database of the parameter's kind."""
    with ExitStack() as stack:
        pool = Servers(tmp_path)
        stack.callback(pool.stop_all)
        workdir = pool.workdir()
        env = base_env(workdir)
        if request.param == "postgresql":
            env["PFORTE_DATABASE_URL"] = stack.enter_context(throwaway_postgres())
        server = pool.start(workdir, env)
        yield server
        # The server holds PostgreSQL connections: stop it before its database is dropped.
        pool.stop_all()


@pytest.mark.e2e
@pytest.mark.parametrize("api", [ADMIN, USERS, EVENTS, METRICS], ids=lambda api: api.name)
def test_the_document_matches_the_api(served: Server, api: Api) -> None:
    banner = served.banner()
    assert banner is not None, served.stdout()
    with served.http(banner.api_key) as http:
        system = http.get(f"{PREFIX}/tenants/system")
        assert system.status_code == 200, system.text
        if api is USERS:  # something to find: users of the system tenant
            for name in ("ada", "Grace"):
                made = http.post(
                    f"{api.prefix}/tenants/system/users", json={"username": name, "password": "x" * 12}
                )
                assert made.status_code == 201, made.text
        if api in (EVENTS, METRICS):  # something to find: tokens issued and a failed authentication
            for secret in (banner.client_secret, banner.client_secret, "pfs_wrong"):
                http.post(
                    "/t/system/token",
                    data={"grant_type": "client_credentials"},
                    auth=(banner.client_id, secret),
                )
            time.sleep(1.5)  # written in the next batch
    findings = run_schemathesis(served, banner.api_key, api.prefix)
    with served.http(banner.api_key) as http:  # the run did not lock itself out
        assert http.get(f"{PREFIX}/tenants/system").status_code == 200
    report = "\n\n".join(str(f) for f in findings)
    assert not findings, f"{len(findings)} findings by schemathesis (seed {SEED}):\n\n{report}"


PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def parameter(operation: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(p for p in operation["parameters"] if p["name"] == name)
    return found


@pytest.mark.anyio
async def test_the_document_declares_statuses_limits_patterns_and_media_types(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    response = await client.get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200
    document = response.json()
    paths = document["paths"]
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert schemas["Problem"]["required"] == ["type", "title", "status"]
    for item in paths.values():
        for operation in item.values():
            errors = {code: r for code, r in operation["responses"].items() if int(code) >= 400}
            assert {"401", "403", "422"} <= set(errors)
            assert all(r["content"] == PROBLEM for r in errors.values())
            if "requestBody" in operation:
                assert set(operation["requestBody"]["content"]) == {"application/json", "application/*+json"}

    assert set(paths["/tenants"]["get"]["responses"]) == {"200", "401", "403", "422"}
    client_path = paths["/tenants/{tenant}/clients/{clientId}"]
    assert set(client_path["put"]["responses"]) == {
        *("200", "400", "401", "403", "404", "409", "412", "413", "415", "422")
    }
    assert set(client_path["delete"]["responses"]) == {"204", "401", "403", "404", "409", "412", "422"}
    assert parameter(client_path["patch"], "If-Match")["required"] is False
    assert "ETag" in client_path["get"]["responses"]["200"]["headers"]
    assert "ETag" in paths["/tenants/{tenant}"]["get"]["responses"]["200"]["headers"]
    assert parameter(client_path["get"], "clientId")["schema"]["pattern"] == CLIENT_ID_PATTERN
    assert parameter(client_path["get"], "tenant")["schema"]["pattern"] == TENANT_REF_PATTERN
    limit = parameter(paths["/tenants/{tenant}/clients"]["get"], "limit")["schema"]
    assert (limit["minimum"], limit["maximum"]) == (1, settings.page_size_max)
    grants = schemas["ClientCreate"]["properties"]["allowedGrantTypes"]["items"]
    assert grants["enum"] == list(GRANT_TYPES)


@pytest.mark.anyio
async def test_created_by_is_declared_read_only_and_never_accepted(client: httpx.AsyncClient) -> None:
    """A secret's or API key's ``createdBy`` (DESIGN.md §4): always present, a string or null,
    read-only; no request body declares it."""
    schemas = (await client.get(f"{PREFIX}/openapi.json")).json()["components"]["schemas"]
    for shown in ("SecretPublic", "SecretCreated", "ApiKeyPublic", "ApiKeyCreated"):
        created_by = schemas[shown]["properties"]["createdBy"]
        assert created_by["anyOf"] == [{"type": "string"}, {"type": "null"}], shown
        assert created_by["readOnly"] is True
        assert "createdBy" in schemas[shown]["required"]
    for accepted in ("SecretCreate", "ApiKeyCreate"):
        assert "createdBy" not in schemas[accepted]["properties"]
        assert schemas[accepted]["additionalProperties"] is False


@pytest.mark.anyio
async def test_405_names_every_method_of_the_path(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.request("OPTIONS", f"{PREFIX}/tenants/system/clients/x", headers=admin)
    assert_problem(response, 405, "method-not-allowed")
    assert response.headers["allow"] == "DELETE, GET, PATCH, PUT"
