"""First start: the schema, the ``system`` tenant, and the operator's first credentials."""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from hmac import compare_digest

from pydantic.alias_generators import to_camel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pforte.domain.clients import CLIENT_CREDENTIALS, ClientSpec, validate
from pforte.domain.clock import utcnow
from pforte.domain.errors import NotFound
from pforte.domain.events import CLI_ACTOR, SYSTEM_ACTOR, Actor, Event, EventName
from pforte.domain.ids import SYSTEM_TENANT, new_id
from pforte.domain.permissions import TENANTS_ADMIN
from pforte.domain.principal import Principal
from pforte.domain.roles import ADMIN_ROLE
from pforte.domain.users import UserSpec
from pforte.services import audit
from pforte.services.consoles import ensure_console_clients
from pforte.services.context import Context
from pforte.services.credentials import ApiKeyRequest, SecretRequest, issue_api_key, issue_secret
from pforte.services.tenants import TenantCreate, insert_tenant
from pforte.services.users import hash_password, insert_user
from pforte.store.migrate import upgrade
from pforte.store.repos.clients import ClientRepo
from pforte.store.repos.credentials import SecretRepo
from pforte.store.repos.tenants import TenantRepo
from pforte.store.repos.users import RoleRepo, UserRepo
from pforte.store.tables import ClientRow, TenantRow

ADMIN_CLIENT_ID = "pforte-admin"
ADMIN_USERNAME = "admin"  # the console's first user (DESIGN.md §1)
SYSTEM_PRINCIPAL = Principal(
    tenant_slug=SYSTEM_TENANT, client_id="pforte", permissions=frozenset({TENANTS_ADMIN}), actor=SYSTEM_ACTOR
)

# The operator at the `pforte` command: everything, audited as system:cli.
CLI_PRINCIPAL = Principal(
    tenant_slug=SYSTEM_TENANT, client_id="pforte", permissions=frozenset({TENANTS_ADMIN}), actor=CLI_ACTOR
)


@dataclass(frozen=True, slots=True)
class BootstrapCredentials:
    """Shown once, on the first start; only their hashes are stored."""

    client_id: str
    client_secret: str
    api_key: str
    admin_username: str
    admin_password: str


async def _admin_client(
    session: AsyncSession, ctx: Context, tenant: TenantRow, client_id: str, *, actor: Actor = SYSTEM_ACTOR
) -> ClientRow:
    spec = validate(
        ClientSpec(
            client_id=client_id,
            client_name="Pforte administration",
            description="Created at first start; holds tenants:admin."
            if actor is SYSTEM_ACTOR
            else "Created by `pforte bootstrap` for recovery; holds tenants:admin.",
            allowed_scopes=[TENANTS_ADMIN],
        ),
        tenant_slug=SYSTEM_TENANT,
    )
    now = utcnow()
    row = ClientRow(
        id=new_id(), tenant_id=tenant.id, created_at=now, updated_at=now, version=1, **asdict(spec)
    )
    ClientRepo(session).add(row)
    await session.flush()
    audit.record(
        session,
        tenant_id=tenant.id,
        actor=actor,
        event=Event(EventName.CLIENT_CREATED, "client", client_id, {"allowedScopes": [TENANTS_ADMIN]}),
    )
    return row


async def initialise(ctx: Context) -> BootstrapCredentials | None:
    """Migrate; on an empty database create ``system`` with an admin client, its secret and an
    API key, and return those values (the only time they exist in clear). ``None`` if already done."""
    await upgrade(ctx.db.engine)
    try:
        async with ctx.db.transaction() as session:
            if await TenantRepo(session).get(SYSTEM_TENANT) is not None:
                created = None
            else:
                tenant = await insert_tenant(
                    session,
                    ctx,
                    actor=SYSTEM_ACTOR,
                    data=TenantCreate(slug=SYSTEM_TENANT, display_name="System"),
                )
                client = await _admin_client(session, ctx, tenant, ADMIN_CLIENT_ID)
                secret = await issue_secret(
                    session,
                    ctx,
                    tenant=tenant,
                    client=client,
                    actor=SYSTEM_ACTOR,
                    request=SecretRequest(description="bootstrap"),
                )
                key = await issue_api_key(
                    session,
                    ctx,
                    tenant=tenant,
                    client=client,
                    principal=SYSTEM_PRINCIPAL,
                    request=ApiKeyRequest(name="bootstrap", scopes=[TENANTS_ADMIN]),
                )
                password = secrets.token_urlsafe(18)
                await _admin_user(session, ctx, tenant, ADMIN_USERNAME, password)
                created = BootstrapCredentials(
                    client_id=ADMIN_CLIENT_ID,
                    client_secret=secret.value,
                    api_key=key.value,
                    admin_username=ADMIN_USERNAME,
                    admin_password=password,
                )
    except IntegrityError:  # another process initialised the same database at the same moment
        created = None
    await ensure_bootstrap_client(ctx)
    await ensure_bootstrap_admin(ctx)
    await ensure_console_clients(ctx)
    return created


async def _admin_user(
    session: AsyncSession, ctx: Context, tenant: TenantRow, username: str, password: str
) -> None:
    """The user ``username`` of ``system`` holding the role ``admin``, for the web console."""
    admin = await RoleRepo(session).get(tenant.id, ADMIN_ROLE)
    assert admin is not None, "every tenant has the built-in role admin"
    await insert_user(
        session,
        tenant,
        actor=SYSTEM_ACTOR,
        spec=UserSpec(username=username),
        password_hash=await hash_password(ctx, password),
        roles=[admin],
    )


async def ensure_bootstrap_admin(ctx: Context) -> None:
    """PFORTE_BOOTSTRAP_ADMIN_USERNAME/PASSWORD: if ``system`` has no such user, create it with
    the role ``admin`` (Keycloak's ``KC_BOOTSTRAP_ADMIN_*``). An existing user is left alone:
    the variables are for the first way in, not a password reset on every start."""
    settings = ctx.settings
    if settings.bootstrap_admin_username is None or settings.bootstrap_admin_password is None:
        return
    username = settings.bootstrap_admin_username
    async with ctx.db.transaction() as session:
        found = await TenantRepo(session).get(SYSTEM_TENANT)
        assert found is not None
        tenant = await TenantRepo(session).lock(found.id, shared=True)
        assert tenant is not None
        if await UserRepo(session).by_username(tenant.id, username) is None:
            password = settings.bootstrap_admin_password.get_secret_value()
            await _admin_user(session, ctx, tenant, username, password)


async def ensure_bootstrap_client(ctx: Context) -> None:
    """PFORTE_BOOTSTRAP_CLIENT_ID/SECRET: create that client in ``system`` if it is missing, and
    repair it if it exists: enabled, ``client_credentials``, ``tenants:admin``, and the secret
    from the environment among its live secrets (a restart is how automation gets back in)."""
    settings = ctx.settings
    if settings.bootstrap_client_id is None or settings.bootstrap_client_secret is None:
        return
    value = settings.bootstrap_client_secret.get_secret_value()
    request = SecretRequest(description="PFORTE_BOOTSTRAP_CLIENT_SECRET", value=value)
    async with ctx.db.transaction() as session:
        found = await TenantRepo(session).get(SYSTEM_TENANT)
        assert found is not None
        tenant = await TenantRepo(session).lock(found.id)
        assert tenant is not None
        client = await ClientRepo(session).lock(tenant.id, settings.bootstrap_client_id)
        if client is None:
            client = await _admin_client(session, ctx, tenant, settings.bootstrap_client_id)
            await issue_secret(
                session, ctx, tenant=tenant, client=client, actor=SYSTEM_ACTOR, request=request
            )
            return
        wanted = {
            "enabled": True,
            "require_client_secret": True,
            "allowed_grant_types": _union(client.allowed_grant_types, CLIENT_CREDENTIALS),
            "allowed_scopes": _union(client.allowed_scopes, TENANTS_ADMIN),
        }
        _repair(session, tenant, client, wanted, actor=SYSTEM_ACTOR)
        now = utcnow()
        live = [s for s in await SecretRepo(session).all_of(tenant.id, client.id) if s.expiration > now]
        if not any(compare_digest(s.value_hash, ctx.hasher.hash(value)) for s in live):
            await issue_secret(
                session, ctx, tenant=tenant, client=client, actor=SYSTEM_ACTOR, request=request
            )


def _repair(
    session: AsyncSession, tenant: TenantRow, client: ClientRow, wanted: dict[str, object], *, actor: Actor
) -> None:
    """Set ``wanted`` fields of an administrator client again, auditing what had to change."""
    diff = {
        to_camel(name): {"from": getattr(client, name), "to": value}
        for name, value in wanted.items()
        if getattr(client, name) != value
    }
    if not diff:
        return
    for name, value in wanted.items():
        setattr(client, name, value)
    client.updated_at = utcnow()
    client.version += 1
    audit.record(
        session,
        tenant_id=tenant.id,
        actor=actor,
        event=Event(EventName.CLIENT_UPDATED, "client", client.client_id, diff),
    )


def _union(values: list[str], extra: str) -> list[str]:
    return values if extra in values else [*values, extra]


RECOVERY_CLIENT_ID = "pforte-recovery"


@dataclass(frozen=True, slots=True)
class RecoveryKey:
    client_id: str
    api_key: str


async def recovery_key(ctx: Context) -> RecoveryKey:
    """``pforte bootstrap``: a fresh API key with ``tenants:admin`` for ``system``, for when every
    admin credential is lost (Keycloak's ``kc.sh bootstrap-admin``). It belongs to the client
    ``pforte-recovery``, created or repaired (enabled, holding ``tenants:admin``) as needed."""
    await upgrade(ctx.db.engine)
    async with ctx.db.transaction() as session:
        found = await TenantRepo(session).get(SYSTEM_TENANT)
        if found is None:
            raise NotFound("the system tenant does not exist: run `pforte init` (or `pforte serve`) first")
        tenant = await TenantRepo(session).lock(found.id)
        assert tenant is not None
        client = await ClientRepo(session).lock(tenant.id, RECOVERY_CLIENT_ID)
        if client is None:
            client = await _admin_client(session, ctx, tenant, RECOVERY_CLIENT_ID, actor=CLI_ACTOR)
        else:
            wanted = {"enabled": True, "allowed_scopes": _union(client.allowed_scopes, TENANTS_ADMIN)}
            _repair(session, tenant, client, wanted, actor=CLI_ACTOR)
        key = await issue_api_key(
            session,
            ctx,
            tenant=tenant,
            client=client,
            principal=CLI_PRINCIPAL,
            request=ApiKeyRequest(name=f"recovery {utcnow():%Y-%m-%d %H:%M:%S} UTC", scopes=[TENANTS_ADMIN]),
        )
    return RecoveryKey(client_id=RECOVERY_CLIENT_ID, api_key=key.value)
