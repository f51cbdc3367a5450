"""Rows to records: what a service hands out is a domain record, never an ORM row.

A service works on rows inside its transaction and converts what it returns here. A record
takes the row's members of the same name; credential material (the hash of a secret or key,
a sealed private key) has no member in a record, so it stays in the store.
"""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar

from pforte.domain.clients import SPEC_FIELDS, Client, ClientSpec
from pforte.domain.credentials import ApiKeyRecord, SecretRecord
from pforte.domain.oauth.signing_keys import SigningKeyRecord
from pforte.domain.tenants import Tenant
from pforte.store.tables import ApiKeyRow, ClientRow, ClientSecretRow, SigningKeyRow, TenantRow

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")


def _record(record: type[R], row: object) -> R:
    members: dict[str, Any] = {f.name: getattr(row, f.name) for f in fields(record)}
    return record(**members)


def tenant_of(row: TenantRow) -> Tenant:
    return _record(Tenant, row)


def spec_of(row: ClientRow) -> ClientSpec:
    return ClientSpec(**{name: getattr(row, name) for name in SPEC_FIELDS})


def client_of(row: ClientRow) -> Client:
    return Client(
        id=row.id,
        tenant_id=row.tenant_id,
        spec=spec_of(row),
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
    )


def secret_of(row: ClientSecretRow) -> SecretRecord:
    return _record(SecretRecord, row)


def api_key_of(row: ApiKeyRow) -> ApiKeyRecord:
    return _record(ApiKeyRecord, row)


def signing_key_of(row: SigningKeyRow) -> SigningKeyRecord:
    return _record(SigningKeyRecord, row)
