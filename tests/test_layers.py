"""The one-way layering (web → services → domain + store), checked on the import statements.

Each module under ``pforte/`` is parsed with ``ast``; every ``import`` / ``from … import``
anywhere in it (also inside functions and ``if TYPE_CHECKING:``) counts, relative imports
resolved to absolute names.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FRAMEWORKS = ("fastapi", "starlette", "sqlalchemy", "alembic", "pydantic", "pydantic_settings", "httpx")

# Outside pforte/store and pforte/services, these modules import SQLAlchemy today although
# CONVENTIONS §1 says the store is the only package that does. They are listed so that the test
# catches any new one, and fails when one of them goes (then strike it from the list).
KNOWN_SQLALCHEMY_OUTSIDE_STORE = {
    ("pforte/settings.py", "sqlalchemy.engine"),  # make_url to validate PFORTE_DATABASE_URL
    ("pforte/settings.py", "sqlalchemy.exc"),
    ("pforte/cli/startup.py", "sqlalchemy.exc"),  # "database unreachable" errors at start
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_statements(source: str, package: str) -> list[tuple[str, list[str]]]:
    """``(module, names)`` per import statement in ``source``, which lives in ``package``;
    ``import a.b`` gives ``("a.b", [])``, ``from ..x import y`` gives ``("<parent>.x", ["y"])``."""
    statements: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            statements.extend((alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - (node.level - 1)])
                module = f"{base}.{module}" if module else base
            statements.append((module, [alias.name for alias in node.names]))
    return statements


def package_of(path: Path) -> str:
    name = module_name(path)
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def imported_modules(path: Path) -> set[str]:
    """The modules named by ``path``'s import statements."""
    return {module for module, _ in import_statements(path.read_text(encoding="utf-8"), package_of(path))}


def imports(path: Path) -> set[str]:
    """Every name ``path`` may import: the modules, and ``a.b`` for ``from a import b`` (``b``
    may be a submodule: ``from pforte import store``)."""
    return expand(import_statements(path.read_text(encoding="utf-8"), package_of(path)))


def expand(statements: list[tuple[str, list[str]]]) -> set[str]:
    found: set[str] = set()
    for module, names in statements:
        found.add(module)
        found.update(f"{module}.{name}" for name in names if name != "*")
    return found


def modules(under: str) -> list[Path]:
    paths = sorted((ROOT / under).rglob("*.py"))
    assert paths, f"no modules under {under}"
    return paths


def is_within(name: str, roots: tuple[str, ...]) -> bool:
    return any(name == root or name.startswith(root + ".") for root in roots)


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def violations(under: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{rel(path)} imports {name}"
        for path in modules(under)
        for name in sorted(imports(path))
        if is_within(name, forbidden)
    ]


# the helper itself ----------------------------------------------------------------------------


def test_import_statements_sees_relative_nested_and_type_checking_imports() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "from . import errors\n"
        "from ..store import engine\n"
        "from pforte import web\n"
        "if TYPE_CHECKING:\n"
        "    import sqlalchemy.orm\n"
        "def f():\n"
        "    from fastapi import Depends\n"
    )
    statements = import_statements(source, "pforte.domain.oauth")
    assert sorted(statements) == [
        ("fastapi", ["Depends"]),
        ("pforte", ["web"]),
        ("pforte.domain.oauth", ["errors"]),
        ("pforte.domain.store", ["engine"]),
        ("sqlalchemy.orm", []),
        ("typing", ["TYPE_CHECKING"]),
    ]
    assert is_within("pforte.web", ("pforte.web",)) and "pforte.web" in expand(statements)
    assert is_within("sqlalchemy.orm", ("sqlalchemy",))
    assert not is_within("sqlalchemyx", ("sqlalchemy",))


# the rules ------------------------------------------------------------------------------------


def test_domain_is_pure() -> None:
    forbidden = (*FRAMEWORKS, "pforte.store", "pforte.web", "pforte.services")
    assert violations("pforte/domain", forbidden) == []


def test_domain_imports_nothing_above_it() -> None:
    forbidden = ("pforte.app", "pforte.cli", "pforte.settings", "pforte.observability")
    assert violations("pforte/domain", forbidden) == []


def test_store_does_not_import_services_or_web() -> None:
    forbidden = ("pforte.web", "pforte.services", "pforte.app", "pforte.cli")
    assert violations("pforte/store", forbidden) == []


def test_web_does_not_import_sqlalchemy() -> None:
    assert violations("pforte/web", ("sqlalchemy", "alembic")) == []


def test_web_does_not_import_the_store() -> None:
    """Routes call services, which hand out domain records: no ORM row, engine or repository
    reaches the web layer."""
    assert violations("pforte/web", ("pforte.store",)) == []


def test_cli_does_not_import_the_store() -> None:
    assert violations("pforte/cli", ("pforte.store",)) == []


# The admin use cases; ``units.py`` is left out: its units carry rows between services, inside
# the transaction, and no further.
ADMIN_SERVICES = tuple(
    f"pforte/services/{name}.py"
    for name in (
        "clients",
        "tenants",
        "credentials",
        "keys",
        "lockout",
        "principals",
        "bootstrap",
        "guide",
        "audit",
    )
)


def row_names(annotation: ast.expr | None) -> set[str]:
    """The ``…Row`` names an annotation mentions (``Page[ClientRow]``, ``"TenantRow | None"``)."""
    if annotation is None:
        return set()
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        annotation = ast.parse(annotation.value, mode="eval").body
    return {n.id for n in ast.walk(annotation) if isinstance(n, ast.Name) and n.id.endswith("Row")}


def test_admin_services_hand_out_records_not_rows() -> None:
    """A use case (a public function that takes ``ctx`` and so owns its transaction) returns
    domain records or plain dataclasses, and no dataclass a service defines holds a row.
    Helpers that work in the caller's transaction (``session`` first) may pass rows along."""
    found = []
    for path in ADMIN_SERVICES:
        tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef) and not node.name.startswith("_"):
                takes_ctx = bool(node.args.args) and node.args.args[0].arg == "ctx"
                if takes_ctx and (rows := row_names(node.returns)):
                    found.append(f"{path}: {node.name} returns {sorted(rows)}")
            elif isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.AnnAssign) and (rows := row_names(item.annotation)):
                        found.append(f"{path}: {node.name} holds {sorted(rows)}")
    assert found == []


def test_services_import_only_sqlalchemy_exc_and_asyncio_session() -> None:
    allowed = ("sqlalchemy.exc", "sqlalchemy.ext.asyncio")
    found = [
        f"{rel(path)} imports {name}"
        for path in modules("pforte/services")
        for name in sorted(imported_modules(path))
        if is_within(name, ("sqlalchemy",)) and not is_within(name, allowed)
    ]
    assert found == []


def test_sqlalchemy_is_imported_only_by_store_and_services() -> None:
    found = {
        (rel(path), name)
        for path in modules("pforte")
        if not is_within(module_name(path), ("pforte.store", "pforte.services"))
        for name in imported_modules(path)
        if is_within(name, ("sqlalchemy",))
    }
    assert found == KNOWN_SQLALCHEMY_OUTSIDE_STORE


def test_alembic_is_imported_only_by_the_store() -> None:
    found = [
        f"{rel(path)} imports {name}"
        for path in modules("pforte")
        if not is_within(module_name(path), ("pforte.store",))
        for name in sorted(imports(path))
        if is_within(name, ("alembic",))
    ]
    assert found == []
