"""What the admin API shows of a secret or API key is what the services hand out: the members of
``SecretPublic`` / ``ApiKeyPublic`` are the members of the domain records, with the same types."""

from __future__ import annotations

from dataclasses import fields
from typing import get_type_hints

import pytest
from pydantic import BaseModel

from pforte.domain.credentials import ApiKeyRecord, CredentialRecord, SecretRecord
from pforte.web.admin.schemas import ApiKeyPublic, SecretPublic
from tests.test_client_shape import plain


@pytest.mark.parametrize(("record", "model"), [(SecretRecord, SecretPublic), (ApiKeyRecord, ApiKeyPublic)])
def test_the_public_model_shows_the_records_members(
    record: type[CredentialRecord], model: type[BaseModel]
) -> None:
    hints = get_type_hints(record)
    assert {f.name: plain(hints[f.name]) for f in fields(record)} == {
        name: plain(f.rebuild_annotation()) for name, f in model.model_fields.items()
    }
