"""The grants the token endpoint answers, by ``grant_type``: one module each (``grant.Grant``).

Adding a grant is a module here and a line in ``GRANTS``; discovery advertises what is listed.
"""

from __future__ import annotations

from pforte.services.grants import client_credentials
from pforte.services.grants.grant import Grant

GRANTS: dict[str, Grant] = {grant.GRANT_TYPE: grant for grant in (client_credentials,)}
