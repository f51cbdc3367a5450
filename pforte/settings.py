"""Settings: ``PFORTE_*`` environment variables, also read from ``.env``; validated once at start."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from pforte.domain.outbound import OutboundPolicy, parse_networks
from pforte.security import files


class SettingsError(Exception):
    """A setting is wrong; the message is one line naming the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PFORTE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = "sqlite+aiosqlite:///./pforte.db"
    # Unset (or empty): the address actually served, ``served_url(host, port)``.
    public_url: str = ""
    secret_key: SecretStr | None = None
    key_file: Path = Path("./pforte.key")
    bootstrap_client_id: str | None = None
    bootstrap_client_secret: SecretStr | None = None
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8000
    workers: Annotated[int, Field(ge=1, le=64)] = 1
    server: Literal["uvicorn", "granian"] = "uvicorn"
    log_level: str = "info"
    access_log: bool = True
    max_body_bytes: Annotated[int, Field(ge=1024, le=16 * 1024 * 1024)] = 64 * 1024
    # Seconds to receive a whole request body, from when reading it begins (408 after).
    body_timeout: Annotated[float, Field(gt=0, le=600)] = 10.0
    # Seconds for a request's line and headers, from the connection (or the request's first byte).
    header_timeout: Annotated[float, Field(gt=0, le=600)] = 10.0
    page_size_max: Annotated[int, Field(ge=1, le=1000)] = 200
    # In-process caches of the token hot path (entries; least recently used go first).
    cache_clients: Annotated[int, Field(ge=100, le=10_000_000)] = 50_000
    cache_tenants: Annotated[int, Field(ge=10, le=1_000_000)] = 10_000
    cache_tokens: Annotated[int, Field(ge=100, le=10_000_000)] = 10_000
    # Signing keys: a new key is published this many seconds before it signs (the JWKS is cached
    # for 60 s); each tenant gets a new key when its newest is this many days old (0: never).
    key_publish_ahead: Annotated[int, Field(ge=0, le=24 * 3600)] = 60
    key_rotation_days: Annotated[int, Field(ge=0, le=3650)] = 90
    # Events older than this many days are deleted (hourly, in small batches); 0: kept forever.
    event_retention_days: Annotated[int, Field(ge=0, le=36500)] = 90
    # A secret or API key expiring within this many days gets its one ``*.expiring`` event.
    expiry_warning_days: Annotated[int, Field(ge=1, le=365)] = 14
    # Shared state between processes (failed-authentication counts); unset: in process memory.
    redis_url: SecretStr | None = None
    # Failed client authentications per client id and window before 429 (services.throttle).
    auth_failure_limit: Annotated[int, Field(ge=1, le=1000)] = 10
    auth_failure_window: Annotated[int, Field(ge=1, le=3600)] = 60
    # The first user of ``system`` (role admin), created at start if both are set and it is missing.
    bootstrap_admin_username: str | None = None
    bootstrap_admin_password: SecretStr | None = None
    # argon2id for passwords (RFC 9106 §4's second recommendation: 64 MiB, t=3, p=4). A change
    # takes effect for each user at their next sign-in (the hash is renewed).
    password_time_cost: Annotated[int, Field(ge=1, le=20)] = 3
    password_memory_kib: Annotated[int, Field(ge=8 * 1024, le=4 * 1024 * 1024)] = 64 * 1024
    password_parallelism: Annotated[int, Field(ge=1, le=16)] = 4
    # Seconds a sign-in session lasts (Keycloak's "SSO Session Max": 10 hours).
    session_lifetime: Annotated[int, Field(ge=60, le=30 * 24 * 3600)] = 10 * 3600
    # Failed sign-ins per account, and per client address, in PFORTE_AUTH_FAILURE_WINDOW seconds.
    sign_in_failure_limit: Annotated[int, Field(ge=1, le=1000)] = 10
    sign_in_address_failure_limit: Annotated[int, Field(ge=1, le=10_000)] = 50
    # Non-public addresses the server may call (back-channel logout): IP networks and host names.
    outbound_allow: str = ""
    # Reverse proxies whose X-Forwarded-For names the client (sign-in throttling per address).
    trusted_proxies: str = ""
    # Unset (or empty): no ``/metrics``. Set: Prometheus metrics for ``Authorization: Bearer <it>``.
    metrics_token: SecretStr | None = None

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError("not a SQLAlchemy database URL") from exc
        if url.drivername not in {"sqlite+aiosqlite", "postgresql+asyncpg"}:
            raise ValueError("use sqlite+aiosqlite:///… or postgresql+asyncpg://…")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        if not value:
            return ""
        parts = urlsplit(value)
        try:
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError as exc:
            raise ValueError("has a bad port") from exc
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("must be an absolute http(s) URL")
        if parts.query or parts.fragment:
            raise ValueError("must not carry a query or fragment")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _default_public_url(self) -> Settings:
        if not self.public_url:
            self.public_url = served_url(self.host, self.port)
        return self

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        # The messages never repeat the value: it may carry a password.
        parts = urlsplit(value.get_secret_value())
        try:
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError as exc:
            raise ValueError("has a bad port") from exc
        if parts.scheme not in {"redis", "rediss"} or not parts.hostname:
            raise ValueError("must be a redis:// or rediss:// URL with a host")
        if parts.path.strip("/") and not parts.path.strip("/").isdigit():
            raise ValueError("the path must be a database number, as in redis://host:6379/0")
        return value

    @field_validator("outbound_allow")
    @classmethod
    def _outbound_allow(cls, value: str) -> str:
        OutboundPolicy.parse(value)  # ValueError names the bad entry
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _trusted_proxies(cls, value: str) -> str:
        parse_networks(value)  # ValueError names the bad entry
        return value

    @field_validator("metrics_token")
    @classmethod
    def _metrics_token(cls, value: SecretStr | None) -> SecretStr | None:
        token = "" if value is None else value.get_secret_value()
        if not token:
            return None
        # The messages never repeat the value.
        if len(token) < 16:
            raise ValueError("must be at least 16 characters")
        if not all("!" <= c <= "~" for c in token):
            raise ValueError("must be printable ASCII without spaces (it travels in an HTTP header)")
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.lower() not in {"debug", "info", "warning", "error"}:
            raise ValueError("must be debug, info, warning or error")
        return value.lower()

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_file(self) -> Path | None:
        """The database file of a SQLite URL; None for PostgreSQL or an in-memory database."""
        database = make_url(self.database_url).database if self.is_sqlite else None
        return Path(database) if database and database != ":memory:" else None

    @property
    def database_url_redacted(self) -> str:
        """``PFORTE_DATABASE_URL`` for messages: the password replaced by ``***``."""
        return make_url(self.database_url).render_as_string(hide_password=True)

    @property
    def redis_url_redacted(self) -> str | None:
        """``PFORTE_REDIS_URL`` for messages and logs: any password replaced by ``***``."""
        return None if self.redis_url is None else redact_url(self.redis_url.get_secret_value())

    def issuer(self, tenant_slug: str) -> str:
        return f"{self.public_url}/t/{tenant_slug}"

    def server_secret(self) -> bytes:
        """PFORTE_SECRET_KEY, or the key file (created with mode 0600 on first use). SettingsError
        if an existing key file is open to group or others: it is refused, not used."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        path = self.key_file
        if path.exists():
            if files.is_shared(path):
                raise SettingsError(
                    f"PFORTE_KEY_FILE: {path} is readable or writable by group or others "
                    f"(mode {files.mode(path):o}); refused. Fix: chmod 600 {path}"
                )
            return path.read_bytes().strip()
        value = secrets.token_urlsafe(48)
        files.create_private(path, value + "\n")
        print(  # noqa: T201 - start-up warning before logging is configured
            f"warning: PFORTE_SECRET_KEY is not set; generated one into {path} (mode 0600). "
            "Set PFORTE_SECRET_KEY in production.",
            file=sys.stderr,
        )
        return value.encode()


def http_url(host: str, port: int) -> str:
    """``http://host:port``, an IPv6 address bracketed."""
    return f"http://[{host}]:{port}" if ":" in host and not host.startswith("[") else f"http://{host}:{port}"


def served_url(host: str, port: int) -> str:
    """The URL of a listening address, fit for a link: a wildcard address (every interface)
    becomes the loopback one. The default of ``PFORTE_PUBLIC_URL``."""
    wildcard = host in {"", "0.0.0.0", "::", "[::]"}  # noqa: S104 - compared, not bound
    return http_url("127.0.0.1" if wildcard else host, port)


def redact_url(url: str) -> str:
    """``url`` with the password (or a lone user name, which Redis may take as one) as ``***``."""
    parts = urlsplit(url)
    if "@" in parts.netloc:
        userinfo, _, hostport = parts.netloc.rpartition("@")
        user, has_password, _ = userinfo.partition(":")
        parts = parts._replace(netloc=f"{user}:***@{hostport}" if has_password else f"***@{hostport}")
    if parts.query:  # redis-py also takes ?password=…
        pairs = [pair.partition("=") for pair in parts.query.split("&")]
        query = "&".join(
            f"{name}=***" if name.lower() == "password" else f"{name}{eq}{value}" for name, eq, value in pairs
        )
        parts = parts._replace(query=query)
    return parts.geturl()


def load_settings(**overrides: object) -> Settings:
    """Build settings or raise SettingsError with one line naming the variable at fault."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "PFORTE_" + str(first["loc"][0]).upper() if first["loc"] else "PFORTE_*"
        raise SettingsError(f"{name}: {first['msg']}") from None
    if (settings.bootstrap_client_id is None) != (settings.bootstrap_client_secret is None):
        raise SettingsError(
            "PFORTE_BOOTSTRAP_CLIENT_ID and PFORTE_BOOTSTRAP_CLIENT_SECRET must be set together"
        )
    secret = settings.bootstrap_client_secret
    if secret is not None and len(secret.get_secret_value()) < 24:
        raise SettingsError("PFORTE_BOOTSTRAP_CLIENT_SECRET: must be at least 24 characters")
    if settings.secret_key is not None and len(settings.secret_key.get_secret_value()) < 32:
        raise SettingsError("PFORTE_SECRET_KEY: must be at least 32 characters")
    return settings
