"""``pforte init``: create the schema and the ``system`` tenant; print the first credentials once."""

from __future__ import annotations

from pforte.cli.startup import initialise_or_exit, out, settings_or_exit, show_bootstrap


def init() -> None:
    """Create the schema and the system tenant; print the bootstrap credentials (once)."""
    settings = settings_or_exit()
    created = initialise_or_exit(settings)
    if created is None:
        out.print("Already initialised: the system tenant exists; no credentials printed.")
        return
    show_bootstrap(settings, created)
