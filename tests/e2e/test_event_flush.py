"""A real ``pforte serve``: the token endpoint's events wait in memory, and a clean shutdown
(SIGTERM) writes them — every ``token.issued`` and ``client.authentication_failed``, and the
day's counts — before the process ends (docs/events.md, "What a crash can lose")."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest

from tests.e2e.conftest import Servers, base_env

pytestmark = pytest.mark.e2e
TOKENS, FAILURES = 40, 3


def test_a_clean_shutdown_writes_the_waiting_events(servers: Servers) -> None:
    workdir = servers.workdir()
    server = servers.start(workdir, base_env(workdir))
    banner = server.banner()
    assert banner is not None, server.stdout()
    with server.http() as http:
        for _ in range(TOKENS):
            ok = http.post(
                "/t/system/token",
                data={"grant_type": "client_credentials"},
                auth=(banner.client_id, banner.client_secret),
            )
            assert ok.status_code == 200, ok.text
        for _ in range(FAILURES):
            refused = http.post(
                "/t/system/token",
                data={"grant_type": "client_credentials"},
                auth=(banner.client_id, "pfs_wrong"),
            )
            assert refused.status_code == 401
    assert server.stop() in (0, -15), server.stderr()  # uvicorn ends by the signal, after its shutdown

    with sqlite3.connect(server.db_path) as db:
        counted = dict(
            db.execute(
                "SELECT name, count(*) FROM audit_events WHERE name IN (?, ?) GROUP BY name",
                ("token.issued", "client.authentication_failed"),
            ).fetchall()
        )
        day = db.execute(
            "SELECT tokens_issued, failed_client_authentications FROM daily_counts"
            " WHERE client_id = ? AND day = ?",
            (banner.client_id, datetime.now(UTC).date().isoformat()),
        ).fetchone()
        stored = db.execute(
            "SELECT changes FROM audit_events WHERE name = 'client.authentication_failed'"
        ).fetchall()
    assert counted == {"token.issued": TOKENS, "client.authentication_failed": FAILURES}
    assert day == (TOKENS, FAILURES)
    assert all("pfs_wrong" not in row[0] for row in stored)
