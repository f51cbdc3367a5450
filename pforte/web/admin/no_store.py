"""Responses that show a credential's value (a client secret, an API key) are never stored.

``Cache-Control: no-store`` (RFC 9111 §5.2.2.5) and, for HTTP/1.0 caches, ``Pragma: no-cache``:
the headers RFC 6749 §5.1 requires of the token response, on the admin routes that return a
value once. A route opts in with ``**shows_credential(…)`` in its decorator, which also declares
the headers in the OpenAPI document.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Response

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def no_store(response: Response) -> None:
    response.headers.update(NO_STORE)


def shows_credential(responses: dict[int | str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The route decorator's arguments for a route that shows a credential, with its other
    documented ``responses``."""
    created = {
        "description": "Created; the credential's value is in this response only: never cached.",
        "headers": {
            name: {"schema": {"type": "string", "enum": [value]}, "description": "never cache"}
            for name, value in NO_STORE.items()
        },
    }
    return {"dependencies": [Depends(no_store)], "responses": {**(responses or {}), 201: created}}


SHOWS_CREDENTIAL = shows_credential()
