"""The admin API's OpenAPI document: every status, problem body, limit and media type the code
enforces, declared in one place (CONVENTIONS.md §4: the document is part of the contract).

FastAPI derives operations and models from the routes; this module adds what it cannot see:

- the RFC 9457 ``Problem`` body (``application/problem+json``) for each status an operation can
  answer with, by the kind of operation (:func:`error_statuses`), replacing FastAPI's
  ``HTTPValidationError``; a route adds its own conflicts as ``responses={409: …}``;
- request bodies as ``application/json`` and any ``application/*+json`` (see ``guard.py``);
- the page size limit, which is a setting;
- ``ETag`` on GET and ``If-Match`` on PUT, PATCH and DELETE of tenants and clients.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema, models_json_schema

from pforte.web.problems import MEDIA_TYPE

PROBLEM_REF = "#/components/schemas/Problem"
OAUTH_SCHEME = "oauth2"
BODY_MEDIA_TYPES = ("application/json", "application/*+json")
# Resources whose representation carries a version: GET returns it as ETag, writes honour If-Match.
VERSIONED = frozenset({"/tenants/{tenant}", "/tenants/{tenant}/clients/{clientId}"})
_WRITES = frozenset({"put", "patch", "delete"})
_BODY_METHODS = frozenset({"post", "put", "patch"})

DESCRIPTIONS: dict[int, str] = {
    400: "The body is not valid JSON",
    401: "No credential, or one that is unknown, expired or revoked",
    403: "The credential lacks the permission, or belongs to another tenant",
    404: "No such resource",
    409: "The request conflicts with the resource's state",
    412: "If-Match names another version than the current one",
    413: "The body exceeds PFORTE_MAX_BODY_BYTES",
    415: "The body is not application/json or an application/*+json type",
    422: "A parameter or a member of the body is invalid; `errors` names each",
}


class ProblemField(BaseModel):
    field: str = Field(description="the parameter or body member at fault, e.g. `redirectUris[0]`")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(description="`urn:pforte:problem:<kind>`, e.g. `urn:pforte:problem:not-found`")
    title: str
    status: int
    # Absent rather than null when there is nothing to say.
    detail: str | SkipJsonSchema[None] = None
    request_id: str | SkipJsonSchema[None] = Field(
        None, alias="requestId", description="the X-Request-ID of the request, for the log"
    )
    errors: list[ProblemField] | SkipJsonSchema[None] = Field(
        None, description="validation errors (422 only)"
    )


def conflict(description: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` of a route that answers 409 when ``description`` happens."""
    return {409: {"description": description}}


def error_statuses(
    method: str, path: str, operation: dict[str, Any], versioned: frozenset[str] = VERSIONED
) -> set[int]:
    """The error statuses of an operation, by its kind."""
    statuses = {401, 403, 422}  # every route authenticates and validates its parameters
    if "{" in path:
        statuses.add(404)
    if method in _BODY_METHODS:  # the guard reads every such body: too large, not JSON
        statuses |= {413, 415}
    if "requestBody" in operation:
        statuses.add(400)
    if path in versioned and method in _WRITES:
        statuses.add(412)
    return statuses


def problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}}}


def _declare_errors(method: str, path: str, operation: dict[str, Any], versioned: frozenset[str]) -> None:
    responses: dict[str, Any] = operation["responses"]
    declared = {int(code) for code in responses if code.isdigit() and int(code) >= 400}
    for status in sorted(error_statuses(method, path, operation, versioned) | declared):
        given = responses.get(str(status), {})
        description = given.get("description") or DESCRIPTIONS.get(status, "Error")
        responses[str(status)] = problem_response(description)


def _declare_bodies(operation: dict[str, Any]) -> None:
    content: dict[str, Any] | None = operation.get("requestBody", {}).get("content")
    if content and "application/json" in content:
        schema = content["application/json"]
        operation["requestBody"]["content"] = {media: schema for media in BODY_MEDIA_TYPES}


def _declare_parameters(operation: dict[str, Any], *, page_size_max: int) -> None:
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "query" and parameter["name"] == "limit":
            parameter["schema"] = {
                "type": "integer",
                "minimum": 1,
                "maximum": page_size_max,
                "description": f"default {min(50, page_size_max)}",
            }
        elif parameter["in"] == "query" and parameter["name"] == "cursor":
            parameter["schema"] = {"type": "string"}


def _declare_versions(method: str, path: str, operation: dict[str, Any], versioned: frozenset[str]) -> None:
    if path not in versioned:
        return
    if method == "get":
        operation["responses"]["200"].setdefault("headers", {})["ETag"] = {
            "description": "the representation's version; send it back as If-Match",
            "schema": {"type": "string"},
        }


def _declare_oauth(document: dict[str, Any]) -> None:
    """Besides a bearer credential pasted in, the console can fetch a token itself: the client
    credentials grant at a tenant's token endpoint (``pforte-console.js`` puts the tenant's in)."""
    schemes: dict[str, Any] = document.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes[OAUTH_SCHEME] = {
        "type": "oauth2",
        "description": "client credentials at your tenant's token endpoint, `/t/{tenant}/token`",
        "flows": {"clientCredentials": {"tokenUrl": "/t/system/token", "scopes": {}}},
    }
    for item in document.get("paths", {}).values():
        for operation in item.values():
            if "security" in operation:
                operation["security"] = [*operation["security"], {OAUTH_SCHEME: []}]


def build(app: FastAPI, *, page_size_max: int, versioned: frozenset[str] = VERSIONED) -> dict[str, Any]:
    """The document of ``app``, with everything this module declares."""
    document = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        openapi_version=app.openapi_version,
        routes=app.routes,
        tags=app.openapi_tags,
        servers=app.servers,
        separate_input_output_schemas=app.separate_input_output_schemas,
    )
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            _declare_errors(method, path, operation, versioned)
            _declare_bodies(operation)
            _declare_parameters(operation, page_size_max=page_size_max)
            _declare_versions(method, path, operation, versioned)
    _declare_oauth(document)
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    _, problem = models_json_schema([(Problem, "serialization")], ref_template="#/components/schemas/{model}")
    schemas.update(problem["$defs"])
    return document


def install(app: FastAPI, *, page_size_max: int, versioned: frozenset[str] = VERSIONED) -> None:
    """Serve :func:`build`'s document, built once, at the app's ``openapi_url``."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build(app, page_size_max=page_size_max, versioned=versioned)
        return app.openapi_schema

    setattr(app, "openapi", openapi)  # noqa: B010 - FastAPI's documented way to replace the document
