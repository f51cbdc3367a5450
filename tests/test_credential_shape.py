"""What the admin API shows of a secret or API key is what the services hand out: the members of
``SecretPublic`` / ``ApiKeyPublic`` are the members of the domain records, with the same types;
and each member is a column of the stored row, nullable exactly when the member may be None
(``services.records`` copies the row's members of the same name)."""

from __future__ import annotations

from dataclasses import fields
from typing import get_type_hints

import pytest
from pydantic import BaseModel

from pforte.domain.credentials import ApiKeyRecord, CredentialRecord, SecretRecord
from pforte.store.base import Base
from pforte.store.tables import ApiKeyRow, ClientSecretRow
from pforte.web.admin.schemas import ApiKeyPublic, SecretPublic
from tests.test_client_shape import plain

# Members the route computes from the client's other credentials, not stored with the row.
COMPUTED = {"newest"}


@pytest.mark.parametrize(("record", "model"), [(SecretRecord, SecretPublic), (ApiKeyRecord, ApiKeyPublic)])
def test_the_public_model_shows_the_records_members(
    record: type[CredentialRecord], model: type[BaseModel]
) -> None:
    hints = get_type_hints(record)
    assert {f.name: plain(hints[f.name]) for f in fields(record)} == {
        name: plain(f.rebuild_annotation()) for name, f in model.model_fields.items() if name not in COMPUTED
    }


@pytest.mark.parametrize(("record", "row"), [(SecretRecord, ClientSecretRow), (ApiKeyRecord, ApiKeyRow)])
def test_every_member_of_the_record_is_stored(record: type[CredentialRecord], row: type[Base]) -> None:
    hints = get_type_hints(record)
    columns = row.__table__.columns
    assert {f.name: "None" in plain(hints[f.name]).split(" | ") for f in fields(record)} == {
        f.name: columns[f.name].nullable for f in fields(record)
    }


def test_both_kinds_name_their_creator() -> None:
    """DESIGN.md §4: ``createdBy`` on secrets and API keys, a string or null (older rows)."""
    for model in (SecretPublic, ApiKeyPublic):
        assert model.model_fields["created_by"].alias == "createdBy"
        assert plain(model.model_fields["created_by"].rebuild_annotation()) == "None | str"
