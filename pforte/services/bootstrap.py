"""First start: the schema, the ``system`` tenant, and the operator's first credentials."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pforte.domain.clients import ClientSpec, validate
from pforte.domain.events import SYSTEM_ACTOR, Event, EventName
from pforte.domain.ids import SYSTEM_TENANT, new_id
from pforte.domain.permissions import TENANTS_ADMIN
from pforte.domain.principal import Principal
from pforte.services import audit
from pforte.services.context import Context
from pforte.services.credentials import ApiKeyRequest, SecretRequest, issue_api_key, issue_secret
from pforte.services.tenants import TenantCreate, insert_tenant
from pforte.store.base import utcnow
from pforte.store.migrate import upgrade
from pforte.store.repos.clients import ClientRepo
from pforte.store.repos.tenants import TenantRepo
from pforte.store.tables import ClientRow, TenantRow

ADMIN_CLIENT_ID = "pforte-admin"
SYSTEM_PRINCIPAL = Principal(
    tenant_slug=SYSTEM_TENANT, client_id="pforte", permissions=frozenset({TENANTS_ADMIN}), actor=SYSTEM_ACTOR
)


@dataclass(frozen=True, slots=True)
class BootstrapCredentials:
    """Shown once, on the first start; only their hashes are stored."""

    client_id: str
    client_secret: str
    api_key: str


async def _admin_client(session: AsyncSession, ctx: Context, tenant: TenantRow, client_id: str) -> ClientRow:
    spec = validate(
        ClientSpec(
            client_id=client_id,
            client_name="Pforte administration",
            description="Created at first start; holds tenants:admin.",
            allowed_scopes=[TENANTS_ADMIN],
        ),
        tenant_slug=SYSTEM_TENANT,
    )
    now = utcnow()
    row = ClientRow(id=new_id(), tenant_id=tenant.id, created_at=now, updated_at=now, **asdict(spec))
    ClientRepo(session).add(row)
    await session.flush()
    audit.record(
        session,
        tenant_id=tenant.id,
        actor=SYSTEM_ACTOR,
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
                created = BootstrapCredentials(
                    client_id=ADMIN_CLIENT_ID, client_secret=secret.value, api_key=key.value
                )
    except IntegrityError:  # another process initialised the same database at the same moment
        created = None
    await ensure_bootstrap_client(ctx)
    return created


async def ensure_bootstrap_client(ctx: Context) -> None:
    """PFORTE_BOOTSTRAP_CLIENT_ID/SECRET: create that client in ``system`` if it is missing."""
    settings = ctx.settings
    if settings.bootstrap_client_id is None or settings.bootstrap_client_secret is None:
        return
    async with ctx.db.transaction() as session:
        tenant = await TenantRepo(session).get(SYSTEM_TENANT)
        assert tenant is not None
        if await ClientRepo(session).get(tenant.id, settings.bootstrap_client_id) is not None:
            return
        client = await _admin_client(session, ctx, tenant, settings.bootstrap_client_id)
        value = settings.bootstrap_client_secret.get_secret_value()
        await issue_secret(
            session,
            ctx,
            tenant=tenant,
            client=client,
            actor=SYSTEM_ACTOR,
            request=SecretRequest(description="PFORTE_BOOTSTRAP_CLIENT_SECRET", value=value),
        )
