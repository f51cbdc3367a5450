"""The administrators' console (DESIGN.md §8, Bare.ID's "Applikationen"), server-rendered.

    GET  /admin/                                   → /t/system/admin/
    GET  /t/{slug}/admin/                          the console's home: the tenant picker in
                                                   ``system`` for an operator, else the
                                                   tenant's applications; "no access" without
                                                   any administrative permission
    GET  /t/{slug}/admin/callback                  the end of the sign-in (``signin``)
    POST /t/{slug}/admin/sign-out
    GET  /t/{slug}/admin/{tenant}/applications     the list: search, sort, keyset pages
    POST /t/{slug}/admin/{tenant}/applications/bulk
                                                   enable / disable / delete (confirmed)

``{slug}`` is the tenant the person signed in to; ``{tenant}`` the one they manage — their own,
or any for an operator of ``system``. The person acts with the permissions of their roles
(``Principal``), and every change goes through the same services, checks and audit events as
the admin API: a refusal there is a message here, never a different rule.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from pforte.domain import permissions
from pforte.domain.clients import LIST_SORTS as SORTS
from pforte.domain.clients import Client, ClientSpec
from pforte.domain.consoles import ADMIN, BUILTIN_CLIENT_IDS
from pforte.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    PreconditionFailed,
    Unavailable,
)
from pforte.domain.events import Actor
from pforte.domain.ids import SYSTEM_TENANT, is_client_id, is_slug
from pforte.domain.preconditions import etag
from pforte.domain.principal import Principal
from pforte.services import clients as client_service
from pforte.services import roles as role_service
from pforte.services import sessions
from pforte.services import tenants as tenant_service
from pforte.services.authorization import pending
from pforte.services.context import Context
from pforte.services.views import TenantView
from pforte.web.consoles import client_form, common, signin
from pforte.web.consoles.render import page, translate
from pforte.web.pages.http import CSRF_COOKIE, BadForm, browser_of, read_fields, set_cookie

PAGE_SIZE = 25
BULK_LIMIT = 100

# Whoever holds one of these may use the console (what each page shows depends on the rest).
ADMIN_PERMISSIONS = frozenset(p.name for p in permissions.CATALOGUE)


def console_headers() -> dict[str, str]:
    """The sign-in pages' headers, with the console's own scripts allowed (no inline script)."""
    return {
        "Cache-Control": "no-store",
        "Content-Security-Policy": (
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        ),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


@dataclass(frozen=True, slots=True)
class Person:
    """The signed-in administrator: where they signed in, who they are, what they may do."""

    home: TenantView
    signed_in: sessions.SignedIn
    principal: Principal
    csrf: str
    new_csrf: str | None

    @property
    def base(self) -> str:
        return f"/t/{self.home.slug}{ADMIN.path}"

    def managed(self, tenant: str) -> str:
        return f"{self.base}/{tenant}"


def principal_of(home: TenantView, signed_in: sessions.SignedIn) -> Principal:
    held = (
        signed_in.permissions
        if home.slug == SYSTEM_TENANT
        else signed_in.permissions - {permissions.TENANTS_ADMIN}
    )
    actor = Actor(kind="user", id=str(signed_in.user_id), tenant=home.slug, client_id=ADMIN.client_id)
    return Principal(
        tenant_slug=home.slug, client_id=ADMIN.client_id, permissions=frozenset(held), actor=actor
    )


async def person_of(request: Request, ctx: Context) -> Person | Response:
    home = await common.tenant_of(request, ctx)
    if home is None:
        return common.no_tenant(request)
    signed_in = await signin.signed_in(request, ctx, home, ADMIN)
    if signed_in is None:
        return signin.start(ctx, home, ADMIN, common.ui_locales(request))
    browser, new_csrf = browser_of(request, ctx)
    return Person(home, signed_in, principal_of(home, signed_in), browser.csrf, new_csrf)


def render(
    request: Request, ctx: Context, person: Person, template: str, *, status: int = 200, **context: object
) -> Response:
    nav: list[tuple[str, str]] = []
    managed = context.pop("managed", None)
    if isinstance(managed, str):
        for key in ("applications", "users", "roles", "events"):
            nav.append((key, f"{person.managed(managed)}/{key}"))
    if person.principal.is_operator:
        nav.append(("tenants", f"{person.base}/tenants"))
    html = page(
        template,
        locale=common.locale_of(request),
        tenant_name=person.home.name,
        username=person.signed_in.username,
        csrf_token=person.csrf,
        sign_out_action=f"{person.base}/sign-out",
        console_home=f"{person.base}/",
        nav=nav,
        managed_slug=managed if isinstance(managed, str) and managed != person.home.slug else None,
        **context,
    )
    response = HTMLResponse(html, status_code=status, headers=console_headers())
    if person.new_csrf is not None:
        set_cookie(response, ctx, f"/t/{person.home.slug}", CSRF_COOKIE, person.new_csrf, None)
    common.remember_locale(request, response, ctx, f"/t/{person.home.slug}")
    return response


async def root(_request: Request) -> Response:
    return RedirectResponse(f"/t/{SYSTEM_TENANT}{ADMIN.path}/", status_code=303)


async def home(request: Request) -> Response:
    ctx: Context = request.app.state.ctx
    person = await person_of(request, ctx)
    if isinstance(person, Response):
        return person
    if not person.principal.permissions & ADMIN_PERMISSIONS:
        return render(request, ctx, person, "no_access.html", status=403, current=None)
    if person.principal.is_operator:
        cursor = request.query_params.get("cursor")
        try:
            found = await tenant_service.list_tenants(ctx, person.principal, cursor=cursor, limit=60)
        except DomainError:
            found = await tenant_service.list_tenants(ctx, person.principal, cursor=None, limit=60)
        tenants = [
            {"slug": t.slug, "display_name": t.display_name, "href": f"{person.managed(t.slug)}/applications"}
            for t in found.items
        ]
        next_url = f"?{urlencode({'cursor': found.next})}" if found.next else None
        return render(
            request, ctx, person, "tenants.html", tenants=tenants, next_url=next_url, current="tenants"
        )
    return RedirectResponse(f"{person.managed(person.home.slug)}/applications", status_code=303)


async def callback(request: Request) -> Response:
    return await common.callback(request, ADMIN)


async def sign_out(request: Request) -> Response:
    return await common.sign_out(request, ADMIN)


# --- applications -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    client_id: str
    name: str
    owner: str | None
    created_at: object
    enabled: bool
    builtin: bool


async def applications(request: Request) -> Response:
    ctx: Context = request.app.state.ctx
    person = await person_of(request, ctx)
    if isinstance(person, Response):
        return person
    managed = request.path_params["tenant"]
    if not is_slug(managed):
        return common.no_tenant(request)
    query = request.query_params.get("q", "")[:200]
    sort = request.query_params.get("sort", "name")
    sort = sort if sort in SORTS else "name"
    cursor = request.query_params.get("cursor")
    try:
        found = await client_service.search_clients(
            ctx, person.principal, managed, query=query, sort=sort, cursor=cursor, limit=PAGE_SIZE
        )
    except DomainError as exc:
        if isinstance(exc, Invalid) and cursor:  # a stale or altered cursor: the first page
            found = await client_service.search_clients(
                ctx, person.principal, managed, query=query, sort=sort, cursor=None, limit=PAGE_SIZE
            )
        else:
            return refused(request, ctx, person, exc)
    list_url = f"{person.managed(managed)}/applications"
    here = {"q": query, "sort": sort} if query else {"sort": sort}
    items = [
        Row(
            client_id=c.client_id,
            name=c.spec.client_name or c.client_id,
            owner=c.spec.owner,
            created_at=c.created_at,
            enabled=c.spec.enabled,
            builtin=c.client_id in BUILTIN_CLIENT_IDS,
        )
        for c in found.items
    ]
    return render(
        request,
        ctx,
        person,
        "applications.html",
        managed=managed,
        current="applications",
        list_url=list_url,
        bulk_action=f"{list_url}/bulk",
        back=f"{list_url}?{urlencode({**here, **({'cursor': cursor} if cursor else {})})}",
        items=items,
        query=query,
        sort=sort,
        sorts=SORTS,
        next_url=f"{list_url}?{urlencode({**here, 'cursor': found.next})}" if found.next else None,
        first_url=f"{list_url}?{urlencode(here)}",
        is_later_page=bool(cursor),
        notice=_notice(request),
        problem=common.open_notice(ctx, person.home.slug, request.query_params.get("problem")),
    )


def _notice(request: Request) -> str | None:
    changed = request.query_params.get("changed")
    if changed is None or not changed.isdigit():
        return None
    locale = common.locale_of(request)
    if changed == "1":
        return translate("apps.done.one", locale=locale)
    return translate("apps.done", locale=locale, count=int(changed))


async def bulk(request: Request) -> Response:
    """Enable, disable or delete the ticked applications; delete asks once more first."""
    ctx: Context = request.app.state.ctx
    person = await person_of(request, ctx)
    if isinstance(person, Response):
        return person
    managed = request.path_params["tenant"]
    if not is_slug(managed):
        return common.no_tenant(request)
    try:
        fields = await read_fields(request)
    except BadForm as exc:
        return common.error_page(request, 400, "error.invalid_request", str(exc))
    form = dict(fields)
    if not pending.same_token(form.get("csrf_token"), request.cookies.get(CSRF_COOKIE)):
        return common.error_page(
            request, 403, "error.expired", "The form was not sent from this browser's own page."
        )
    list_url = f"{person.managed(managed)}/applications"
    back = form.get("back", "")
    back = back if back.startswith(f"{list_url}?") or back == list_url else list_url
    chosen = list(dict.fromkeys(v for k, v in fields if k == "client_id"))[:BULK_LIMIT]
    chosen = [c for c in chosen if is_client_id(c)]
    action = form.get("action", "")
    locale = common.locale_of(request)
    if not chosen:
        return _back(
            back,
            problem=common.seal_notice(
                ctx, person.home.slug, translate("apps.nothing_selected", locale=locale)
            ),
        )
    if action == "delete":
        return render(
            request,
            ctx,
            person,
            "confirm_delete.html",
            managed=managed,
            current="applications",
            client_ids=chosen,
            bulk_action=f"{list_url}/bulk",
            back=back,
        )
    if action not in ("enable", "disable", "delete-confirmed"):
        return common.error_page(request, 400, "error.invalid_request", "Unknown action.")
    changed, failed, reason = 0, [], ""
    for client_id in chosen:
        try:
            if action == "delete-confirmed":
                await client_service.delete_client(ctx, person.principal, managed, client_id)
            else:
                await client_service.patch_client(
                    ctx, person.principal, managed, client_id, {"enabled": action == "enable"}
                )
            changed += 1
        except DomainError as exc:
            failed.append(client_id)
            reason = exc.message
    problem = (
        translate("apps.failed", locale=locale, names=", ".join(failed), reason=reason) if failed else None
    )
    return _back(
        back, changed=changed, problem=common.seal_notice(ctx, person.home.slug, problem) if problem else None
    )


def _back(back: str, *, changed: int | None = None, problem: str | None = None) -> Response:
    extra = {k: str(v) for k, v in (("changed", changed), ("problem", problem)) if v is not None}
    joiner = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{joiner}{urlencode(extra)}" if extra else back, status_code=303)


def _status(exc: DomainError) -> int:
    for kind, status in (
        (Invalid, 422),
        (NotFound, 404),
        (Conflict, 409),
        (Forbidden, 403),
        (Unavailable, 503),
    ):
        if isinstance(exc, kind):
            return status
    return 400


def refused(request: Request, ctx: Context, person: Person, exc: DomainError) -> Response:
    status = _status(exc)
    if status in (403, 404):
        return render(request, ctx, person, "no_access.html", status=status, current=None)
    return common.error_page(request, status, "error.invalid_request", exc.message)


# --- connect an application, and its settings ---------------------------------------------------


async def managed_person(request: Request, ctx: Context) -> tuple[Person, str] | Response:
    person = await person_of(request, ctx)
    if isinstance(person, Response):
        return person
    managed = request.path_params["tenant"]
    if not is_slug(managed):
        return common.no_tenant(request)
    return person, managed


async def catalogue(request: Request) -> Response:
    ctx: Context = request.app.state.ctx
    found = await managed_person(request, ctx)
    if isinstance(found, Response):
        return found
    person, managed = found
    list_url = f"{person.managed(managed)}/applications"
    return render(
        request,
        ctx,
        person,
        "catalogue.html",
        managed=managed,
        current="applications",
        kinds=client_form.KINDS,
        list_url=list_url,
    )


async def _roles(ctx: Context, person: Person, managed: str) -> list[str]:
    try:
        return [r.name for r in await role_service.list_roles(ctx, person.principal, managed)]
    except DomainError:  # without users.roles:read the list stays empty; the stored value shows
        return []


async def _form_page(
    request: Request,
    ctx: Context,
    person: Person,
    managed: str,
    state: client_form.FormState,
    *,
    kind: client_form.Kind | None,
    version: int | None = None,
    notice: str | None = None,
    status: int = 200,
    client: Client | None = None,
) -> Response:
    list_url = f"{person.managed(managed)}/applications"
    creating = kind is not None
    shown = kind or client_form.BY_KEY["web-app"]
    roles = await _roles(ctx, person, managed)
    current_role = state.values.get("restrict_to_role")
    if current_role and current_role not in roles:
        roles.append(current_role)
    locale = common.locale_of(request)
    first = shown.first if creating else ("client_name", "description", "owner")
    return render(
        request,
        ctx,
        person,
        "client.html",
        status=status,
        managed=managed,
        current="applications",
        list_url=list_url,
        creating=creating,
        kind=shown,
        state=state,
        version=version,
        notice=notice,
        action=f"{list_url}/new/{shown.key}" if creating else f"{list_url}/{state.values['client_id']}",
        first=first,
        permissions_first=creating and shown.permissions_first,
        advanced_open=not creating or any(n not in first for n in state.errors),
        roles=roles,
        grants=client_form.GRANT_CHOICES,
        oidc_scopes=client_form.OIDC_CHOICES,
        permissions=client_form.permission_choices(
            managed, person.principal.permissions, person.principal.is_operator, locale
        ),
        client=client,
        tab="settings",
        tabs=client_tabs(person, managed, client.client_id) if client is not None else [],
    )


def confirm_page(
    request: Request,
    ctx: Context,
    person: Person,
    *,
    current: str,
    managed: str,
    heading_key: str,
    help_key: str,
    subject: str,
    action: str,
    hidden: dict[str, str],
    back: str,
    submit_key: str = "confirm.submit",
) -> Response:
    """The one confirmation page every destructive console action shows before it acts."""
    return render(
        request,
        ctx,
        person,
        "confirm.html",
        managed=managed,
        current=current,
        heading_key=heading_key,
        help_key=help_key,
        subject=subject,
        action=action,
        hidden=hidden,
        back=back,
        submit_key=submit_key,
    )


TABS = ("settings", "secrets", "api-keys", "roles", "guide", "activity")


def client_tabs(person: Person, managed: str, client_id: str) -> list[tuple[str, str]]:
    """The client page's tabs: (key, URL)."""
    base = f"{person.managed(managed)}/applications/{client_id}"
    return [(key, base if key == "settings" else f"{base}/{key}") for key in TABS]


def _errors_of(exc: Invalid) -> dict[str, str]:
    return {client_form.field_of(path): message for path, message in exc.errors}


async def checked_fields(request: Request) -> list[tuple[str, str]] | Response:
    try:
        fields = await read_fields(request)
    except BadForm as exc:
        return common.error_page(request, 400, "error.invalid_request", str(exc))
    if not pending.same_token(dict(fields).get("csrf_token"), request.cookies.get(CSRF_COOKIE)):
        return common.error_page(
            request, 403, "error.expired", "The form was not sent from this browser's own page."
        )
    return fields


async def new_application(request: Request) -> Response:
    """GET: the form pre-filled for the kind; POST: create, then show the secret once."""
    ctx: Context = request.app.state.ctx
    found = await managed_person(request, ctx)
    if isinstance(found, Response):
        return found
    person, managed = found
    kind = client_form.BY_KEY.get(request.path_params["kind"])
    if kind is None:
        return common.error_page(
            request, 404, "error.invalid_request", "There is no such kind of application."
        )
    if request.method == "GET":
        return await _form_page(request, ctx, person, managed, client_form.preset(kind), kind=kind)
    fields = await checked_fields(request)
    if isinstance(fields, Response):
        return fields
    values, errors = client_form.read(fields)
    state = client_form.FormState(values={**asdict(ClientSpec(client_id="")), **values}, errors=errors)
    state.other_scopes = dict(fields).get("other_scopes", "")
    if errors:
        return await _form_page(request, ctx, person, managed, state, kind=kind, status=422)
    try:
        client, secret = await client_service.create_client(
            ctx, person.principal, managed, client_form.spec_from(values)
        )
    except Invalid as exc:
        state.errors = _errors_of(exc)
        return await _form_page(request, ctx, person, managed, state, kind=kind, status=422)
    except (Conflict, Forbidden) as exc:
        state.errors = {"client_id" if isinstance(exc, Conflict) else "_": exc.message}
        return await _form_page(request, ctx, person, managed, state, kind=kind, status=_status(exc))
    except DomainError as exc:
        return refused(request, ctx, person, exc)
    client_url = f"{person.managed(managed)}/applications/{client.client_id}"
    if secret is None:
        return RedirectResponse(client_url, status_code=303)
    return render(
        request,
        ctx,
        person,
        "created.html",
        status=201,
        managed=managed,
        current="applications",
        client_id=client.client_id,
        secret=secret.value,
        continue_url=client_url,
        heading=None,
        label=None,
    )


async def application(request: Request) -> Response:
    """GET: the settings form; POST: save it (PUT semantics, guarded by the version it showed)."""
    ctx: Context = request.app.state.ctx
    found = await managed_person(request, ctx)
    if isinstance(found, Response):
        return found
    person, managed = found
    client_id = request.path_params["client_id"]
    if not is_client_id(client_id):
        return common.error_page(request, 404, "error.invalid_request", "There is no such application.")
    try:
        stored = await client_service.get_client(ctx, person.principal, managed, client_id)
    except DomainError as exc:
        return refused(request, ctx, person, exc)
    locale = common.locale_of(request)
    if request.method == "GET":
        notice = translate("form.saved", locale=locale) if request.query_params.get("saved") else None
        return await _form_page(
            request,
            ctx,
            person,
            managed,
            client_form.state_of(stored.spec),
            kind=None,
            version=stored.version,
            notice=notice,
            client=stored,
        )
    fields = await checked_fields(request)
    if isinstance(fields, Response):
        return fields
    values, errors = client_form.read(fields, client_id=client_id)
    state = client_form.FormState(values={**asdict(stored.spec), **values}, errors=errors)
    state.other_scopes = dict(fields).get("other_scopes", "")
    if errors:
        return await _form_page(
            request, ctx, person, managed, state, kind=None, version=stored.version, status=422, client=stored
        )
    version = dict(fields).get("version", "")
    try:
        await client_service.replace_client(
            ctx,
            person.principal,
            managed,
            client_id,
            client_form.spec_from(values),
            if_match=etag(int(version)) if version.isdigit() else None,
        )
    except Invalid as exc:
        state.errors = _errors_of(exc)
        return await _form_page(
            request, ctx, person, managed, state, kind=None, version=stored.version, status=422, client=stored
        )
    except PreconditionFailed:
        fresh = await client_service.get_client(ctx, person.principal, managed, client_id)
        return await _form_page(
            request,
            ctx,
            person,
            managed,
            client_form.state_of(fresh.spec),
            kind=None,
            version=fresh.version,
            notice=translate("form.stale", locale=locale),
            status=412,
            client=fresh,
        )
    except (Conflict, Forbidden) as exc:
        state.errors = {"_": exc.message}
        return await _form_page(
            request,
            ctx,
            person,
            managed,
            state,
            kind=None,
            version=stored.version,
            status=_status(exc),
            client=stored,
        )
    except DomainError as exc:
        return refused(request, ctx, person, exc)
    return RedirectResponse(f"{person.managed(managed)}/applications/{client_id}?saved=1", status_code=303)
