"""``pforte bootstrap``: local recovery when every admin credential is lost.

Like Keycloak's ``kc.sh bootstrap-admin``: whoever can run commands where the server runs (and
read its database and PFORTE_SECRET_KEY) may always get back in. Prints a fresh API key with
``tenants:admin`` for ``system``; only its hash is stored, and the event ``api_key.created``
records that the CLI made it.
"""

from __future__ import annotations

from typing import Annotated

import typer

from pforte.cli.keys import existing_settings
from pforte.cli.startup import err, out, run_or_exit
from pforte.services.bootstrap import recovery_key


def bootstrap(
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="print the key alone (for scripts)")] = False,
) -> None:
    """Print a fresh recovery API key with tenants:admin for the system tenant."""
    settings = existing_settings()
    created = run_or_exit(settings, recovery_key)
    if quiet:
        out.print(created.api_key, highlight=False, soft_wrap=True)
        return
    err.print(
        f"A new API key of the client [bold]{created.client_id}[/] with tenants:admin "
        "(shown this once; revoke it when you are back in):",
        highlight=False,
    )
    out.print(created.api_key, highlight=False, soft_wrap=True)
    err.print(
        f"Try: curl -H 'Authorization: Bearer …' {settings.public_url}/api/admin/v1/tenants",
        highlight=False,
        soft_wrap=True,
    )
