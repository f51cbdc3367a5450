"""The grants the token endpoint answers, by ``grant_type``: one module each (``grant.Grant``).

Adding a grant is a module here and a line in ``GRANTS``; discovery advertises what is listed
(but ``UNADVERTISED``).
"""

from __future__ import annotations

from pforte.services.grants import (
    authorization_code,
    client_credentials,
    password,
    refresh_token,
    token_exchange,
)
from pforte.services.grants.grant import Grant

GRANTS: dict[str, Grant] = {
    grant.GRANT_TYPE: grant
    for grant in (client_credentials, authorization_code, refresh_token, password, token_exchange)
}
# Implemented but never advertised (RFC 9700 §2.4: the password grant "MUST NOT be used").
UNADVERTISED = frozenset({password.GRANT_TYPE})
