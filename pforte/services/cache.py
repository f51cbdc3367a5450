"""The in-process cache the protocol endpoints read instead of the database.

Tenants with their decrypted signing keys, clients with their secrets' hashes and windows, and
access tokens whose signature has been checked — bounded LRU maps of ``services.views``, filled
by ``services.view_loader`` — plus the whole deny-list of revoked tokens. Every entry is exact
until a change is published (``services.changes``): this process applies its own changes at
commit, the others within a second through the change feed (``services.feed``). Time-bound
facts (secret windows, key activation, token expiry) are stored as facts and checked against
the clock on every request, so they need no invalidation.

A load that raced with a change is not stored: ``generation`` moves on every change, and a
loader stores its result only if the generation it started from is still current.

Each map counts its hits and misses in a ``Tally`` (two plain ints, a few nanoseconds per
lookup), which ``/metrics`` reads at scrape time (``pforte_cache_requests_total``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sized
from datetime import datetime
from typing import Any

from cachetools import LRUCache

from pforte.domain.clock import Clock, utcnow
from pforte.services.changes import REVOKED, Change
from pforte.services.view_loader import ViewLoader
from pforte.services.views import ClientView, KeyView, TenantView, VerifiedToken
from pforte.settings import Settings


class Tally:
    __slots__ = ("hits", "misses")

    def __init__(self) -> None:
        self.hits = 0
        self.misses = 0


class HotCache:
    def __init__(self, settings: Settings, loader: ViewLoader, clock: Clock = utcnow) -> None:
        self.loader = loader
        self.clock = clock
        self.generation = 0
        self._tenants: LRUCache[str, TenantView | None] = LRUCache(maxsize=settings.cache_tenants)
        self._clients: LRUCache[tuple[uuid.UUID, str], ClientView | None] = LRUCache(
            maxsize=settings.cache_clients
        )
        self._tokens: LRUCache[str, VerifiedToken] = LRUCache(maxsize=settings.cache_tokens)
        # tenant id → every origin its enabled clients allow (loaded at the first CORS request)
        self._origins: LRUCache[uuid.UUID, frozenset[str]] = LRUCache(maxsize=settings.cache_tenants)
        # (tenant id, user id) → whether the user exists and is enabled (user tokens)
        self._users: LRUCache[tuple[uuid.UUID, uuid.UUID], bool] = LRUCache(maxsize=settings.cache_clients)
        self.revoked: dict[str, float] = {}  # jti → exp (epoch seconds), the whole deny-list
        self._revoked_loaded = False
        self.tallies = {name: Tally() for name in ("tenants", "clients", "tokens", "origins", "users")}
        self._tenants_tally = self.tallies["tenants"]
        self._clients_tally = self.tallies["clients"]
        self._tokens_tally = self.tallies["tokens"]
        self._origins_tally = self.tallies["origins"]
        self._users_tally = self.tallies["users"]

    def sizes(self) -> dict[str, int]:
        """Entries held now, by map (``tallies`` names them alike)."""
        maps: tuple[Sized, ...] = (self._tenants, self._clients, self._tokens, self._origins, self._users)
        return {name: len(held) for name, held in zip(self.tallies, maps, strict=True)}

    # -- reading -------------------------------------------------------------------------------

    async def tenant(self, slug: str) -> TenantView | None:
        try:
            found = self._tenants[slug]
        except KeyError:
            self._tenants_tally.misses += 1
        else:
            self._tenants_tally.hits += 1
            return found
        generation = self.generation
        view = await self.loader.tenant(slug)
        if generation == self.generation:
            self._tenants[slug] = view
        return view

    async def client(self, tenant: TenantView, client_id: str) -> ClientView | None:
        key = (tenant.id, client_id)
        try:
            found = self._clients[key]
        except KeyError:
            self._clients_tally.misses += 1
        else:
            self._clients_tally.hits += 1
            return found
        generation = self.generation
        view = await self.loader.client(tenant.id, client_id)
        if generation == self.generation:
            self._clients[key] = view
        return view

    async def cors_origins(self, tenant: TenantView) -> frozenset[str]:
        try:
            found = self._origins[tenant.id]
        except KeyError:
            self._origins_tally.misses += 1
        else:
            self._origins_tally.hits += 1
            return found
        generation = self.generation
        origins = await self.loader.cors_origins(tenant.id)
        if generation == self.generation:
            self._origins[tenant.id] = origins
        return origins

    async def user_active(self, tenant: TenantView, user_id: uuid.UUID) -> bool:
        """Whether the user exists and is enabled: a user's access tokens end with the user."""
        key = (tenant.id, user_id)
        try:
            found = self._users[key]
        except KeyError:
            self._users_tally.misses += 1
        else:
            self._users_tally.hits += 1
            return found
        generation = self.generation
        active = await self.loader.user_active(tenant.id, user_id)
        if generation == self.generation:
            self._users[key] = active
        return active

    def signing_key(self, tenant: TenantView, now: datetime) -> KeyView | None:
        """The key that signs the tenant's tokens at ``now`` (the grants' storage need)."""
        return tenant.signing_key(now)

    def token(self, token: str) -> VerifiedToken | None:
        verified = self._tokens.get(token)
        if verified is None:
            self._tokens_tally.misses += 1
        else:
            self._tokens_tally.hits += 1
        return verified

    def remember_token(self, token: str, verified: VerifiedToken, generation: int) -> None:
        if generation == self.generation:
            self._tokens[token] = verified

    async def is_revoked(self, jti: str) -> bool:
        if not self._revoked_loaded:
            await self.load_revoked()
        return jti in self.revoked

    async def load_revoked(self) -> None:
        for jti, expires_at in await self.loader.revoked(self.clock()):
            self.revoked[jti] = expires_at.timestamp()
        self._revoked_loaded = True

    # -- invalidation --------------------------------------------------------------------------

    def apply(self, notes: list[Any]) -> None:
        """Commit hook of this process's database: apply its own changes at once."""
        for note in notes:
            if isinstance(note, Change):
                self.apply_change(note)

    def apply_change(self, change: Change) -> None:
        if change.kind == REVOKED:
            jti, _, exp = (change.subject or "").partition(" ")
            try:
                self.revoked[jti] = float(exp)
            except ValueError:  # a malformed note: drop every verified token to be safe
                self._tokens.clear()
            return
        # Anything else concerns a tenant (its settings, keys, clients or credentials).
        self.generation += 1
        tenant_id = change.tenant_id
        for slug, view in list(self._tenants.items()):
            if view is None or view.id == tenant_id:
                del self._tenants[slug]
        for key in [k for k in self._clients if k[0] == tenant_id]:
            del self._clients[key]
        for user in [k for k in self._users if k[0] == tenant_id]:
            del self._users[user]
        if tenant_id is None:
            self._origins.clear()
        else:
            self._origins.pop(tenant_id, None)
        for token in [t for t, v in self._tokens.items() if v.tenant_id == tenant_id]:
            del self._tokens[token]

    def clear(self) -> None:
        """Forget everything (the change feed was interrupted): reloads happen on demand."""
        self.generation += 1
        self._tenants.clear()
        self._clients.clear()
        self._users.clear()
        self._origins.clear()
        self._tokens.clear()
        self._revoked_loaded = False

    def prune_revoked(self, now: float) -> None:
        for jti in [j for j, exp in self.revoked.items() if exp <= now]:
            del self.revoked[jti]
