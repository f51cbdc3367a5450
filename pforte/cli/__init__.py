"""The ``pforte`` command (Typer + Rich). Commands call services only."""

from __future__ import annotations

import typer

from pforte.cli import bootstrap, init, keys, serve, users

app = typer.Typer(
    name="pforte",
    help="Pforte: a multi-tenant OAuth 2.0 / OpenID Connect server for API clients.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("serve")(serve.serve)
app.command("init")(init.init)
app.command("bootstrap")(bootstrap.bootstrap)
app.add_typer(keys.app, name="keys")
app.add_typer(users.app, name="users")


def main() -> None:
    app()
