"""The admin console's users, roles and events (DESIGN.md §8: "plus users, roles and events").

    GET  …/{tenant}/users                  the users, keyset pages; the "new user" form
    POST …/{tenant}/users                  create (an initial password and roles optional)
    GET  …/{tenant}/users/{id}             one user: enabled, roles, password
    POST …/{tenant}/users/{id}             ``action``: enable | disable | roles | password |
                                           delete (asks once more) | delete-confirmed
    GET  …/{tenant}/roles                  the tenant's roles and their permissions; new role
    POST …/{tenant}/roles                  ``action``: create | delete | delete-confirmed
    GET  …/{tenant}/events                 the events, newest first, by type; "older" pages on
    GET  /t/system/admin/tenants           the operator's tenants ("Instanzen")
    POST /t/system/admin/tenants           ``action``: create | rename | delete (the slug typed again)

Every action calls the same service as the CLI and the APIs (the same permission, the same
"no principal grants what it lacks" rule, the same audit event); a refusal is shown as the
service words it.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from pforte.domain.errors import DomainError, Invalid
from pforte.domain.event_log import EventFilter
from pforte.domain.ids import SYSTEM_TENANT
from pforte.domain.users import SEARCH_MAX, UserFilter, UserSpec
from pforte.services import event_log
from pforte.services import roles as role_service
from pforte.services import tenants as tenant_service
from pforte.services import users as user_service
from pforte.services.context import Context
from pforte.services.tenants import TenantCreate
from pforte.services.users import UserChange
from pforte.web.consoles import admin, client_form, common

PAGE_SIZE = 50
EVENTS_PAGE = 100


async def _roles(ctx: Context, person: admin.Person, managed: str) -> list[str]:
    try:
        return [r.name for r in await role_service.list_roles(ctx, person.principal, managed)]
    except DomainError:
        return []


async def users(request: Request) -> Response:
    ctx: Context = request.app.state.ctx
    found = await admin.managed_person(request, ctx)
    if isinstance(found, Response):
        return found
    person, managed = found
    base = f"{person.managed(managed)}/users"
    problem, form = common.open_notice(ctx, person.home.slug, request.query_params.get("problem")), {}
    if request.method == "POST":
        fields = await admin.checked_fields(request)
        if isinstance(fields, Response):
            return fields
        form = dict(fields)
        try:
            created = await user_service.create_user(
                ctx,
                person.principal,
                managed,
                UserSpec(
                    username=form.get("username", "").strip(),
                    email=form.get("email", "").strip() or None,
                    given_name=form.get("given_name", "").strip() or None,
                    family_name=form.get("family_name", "").strip() or None,
                ),
                password=form.get("password") or None,
                roles=[v for k, v in fields if k == "roles"],
                must_change_password=form.get("must_change") == "yes",
            )
        except DomainError as exc:
            problem = exc.message
        else:
            return RedirectResponse(f"{base}/{created.id}", status_code=303)
    cursor = request.query_params.get("cursor")
    query = request.query_params.get("q", "").strip()[:SEARCH_MAX]
    wanted = UserFilter(search=query or None)
    try:
        page = await user_service.list_users(
            ctx, person.principal, managed, cursor=cursor, limit=PAGE_SIZE, wanted=wanted
        )
    except DomainError as exc:
        return admin.refused(request, ctx, person, exc)
    return admin.render(
        request,
        ctx,
        person,
        "users.html",
        status=422 if problem and form else 200,
        managed=managed,
        current="users",
        items=page.items,
        base=base,
        problem=problem,
        form=form,
        roles=await _roles(ctx, person, managed),
        query=query,
        next_url=f"{base}?{urlencode({'q': query, 'cursor': page.next})}" if page.next else None,
    )


async def user(request: Request) -> Response:
    ctx: Context = request.app.state.ctx
    found = await admin.managed_person(request, ctx)
    if isinstance(found, Response):
        return found
    person, managed = found
    ref = request.path_params["user_id"][:64]
    base = f"{person.managed(managed)}/users"
    if request.method == "POST":
        fields = await admin.checked_fields(request)
        if isinstance(fields, Response):
            return fields
        form = dict(fields)
        action = form.get("action", "")
        if action == "delete":
            return admin.confirm_page(
                request,
                ctx,
                person,
                managed=managed,
                current="users",
                heading_key="user.delete.title",
                help_key="user.delete.help",
                subject=form.get("label", ""),
                action=f"{base}/{ref}",
                hidden={"action": "delete-confirmed"},
                back=f"{base}/{ref}",
            )
        try:
            await _apply(ctx, person, managed, ref, action, fields)
        except DomainError as exc:
            notice = common.seal_notice(ctx, person.home.slug, exc.message)
            return RedirectResponse(f"{base}/{ref}?{urlencode({'problem': notice})}", status_code=303)
        if action == "delete-confirmed":
            return RedirectResponse(base, status_code=303)
        return RedirectResponse(f"{base}/{ref}?saved=1", status_code=303)
    try:
        shown = await user_service.get_user(ctx, person.principal, managed, ref)
    except DomainError as exc:
        return admin.refused(request, ctx, person, exc)
    return admin.render(
        request,
        ctx,
        person,
        "user.html",
        managed=managed,
        current="users",
        user=shown,
        base=base,
        roles=sorted(set(await _roles(ctx, person, managed)) | set(shown.roles)),
        saved=bool(request.query_params.get("saved")),
        problem=common.open_notice(ctx, person.home.slug, request.query_params.get("problem")),
    )


async def _apply(
    ctx: Context, person: admin.Person, managed: str, ref: str, action: str, fields: list[tuple[str, str]]
) -> None:
    form = dict(fields)
    if action in ("enable", "disable"):
        await user_service.update_user(
            ctx, person.principal, managed, ref, UserChange(enabled=action == "enable")
        )
    elif action == "password":
        await user_service.set_password(
            ctx,
            person.principal,
            managed,
            ref,
            form.get("password", ""),
            must_change=form.get("must_change") == "yes",
        )
    elif action == "roles":
        wanted = {v for k, v in fields if k == "roles"}
        held = set((await user_service.get_user(ctx, person.principal, managed, ref)).roles)
        for name in sorted(wanted - held):
            await user_service.add_role(ctx, person.principal, managed, ref, name)
        for name in sorted(held - wanted):
            await user_service.remove_role(ctx, person.principal, managed, ref, name)
    elif action == "delete-confirmed":
        await user_service.delete_user(ctx, person.principal, managed, ref)
    else:
        raise DomainError("Unknown action.")


async def roles(request: Request) -> Response:
    ctx: Context = request.app.state.ctx
    found = await admin.managed_person(request, ctx)
    if isinstance(found, Response):
        return found
    person, managed = found
    base = f"{person.managed(managed)}/roles"
    problem, form = common.open_notice(ctx, person.home.slug, request.query_params.get("problem")), {}
    if request.method == "POST":
        fields = await admin.checked_fields(request)
        if isinstance(fields, Response):
            return fields
        form = dict(fields)
        action = form.get("action", "")
        if action == "delete":
            return admin.confirm_page(
                request,
                ctx,
                person,
                managed=managed,
                current="roles",
                heading_key="role.delete.title",
                help_key="role.delete.help",
                subject=form.get("name", ""),
                action=base,
                hidden={"action": "delete-confirmed", "name": form.get("name", "")},
                back=base,
            )
        try:
            if action == "create":
                await role_service.create_role(
                    ctx,
                    person.principal,
                    managed,
                    name=form.get("name", "").strip(),
                    description=form.get("description", "").strip() or None,
                    permissions=[v for k, v in fields if k == "permissions"],
                )
            elif action == "delete-confirmed":
                await role_service.delete_role(ctx, person.principal, managed, form.get("name", ""))
            else:
                raise DomainError("Unknown action.")
        except DomainError as exc:
            problem = exc.message
        else:
            return RedirectResponse(base, status_code=303)
    try:
        listed = await role_service.list_roles(ctx, person.principal, managed)
    except DomainError as exc:
        return admin.refused(request, ctx, person, exc)
    return admin.render(
        request,
        ctx,
        person,
        "roles.html",
        status=422 if problem and form else 200,
        managed=managed,
        current="roles",
        items=listed,
        base=base,
        problem=problem,
        form=form,
        permissions=client_form.permission_choices(
            managed, person.principal.permissions, person.principal.is_operator, common.locale_of(request)
        ),
    )


async def events(request: Request) -> Response:
    """The tenant's events through the Event API's service: newest first, a page at a time
    ("older" follows the cursor), narrowed by type (a name, or a prefix: ``client`` is ``client.``)."""
    ctx: Context = request.app.state.ctx
    found = await admin.managed_person(request, ctx)
    if isinstance(found, Response):
        return found
    person, managed = found
    kind = request.query_params.get("type", "").strip()[:64]
    cursor = request.query_params.get("cursor") or None
    wanted = EventFilter(types=(kind if "." in kind else f"{kind}.",) if kind else ())
    try:
        page = await event_log.list_events(
            ctx, person.principal, managed, wanted, cursor=cursor, limit=EVENTS_PAGE
        )
    except DomainError as exc:
        return admin.refused(request, ctx, person, exc)
    base = f"{person.managed(managed)}/events"
    return admin.render(
        request,
        ctx,
        person,
        "events.html",
        managed=managed,
        current="events",
        entries=page.items,
        kind=kind,
        base=base,
        older_url=f"{base}?{urlencode({'type': kind, 'cursor': page.next})}" if page.next else None,
    )


async def tenants(request: Request) -> Response:
    """The operator's tenants ("Instanzen"): create, rename, delete (typing the slug)."""
    ctx: Context = request.app.state.ctx
    person = await admin.person_of(request, ctx)
    if isinstance(person, Response):
        return person
    base = f"{person.base}/tenants"
    problem = common.open_notice(ctx, person.home.slug, request.query_params.get("problem"))
    status = 200
    if request.method == "POST":
        fields = await admin.checked_fields(request)
        if isinstance(fields, Response):
            return fields
        form = dict(fields)
        action, slug = form.get("action", ""), form.get("slug", "").strip()
        try:
            if action == "create":
                await tenant_service.create_tenant(
                    ctx,
                    person.principal,
                    TenantCreate(slug=slug, display_name=form.get("display_name", "").strip() or None),
                )
            elif action == "rename":
                await tenant_service.update_tenant(
                    ctx, person.principal, slug, display_name=form.get("display_name", "").strip() or None
                )
            elif action == "delete":
                if form.get("confirm_slug", "") != slug:
                    raise Invalid("confirm_slug", "type the tenant's slug to delete it")
                await tenant_service.delete_tenant(ctx, person.principal, slug)
            else:
                raise DomainError("Unknown action.")
        except DomainError as exc:
            problem, status = exc.message, 422
        else:
            return RedirectResponse(base, status_code=303)
    try:
        page = await tenant_service.list_tenants(ctx, person.principal, cursor=None, limit=200)
    except DomainError as exc:
        return admin.refused(request, ctx, person, exc)
    return admin.render(
        request,
        ctx,
        person,
        "tenants_admin.html",
        status=status,
        current="tenants",
        items=page.items,
        base=base,
        problem=problem,
        system=SYSTEM_TENANT,
    )
