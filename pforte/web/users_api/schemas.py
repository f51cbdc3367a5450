"""User API models (DESIGN.md §6, §7): camelCase on the wire, split by direction.

A password goes in (create, set password) and never comes out: no model here has a member for
it or its hash.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, StrictBool

from pforte.domain.roles import ROLE_NAME_PATTERN
from pforte.domain.users import (
    EMAIL_MAX,
    EMAIL_PATTERN,
    NAME_MAX,
    PASSWORD_MAX,
    PASSWORD_MIN,
    USERNAME_PATTERN,
)
from pforte.web.admin.schemas import Incoming, Line, Outgoing, Token

Username = Annotated[
    Token,
    Field(
        description="unique in the tenant without regard to case",
        json_schema_extra={"pattern": USERNAME_PATTERN},
    ),
]
Email = Annotated[Token, Field(max_length=EMAIL_MAX, json_schema_extra={"pattern": EMAIL_PATTERN})]
Name = Annotated[Line, Field(max_length=NAME_MAX)]
Password = Annotated[
    str,
    Field(
        min_length=PASSWORD_MIN,
        max_length=PASSWORD_MAX,
        description="hashed with argon2id at once; never shown again, in any form",
        json_schema_extra={"format": "password", "writeOnly": True},
    ),
]
RoleName = Annotated[Token, Field(json_schema_extra={"pattern": ROLE_NAME_PATTERN})]


class UserCreate(Incoming):
    username: Username
    email: Email | None = None
    email_verified: StrictBool = False
    given_name: Name | None = None
    family_name: Name | None = None
    enabled: StrictBool = True
    password: Password | None = Field(None, description="optional: without one, the user cannot sign in yet")
    must_change_password: StrictBool = Field(
        False, description="the first sign-in asks for a new password before anything else"
    )
    roles: Annotated[list[RoleName], Field(max_length=100)] = Field(
        default_factory=list,
        description="tenant roles to assign; each needs the caller to hold its permissions",
    )


class UserUpdate(Incoming):
    """JSON merge patch (RFC 7396): a member left out stays; ``email``, ``givenName`` and
    ``familyName`` set to null are removed."""

    username: Username | None = None
    email: Email | None = None
    email_verified: StrictBool | None = None
    given_name: Name | None = None
    family_name: Name | None = None
    enabled: StrictBool | None = Field(
        None, description="false ends every session and refresh token of the user"
    )


class PasswordSet(Incoming):
    password: Password
    must_change: StrictBool = Field(False, description="the next sign-in asks for a new password first")


class UserPublic(Outgoing):
    id: uuid.UUID = Field(description="the `sub` of the user's tokens")
    username: str
    email: str | None
    email_verified: bool
    given_name: str | None
    family_name: str | None
    enabled: bool
    must_change_password: bool
    roles: list[str] = Field(description="tenant role names")
    created_at: datetime
    updated_at: datetime


class UserBrief(Outgoing):
    """``?brief=true``: what an export needs, read without the roles."""

    id: uuid.UUID
    username: str
    enabled: bool


class UserPage(Outgoing):
    items: list[UserPublic] | list[UserBrief]
    next: str | None = Field(description="cursor of the next page; null on the last page")
    total: int | None = Field(description="with `?count=true`: every match, over all pages; else null")


class RoleAssign(Incoming):
    name: RoleName


class HeldRoleOut(Outgoing):
    name: str
