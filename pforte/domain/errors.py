"""Domain errors: what went wrong, in words a caller can act on, without HTTP.

    DomainError
     ├── NotFound       the named thing does not exist (or is not visible to the caller)
     ├── Conflict       the request contradicts the current state (duplicate id, protected tenant, limit)
     ├── PreconditionFailed  If-Match names another version than the current one (a lost update)
     ├── Forbidden      the caller is known but lacks a permission
     ├── Unauthorized   the caller could not be identified (no, unknown, revoked or expired credential)
     ├── Invalid        the input breaks a rule; names the field
     └── Unavailable    a collision only time resolves (the database busy with concurrent changes)

The web layer maps each to an RFC 9457 problem; a message never carries a secret value.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base class; ``message`` is safe to show to the caller."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    pass


class PreconditionFailed(DomainError):
    pass


class Forbidden(DomainError):
    """The credential is good but does not reach this far (RFC 6750 §3.1 ``insufficient_scope``);
    ``scope`` names the permission that would, when one would."""

    def __init__(self, message: str, *, scope: str | None = None) -> None:
        super().__init__(message)
        self.scope = scope


class Unauthorized(DomainError):
    """``credential_given`` tells "no credential" apart from "a bad one" (RFC 6750 §3.1)."""

    def __init__(self, message: str, *, credential_given: bool = True) -> None:
        super().__init__(message)
        self.credential_given = credential_given


class Invalid(DomainError):
    """One or more fields break a rule. ``errors`` pairs a field path with a message."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.errors: list[tuple[str, str]] = [(field, message)]


class Unavailable(DomainError):
    """Nothing is wrong with the request; repeating it shortly will work (503, ``Retry-After``)."""
