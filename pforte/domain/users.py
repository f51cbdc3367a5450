"""Users of a tenant: the people who sign in to its applications (DESIGN.md §6).

A user's ``id`` is the ``sub`` of every token issued for them. ``username`` is unique in the
tenant without regard to case and kept as typed: the store keeps ``username_key`` (the
username case-folded) under a unique index, so ``Alice`` and ``alice`` cannot both exist and
either spelling signs in. A password is never part of a record: only its argon2id hash is
stored (``security/passwords.py``), and it never leaves the server.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from pforte.domain.errors import Invalid
from pforte.domain.text import has_control

USERNAME_MAX = 255
EMAIL_MAX = 320
NAME_MAX = 200
# NIST SP 800-63B §3.1.1.2: at least 8 characters, no composition rules; an upper bound keeps
# a request from making the server hash megabytes.
PASSWORD_MIN = 8
PASSWORD_MAX = 256

# Usernames: no whitespace or control character anywhere (they are typed at a sign-in form and
# passed on the command line), "@" allowed so an e-mail address can serve as one.
USERNAME_RE = re.compile(r"[^\s\x00-\x1f\x7f]{1,255}")
# Deliberately loose (RFC 5321 allows more than any regex should check): one "@", a dot in the
# domain, no whitespace. Whether the address works is what emailVerified is for.
EMAIL_RE = re.compile(r"[^\s@\x00-\x1f\x7f]+@[^\s@\x00-\x1f\x7f]+\.[^\s@\x00-\x1f\x7f]+")
USERNAME_PATTERN = f"^{USERNAME_RE.pattern}$"
EMAIL_PATTERN = f"^{EMAIL_RE.pattern}$"


def username_key(username: str) -> str:
    """What uniqueness and look-up compare: the username case-folded (``ß`` = ``ss``)."""
    return username.casefold()


def check_username(username: str, *, field: str = "username") -> str:
    if not USERNAME_RE.fullmatch(username):
        raise Invalid(field, f"must be 1-{USERNAME_MAX} characters without spaces or control characters")
    if len(username_key(username)) > USERNAME_MAX:
        raise Invalid(field, f"must be at most {USERNAME_MAX} characters")
    return username


def check_email(email: str | None, *, field: str = "email") -> str | None:
    if email is None:
        return None
    if len(email) > EMAIL_MAX or not EMAIL_RE.fullmatch(email):
        raise Invalid(field, "must be an e-mail address such as ada@example.com")
    return email


def check_name(value: str | None, *, field: str) -> str | None:
    if value is None:
        return None
    if len(value) > NAME_MAX or has_control(value):
        raise Invalid(field, f"must be at most {NAME_MAX} characters without control characters")
    return value


def check_password(password: str, *, field: str = "password") -> str:
    """The length rule only; the value is never repeated in the message."""
    if len(password) < PASSWORD_MIN:
        raise Invalid(field, f"must be at least {PASSWORD_MIN} characters")
    if len(password) > PASSWORD_MAX:
        raise Invalid(field, f"must be at most {PASSWORD_MAX} characters")
    if "\x00" in password:
        raise Invalid(field, "must not contain NUL")
    return password


@dataclass(frozen=True, slots=True)
class UserSpec:
    """What a caller sets on a user (create, or the whole of an update)."""

    username: str
    email: str | None = None
    email_verified: bool = False
    given_name: str | None = None
    family_name: str | None = None
    enabled: bool = True

    def checked(self) -> UserSpec:
        check_username(self.username)
        check_email(self.email)
        check_name(self.given_name, field="givenName")
        check_name(self.family_name, field="familyName")
        return self


@dataclass(frozen=True, slots=True)
class User:
    """A user as the services hand it out: never the password or its hash."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    username: str
    email: str | None
    email_verified: bool
    given_name: str | None
    family_name: str | None
    enabled: bool
    roles: tuple[str, ...]  # tenant role names, sorted
    created_at: datetime
    updated_at: datetime
    version: int
    must_change_password: bool = False  # the next sign-in asks for a new password first


SEARCH_MAX = 200


@dataclass(frozen=True, slots=True)
class UserFilter:
    """What the User API's list asks for; every member narrows (DESIGN.md §7).

    ``search`` is a prefix of the username, the e-mail, the given or the family name;
    ``username`` and ``email`` are prefixes of that field alone. All compare case-folded.
    """

    search: str | None = None
    username: str | None = None
    email: str | None = None
    enabled: bool | None = None
    email_verified: bool | None = None
    role: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None

    def checked(self) -> UserFilter:
        for field, value in (("search", self.search), ("username", self.username), ("email", self.email)):
            if value is not None and (not value or len(value) > SEARCH_MAX or has_control(value)):
                raise Invalid(field, f"must be 1-{SEARCH_MAX} characters without control characters")
        for field, moment in (("createdAfter", self.created_after), ("createdBefore", self.created_before)):
            if moment is not None and moment.tzinfo is None:
                raise Invalid(field, "must be a date-time with a time zone, e.g. 2026-12-06T10:00:00Z")
        return self

    def folded(self, value: str | None) -> str | None:
        return value.casefold() if value is not None else None
