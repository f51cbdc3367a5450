"""The client page's tabs besides its settings: secrets, API keys, the configuration guide and
the activity. The credential tabs (DESIGN.md §4, issue "web consoles"): client secrets
(several, for rotation without downtime) and API keys (awork's "API-Key verwalten").

    GET  …/applications/{clientId}/secrets              the list and the "new secret" form
    POST …/applications/{clientId}/secrets              create: the value, shown once
    POST …/applications/{clientId}/secrets/revoke       ``credential``: confirm, then revoke
    GET  …/applications/{clientId}/api-keys             likewise for API keys
    POST …/applications/{clientId}/api-keys
    POST …/applications/{clientId}/api-keys/revoke

Dates are entered as calendar days in UTC (``<input type="date">``); the service applies the
rules (1 day to 3 years, at most 10 live secrets, a key's scopes within the client's).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from pforte.domain.credentials import newest_secret
from pforte.domain.errors import DomainError, Invalid
from pforte.domain.permissions import BY_NAME, is_permission
from pforte.services import clients as client_service
from pforte.services import credentials as credential_service
from pforte.services import guide as guide_service
from pforte.services import roles as role_service
from pforte.services.context import Context
from pforte.web.consoles import admin, common
from pforte.web.consoles.render import translate

KINDS = ("secrets", "api-keys")


@dataclass(frozen=True, slots=True)
class Shown:
    """One row of a credential list, with what the page says of its validity."""

    id: str
    label: str  # the description or name
    value_display: str
    created_at: datetime
    created_by: str | None
    last_used_at: datetime | None
    start_time: datetime | None
    expiration: datetime | None
    scopes: list[str]
    state: str  # "valid", "expired", "pending" (not yet valid)
    days_left: int | None
    newest: bool


def _rows(items: list[Any], kind: str, now: datetime) -> list[Shown]:
    newest = newest_secret(items, now) if kind == "secrets" else None
    shown = []
    for item in items:
        start = getattr(item, "start_time", None)
        expiration = item.expiration
        if expiration is not None and expiration <= now:
            state = "expired"
        elif start is not None and start > now:
            state = "pending"
        else:
            state = "valid"
        days = (expiration - now).days if expiration is not None and state != "expired" else None
        shown.append(
            Shown(
                id=str(item.id),
                label=(item.description if kind == "secrets" else item.name) or "",
                value_display=item.value_display,
                created_at=item.created_at,
                created_by=getattr(item, "created_by", None),
                last_used_at=item.last_used_at,
                start_time=start,
                expiration=expiration,
                scopes=list(getattr(item, "scopes", [])),
                state=state,
                days_left=days,
                newest=newest is not None and item.id == newest.id,
            )
        )
    return shown


def _day(raw: str, field: str) -> datetime | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return datetime.combine(date.fromisoformat(raw), time(0), tzinfo=UTC)
    except ValueError:
        raise Invalid(field, "must be a date (YYYY-MM-DD)") from None


async def page(request: Request) -> Response:
    """GET a tab; POST a new credential (its value shown once)."""
    ctx: Context = request.app.state.ctx
    found = await admin.managed_person(request, ctx)
    if isinstance(found, Response):
        return found
    person, managed = found
    kind, client_id = request.path_params["kind"], request.path_params["client_id"]
    if kind not in KINDS:
        return common.error_page(request, 404, "error.invalid_request", "There is no such tab.")
    try:
        client = await client_service.get_client(ctx, person.principal, managed, client_id)
    except DomainError as exc:
        return admin.refused(request, ctx, person, exc)
    locale = common.locale_of(request)
    errors: dict[str, str] = {}
    form: dict[str, str] = {}
    if request.method == "POST":
        fields = await admin.checked_fields(request)
        if isinstance(fields, Response):
            return fields
        form = dict(fields)
        try:
            created = await _create(ctx, person, managed, client_id, kind, fields)
        except Invalid as exc:
            errors = {path.split("[", 1)[0]: message for path, message in exc.errors}
        except DomainError as exc:
            errors = {"_": exc.message}
        else:
            return admin.render(
                request,
                ctx,
                person,
                "created.html",
                status=201,
                managed=managed,
                current="applications",
                client_id=client_id,
                secret=created,
                continue_url=f"{_tab_url(person, managed, client_id, kind)}",
                heading=translate(f"{kind}.created", locale=locale),
                label=translate(
                    "secrets.value.label" if kind == "secrets" else "api-keys.value", locale=locale
                ),
            )
    listing = credential_service.list_secrets if kind == "secrets" else credential_service.list_api_keys
    try:
        items = (await listing(ctx, person.principal, managed, client_id, cursor=None, limit=100)).items
    except DomainError as exc:
        return admin.refused(request, ctx, person, exc)
    now = ctx.clock()
    held = [s for s in client.spec.allowed_scopes if is_permission(s)]
    return admin.render(
        request,
        ctx,
        person,
        f"{kind.replace('-', '_')}.html",
        status=422 if errors else 200,
        managed=managed,
        current="applications",
        client=client,
        tab=kind,
        tabs=admin.client_tabs(person, managed, client_id),
        rows=_rows(items, kind, now),
        errors=errors,
        form=form,
        action=_tab_url(person, managed, client_id, kind),
        scopes=[(s, BY_NAME[s].title_de if locale == "de" else BY_NAME[s].title_en) for s in held],
        public=not client.spec.require_client_secret,
        notice=translate(f"{kind}.revoked", locale=locale) if request.query_params.get("revoked") else None,
    )


async def _create(
    ctx: Context, person: admin.Person, managed: str, client_id: str, kind: str, fields: list[tuple[str, str]]
) -> str:
    form = dict(fields)
    if kind == "secrets":
        secret = await credential_service.create_secret(
            ctx,
            person.principal,
            managed,
            client_id,
            credential_service.SecretRequest(
                description=form.get("description", "").strip() or None,
                start_time=_day(form.get("start_time", ""), "startTime"),
                expiration=_day(form.get("expiration", ""), "expiration"),
            ),
        )
        return secret.value
    scopes = [v for k, v in fields if k == "scopes"]
    key = await credential_service.create_api_key(
        ctx,
        person.principal,
        managed,
        client_id,
        credential_service.ApiKeyRequest(
            name=form.get("name", "").strip() or None,
            scopes=scopes or None,
            expiration=_day(form.get("expiration", ""), "expiration"),
        ),
    )
    return key.value


def _tab_url(person: admin.Person, managed: str, client_id: str, kind: str) -> str:
    return f"{person.managed(managed)}/applications/{client_id}/{kind}"


async def revoke(request: Request) -> Response:
    """A revoke button asks once more; the confirmation revokes."""
    ctx: Context = request.app.state.ctx
    found = await admin.managed_person(request, ctx)
    if isinstance(found, Response):
        return found
    person, managed = found
    kind, client_id = request.path_params["kind"], request.path_params["client_id"]
    if kind not in KINDS:
        return common.error_page(request, 404, "error.invalid_request", "There is no such tab.")
    fields = await admin.checked_fields(request)
    if isinstance(fields, Response):
        return fields
    form = dict(fields)
    credential = form.get("credential", "")
    tab = _tab_url(person, managed, client_id, kind)
    if form.get("confirmed") != "yes":
        return admin.confirm_page(
            request,
            ctx,
            person,
            current="applications",
            managed=managed,
            heading_key=f"{kind}.revoke.title",
            help_key=f"{kind}.revoke.help",
            subject=form.get("label", "")[:200],
            action=f"{tab}/revoke",
            hidden={"credential": credential, "confirmed": "yes"},
            back=tab,
            submit_key="credentials.revoke",
        )
    revoking = credential_service.revoke_secret if kind == "secrets" else credential_service.revoke_api_key
    try:
        await revoking(ctx, person.principal, managed, client_id, credential)
    except DomainError as exc:
        return admin.refused(request, ctx, person, exc)
    return RedirectResponse(f"{tab}?revoked=1", status_code=303)


Loader = Callable[[Context, admin.Person, str, str], Awaitable[dict[str, Any]]]


async def _read_only_tab(request: Request, tab: str, load: Loader) -> Response:
    """A tab that only shows: the client, and what ``load`` returns for the template."""
    ctx: Context = request.app.state.ctx
    found = await admin.managed_person(request, ctx)
    if isinstance(found, Response):
        return found
    person, managed = found
    client_id = request.path_params["client_id"]
    try:
        client = await client_service.get_client(ctx, person.principal, managed, client_id)
        shown = await load(ctx, person, managed, client_id)
    except DomainError as exc:
        return admin.refused(request, ctx, person, exc)
    return admin.render(
        request,
        ctx,
        person,
        f"{tab}.html",
        managed=managed,
        current="applications",
        client=client,
        tab=tab,
        tabs=admin.client_tabs(person, managed, client_id),
        notice=None,
        **shown,
    )


async def _guide(ctx: Context, person: admin.Person, managed: str, client_id: str) -> dict[str, Any]:
    return {
        "guide": await guide_service.guide(ctx, person.principal, managed, client_id),
        "creator": await guide_service.created_by(ctx, person.principal, managed, client_id),
    }


async def _activity(ctx: Context, person: admin.Person, managed: str, client_id: str) -> dict[str, Any]:
    return {"entries": await guide_service.activity(ctx, person.principal, managed, client_id)}


async def guide(request: Request) -> Response:
    """Bare.ID's "Konfigurationsanleitung": what a developer needs to connect, to copy."""
    return await _read_only_tab(request, "guide", _guide)


async def activity(request: Request) -> Response:
    """Each change of the client and its credentials: what changed (field by field), who, when."""
    return await _read_only_tab(request, "activity", _activity)


async def client_roles(request: Request) -> Response:
    """The client's own roles (users hold them; tokens to this client name them)."""
    ctx: Context = request.app.state.ctx
    found = await admin.managed_person(request, ctx)
    if isinstance(found, Response):
        return found
    person, managed = found
    client_id = request.path_params["client_id"]
    tab = _tab_url(person, managed, client_id, "roles")
    problem: str | None = None
    if request.method == "POST":
        fields = await admin.checked_fields(request)
        if isinstance(fields, Response):
            return fields
        form = dict(fields)
        try:
            if form.get("action") == "create":
                await role_service.create_client_role(
                    ctx,
                    person.principal,
                    managed,
                    client_id,
                    name=form.get("name", "").strip(),
                    description=form.get("description", "").strip() or None,
                )
            elif form.get("action") == "delete":
                await role_service.delete_client_role(
                    ctx, person.principal, managed, client_id, form.get("name", "")
                )
            else:
                raise DomainError("Unknown action.")
        except DomainError as exc:
            problem = exc.message
        else:
            return RedirectResponse(tab, status_code=303)
    try:
        client = await client_service.get_client(ctx, person.principal, managed, client_id)
        roles = await role_service.list_client_roles(ctx, person.principal, managed, client_id)
    except DomainError as exc:
        return admin.refused(request, ctx, person, exc)
    return admin.render(
        request,
        ctx,
        person,
        "client_roles.html",
        status=422 if problem else 200,
        managed=managed,
        current="applications",
        client=client,
        tab="roles",
        tabs=admin.client_tabs(person, managed, client_id),
        roles=roles,
        action=tab,
        problem=problem,
        notice=None,
    )
