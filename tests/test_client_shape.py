"""The client's fields and defaults are declared once, by ``domain.clients.ClientSpec``; every
other place that spells them out is checked against it here, so that one of them drifting (a
field added, renamed, retyped or given another default in one place only) fails:

- the admin API models (``ClientFields`` and its ``ClientCreate`` / ``ClientUpdate``, and
  ``ClientPublic``): the same fields, the same types, the declared defaults — in the OpenAPI
  document too — and every string the API accepts fits its column;
- the ORM table ``ClientRow``: a column per field, same type and nullability, no default of its
  own that differs (Python or server side), nothing else but the ``Client`` record's members;
- the migrated database (SQLite and PostgreSQL): the ``clients`` table as the migrations built it
  (``tests/store/test_migrations.py`` compares the migrations with the models in full);
- validation: the declared defaults are valid, and every field ``validate`` names is declared.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import types
from dataclasses import asdict, fields
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

import pytest
import sqlalchemy
from pydantic import BaseModel
from pydantic.alias_generators import to_camel
from sqlalchemy import Connection

from pforte.domain import clients as domain
from pforte.domain.clients import CLIENT_DEFAULTS, SPEC_FIELDS, Client, ClientSpec, validate
from pforte.services.context import Context
from pforte.store.tables import ClientRow
from pforte.web.admin.schemas import ClientCreate, ClientFields, ClientPublic, ClientUpdate

SPEC = set(SPEC_FIELDS)
HINTS = get_type_hints(ClientSpec)
DEFAULTS = {name: getattr(CLIENT_DEFAULTS, name) for name in SPEC_FIELDS if name != "client_id"}
STORED = {f.name for f in fields(Client)} - {"spec"}  # what a stored client has beside its settings
READ_ONLY = {"id", "created_at", "updated_at"}  # what its GET shows beside its settings


def plain(tp: Any) -> str:
    """A type without its constraints, spelled one way: ``Annotated[StrictStr, …] | None`` and
    ``Optional[str]`` are both ``None | str``."""
    origin = get_origin(tp)
    if origin is Annotated:
        return plain(get_args(tp)[0])
    if origin in (Union, types.UnionType):
        return " | ".join(sorted({plain(arg) for arg in get_args(tp)}))
    if origin is list:
        return f"list[{plain(get_args(tp)[0])}]"
    return "None" if tp is type(None) else str(tp.__name__)


def nullable(name: str) -> bool:
    return "None" in plain(HINTS[name]).split(" | ")


def model_types(model: type[BaseModel]) -> dict[str, str]:
    return {name: plain(f.rebuild_annotation()) for name, f in model.model_fields.items()}


def test_the_declaration_has_a_default_for_every_field_but_client_id() -> None:
    assert SPEC_FIELDS[0] == "client_id" and set(HINTS) == SPEC
    assert set(DEFAULTS) == SPEC - {"client_id"}
    assert asdict(CLIENT_DEFAULTS) == asdict(ClientSpec(client_id=""))


# --- the admin API models --------------------------------------------------------------------


@pytest.mark.parametrize("model", [ClientFields, ClientCreate, ClientUpdate, ClientPublic])
def test_the_api_models_have_the_declared_fields(model: type[BaseModel]) -> None:
    extra = READ_ONLY if model in (ClientUpdate, ClientPublic) else set()
    assert set(model.model_fields) == SPEC | extra


@pytest.mark.parametrize("model", [ClientFields, ClientCreate, ClientUpdate, ClientPublic])
def test_the_api_models_have_the_declared_types(model: type[BaseModel]) -> None:
    found = model_types(model)
    declared = {name: plain(HINTS[name]) for name in SPEC}
    if model in (ClientFields, ClientUpdate):  # the clientId of PUT and PATCH is the path's
        declared["client_id"] = "None | str"
    assert {name: found[name] for name in SPEC} == declared


@pytest.mark.parametrize("model", [ClientFields, ClientCreate, ClientUpdate])
def test_the_incoming_models_take_the_declared_defaults(model: type[BaseModel]) -> None:
    assert {name: model.model_fields[name].get_default(call_default_factory=True) for name in DEFAULTS} == (
        DEFAULTS
    )
    # …and say so in the OpenAPI document.
    properties = model.model_json_schema(by_alias=True)["properties"]
    assert {name: properties[to_camel(name)].get("default", "<none>") for name in DEFAULTS} == DEFAULTS


def test_a_create_with_only_a_client_id_is_the_declared_client() -> None:
    body = ClientCreate.model_validate({"clientId": "app"})
    assert ClientSpec(client_id=body.client_id, **body.model_dump(exclude={"client_id"})) == ClientSpec(
        client_id="app"
    )


def longest_accepted(model: type[BaseModel], name: str) -> int | None:
    """The longest string (or list entry) the model accepts for the field; None if unbounded."""
    schema: dict[str, Any] = model.model_json_schema()["properties"][to_camel(name)]
    schema = next((s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"), schema)
    schema = schema.get("items", schema)
    if "maxLength" in schema:
        return int(schema["maxLength"])
    bounded = re.search(r"\{\d+,(\d+)\}\$$", schema.get("pattern", ""))
    return int(bounded[1]) if bounded else None


@pytest.mark.parametrize("name", [c.name for c in ClientRow.__table__.columns if c.name in SPEC])
def test_every_string_the_api_accepts_fits_its_column(name: str) -> None:
    length = getattr(ClientRow.__table__.columns[name].type, "length", None)
    if length is not None:
        accepted = longest_accepted(ClientCreate, name)
        assert accepted is not None and accepted <= length, (
            f"{name}: the API accepts {accepted}, holds {length}"
        )


# --- the table ---------------------------------------------------------------------------------


def test_the_table_has_a_column_per_field_and_the_records_members() -> None:
    assert set(ClientRow.__table__.columns.keys()) == SPEC | STORED


def test_the_columns_have_the_declared_types_and_nullability() -> None:
    mapped = get_type_hints(ClientRow)
    columns = ClientRow.__table__.columns
    assert {name: plain(get_args(mapped[name])[0]) for name in SPEC} == {
        name: plain(HINTS[name]) for name in SPEC
    }
    assert {name: columns[name].nullable for name in SPEC} == {name: nullable(name) for name in SPEC}


def sql_default_is(text: str, value: object) -> bool:
    """Whether a server default's SQL text (as declared or as reflected) is ``value``."""
    text = text.strip().strip("'")
    if isinstance(value, bool):
        return text.lower() in ({"1", "true"} if value else {"0", "false"})
    if isinstance(value, list):
        return json.loads(text) == value
    return text == str(value)


def test_the_columns_have_no_default_of_their_own() -> None:
    """A default set in the table besides the declaration is a second one: if there is one at
    all (Python or server side), it must be the declared one."""
    for name, value in DEFAULTS.items():
        column = ClientRow.__table__.columns[name]
        if column.default is not None:
            assert column.default.arg == value, name  # type: ignore[attr-defined]
        if column.server_default is not None:
            assert sql_default_is(str(column.server_default.arg), value), name  # type: ignore[attr-defined]


def reflected_clients(connection: Connection) -> list[dict[str, Any]]:
    return list(sqlalchemy.inspect(connection).get_columns("clients"))


@pytest.mark.anyio
async def test_the_migrated_table_agrees_with_the_declaration(ctx: Context) -> None:
    async with ctx.db.engine.connect() as conn:
        columns = {c["name"]: c for c in await conn.run_sync(reflected_clients)}
    assert set(columns) == SPEC | STORED
    for name, value in DEFAULTS.items():
        default = columns[name]["default"]
        assert default is None or sql_default_is(default, value), f"{name}: {default!r}"
        assert columns[name]["nullable"] == nullable(name), name


# --- validation -----------------------------------------------------------------------------


def test_the_declared_defaults_are_valid() -> None:
    assert validate(ClientSpec(client_id="app"), tenant_slug="acme") == ClientSpec(client_id="app")


def test_every_field_validation_names_is_declared() -> None:
    """``Invalid`` names the (camelCase) field at fault: each name validation uses is a field."""
    tree = ast.parse(Path(inspect.getfile(domain)).read_text(encoding="utf-8"))
    named = {
        found[1]
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name in {"validate", "_check_flags"}
        for text in ast.walk(node)
        if isinstance(text, ast.Constant) and isinstance(text.value, str)
        if (found := re.fullmatch(r"([a-z]+(?:[A-Z][a-z]*)+)\[?", text.value))
    }
    assert len(named) >= 10  # the check sees them
    assert named <= {to_camel(name) for name in SPEC}
