"""Pforte: a multi-tenant OAuth 2.0 / OpenID Connect server for API clients."""

__version__ = "0.1.0"
