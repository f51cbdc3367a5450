"""Which origins the authenticated client allows, noted while the token or revocation pipeline
authenticates it, for the CORS layer in web (``web.protocol.cors``) to read afterwards."""

from __future__ import annotations

from contextvars import ContextVar

# Set by the CORS layer for a request with an Origin to a client endpoint.
cors_slot: ContextVar[dict[str, frozenset[str]] | None] = ContextVar("cors_slot", default=None)


def note_client_origins(origins: frozenset[str]) -> None:
    """Called by client authentication: which origins the authenticated client allows."""
    slot = cors_slot.get()
    if slot is not None:
        slot["origins"] = origins
