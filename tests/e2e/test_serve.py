"""`pforte serve` / `pforte init` as an operator runs them: a real process, real HTTP, real files.

Covers the start-up contract (DESIGN.md §1): the first start creates the schema and the
``system`` tenant and prints the bootstrap credentials once; bad settings stop start-up with
one line naming the variable; logs are JSON lines that never carry a credential value.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import stat
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pforte.security.passwords import PasswordHasher
from tests.e2e.conftest import (
    BOOTSTRAP_CLIENT_ID,
    BOOTSTRAP_CLIENT_SECRET,
    LISTENING,
    Server,
    Servers,
    base_env,
    bootstrap_file,
    free_port,
    parse_banner,
    read_banner,
    run_pforte,
    wait_healthy,
)

pytestmark = pytest.mark.e2e

API = "/api/admin/v1"


def log_lines(server: Server) -> list[dict[str, object]]:
    """Every JSON line of the server's stdout (the banner and the start message are not JSON)."""
    lines = []
    for line in server.stdout().splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def wait_for_log(server: Server, request_id: str, timeout: float = 5.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for entry in log_lines(server):
            if entry.get("request_id") == request_id:
                return entry
        time.sleep(0.05)
    pytest.fail(f"no log line with request_id {request_id!r} in:\n{server.stdout()[-3000:]}")


# --- first start ---------------------------------------------------------------------------


def test_first_start_prints_credentials_once_and_the_key_works(server: Server) -> None:
    out, err = server.stdout(), server.stderr()
    banner = server.banner()
    assert banner is not None, err
    assert banner.client_id == "pforte-admin"
    assert banner.client_secret.startswith("pfs_") and len(banner.client_secret) > 40
    assert banner.api_key.startswith("pfk_") and len(banner.api_key) > 40
    # Without a terminal the banner goes into a 0600 file (never to stdout, the log stream), once,
    # each value in it once (the key also in the curl hint); one stderr line names the file.
    path = bootstrap_file(server.workdir)
    text = path.read_text()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert text.count("bootstrap credentials") == 1
    assert text.count(banner.client_secret) == 1
    assert text.count(banner.api_key) == 2
    assert f"curl -H 'Authorization: Bearer {banner.api_key}' {server.url}/api/admin/v1/tenants" in text
    (line,) = [line for line in err.splitlines() if "ootstrap credentials" in line]
    assert f"written to {path.resolve()} (mode 0600)" in line
    for value in (banner.client_secret, banner.api_key):
        assert value not in out and value not in err
    assert "bootstrap credentials" not in out
    assert sorted(p.name for p in server.workdir.glob("pforte-bootstrap*")) == ["pforte-bootstrap.txt"]
    assert LISTENING in out
    assert "Traceback" not in err

    with server.http(banner.api_key) as http:
        response = http.get(f"{API}/tenants")
    assert response.status_code == 200, response.text
    slugs = [t["slug"] for t in response.json()["items"]]
    assert "system" in slugs


def test_console_is_served_from_the_package_without_a_cdn(server: Server) -> None:
    with server.http() as http:
        page = http.get("/api/docs")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "script-src 'self';" in page.headers["content-security-policy"]
        html = page.text
        for asset in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "pforte-console.js"):
            assert f'<script src="/static/swagger-ui/{asset}"></script>' in html
        assert "/static/swagger-ui/swagger-ui.css" in html
        assert "cdn" not in html.lower()
        assert 'src="https://' not in html and "src='https://" not in html
        assert 'href="https://' not in html
        for api in ("admin/v1", "user/v1"):
            assert f'"name":"{api}"' in html

        bundle = http.get("/static/swagger-ui/swagger-ui-bundle.js")
        assert bundle.status_code == 200
        assert "javascript" in bundle.headers["content-type"]
        assert len(bundle.content) > 100_000
        css = http.get("/static/swagger-ui/swagger-ui.css")
        assert css.status_code == 200
        assert css.headers["content-type"].startswith("text/css")

        # each API's own /docs opens the console with that API selected
        admin_docs = http.get(f"{API}/docs", follow_redirects=False)
        assert admin_docs.status_code == 307
        assert admin_docs.headers["location"] == "/api/docs?urls.primaryName=admin/v1"

        # "/" leads an operator to the console
        home = http.get("/", follow_redirects=False)
        assert home.status_code in {302, 307}
        assert home.headers["location"] == "/api/docs"


def test_openapi_document_lists_the_client_paths(server: Server) -> None:
    with server.http() as http:
        response = http.get(f"{API}/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/tenants/{tenant}/clients" in paths
    assert {"get", "post"} <= set(paths["/tenants/{tenant}/clients"])
    assert "/tenants/{tenant}/clients/{clientId}" in paths
    assert "/tenants/{tenant}/clients/{clientId}/secrets" in paths
    assert "/tenants/{tenant}/clients/{clientId}/api-keys" in paths


def test_bootstrap_client_from_the_environment_exists_with_tenants_admin(server: Server) -> None:
    banner = server.banner()
    assert banner is not None
    with server.http(banner.api_key) as http:
        response = http.get(f"{API}/tenants/system/clients/{BOOTSTRAP_CLIENT_ID}")
        assert response.status_code == 200, response.text
        client = response.json()
        assert client["clientId"] == BOOTSTRAP_CLIENT_ID
        assert "tenants:admin" in client["allowedScopes"]
        assert "client_credentials" in client["allowedGrantTypes"]
        assert client["enabled"] is True
        secrets = http.get(f"{API}/tenants/system/clients/{BOOTSTRAP_CLIENT_ID}/secrets").json()["items"]
    assert len(secrets) == 1
    assert "value" not in secrets[0]


# --- logs ------------------------------------------------------------------------------------


def test_each_request_is_one_json_log_line(server: Server) -> None:
    banner = server.banner()
    assert banner is not None
    request_id = f"e2e-{uuid.uuid4().hex[:12]}"
    with server.http(banner.api_key) as http:
        response = http.get(f"{API}/tenants/system/clients", headers={"X-Request-ID": request_id})
        assert response.status_code == 200
        assert response.headers["x-request-id"] == request_id
        missing = http.get(
            f"{API}/tenants/system/clients/no-such-client", headers={"X-Request-ID": "e2e-404"}
        )
        assert missing.status_code == 404

    entry = wait_for_log(server, request_id)
    assert entry["method"] == "GET"
    assert entry["path"] == f"{API}/tenants/system/clients"
    assert entry["tenant"] == "system"
    assert entry["status"] == 200
    assert wait_for_log(server, "e2e-404")["status"] == 404
    # one line per request
    assert sum(1 for e in log_lines(server) if e.get("request_id") == request_id) == 1

    # a request without X-Request-ID gets one made for it, returned to the caller and logged
    with server.http() as http:
        made = http.get("/healthz").headers["x-request-id"]
    assert wait_for_log(server, made)["path"] == "/healthz"


ACCESS_LINE_MEMBERS = [
    "request_id",
    "method",
    "path",
    "tenant",
    "status",
    "duration_ms",
    "event",
    "level",
    "timestamp",
]


def test_access_lines_are_buffered_but_none_is_lost_at_a_clean_stop(servers: Servers) -> None:
    """The access log is written off the event loop in batches; a SIGTERM still writes every
    line, each with the members (and their order) the structlog rendering had."""
    server = servers.start()
    prefix = f"e2e-{uuid.uuid4().hex[:8]}"
    with server.http() as http:
        for i in range(300):
            assert http.get("/healthz", headers={"X-Request-ID": f"{prefix}-{i}"}).status_code == 200
        token = http.post("/t/system/token", data={"grant_type": "client_credentials"}, auth=("x", "y"))
        assert token.status_code == 401
        made = token.headers["x-request-id"]
        named = http.post(
            "/t/system/introspect",
            data={"token": "x"},
            auth=("x", "y"),
            headers={"X-Request-ID": "e2e-introspect-named"},
        )
        assert (named.status_code, named.headers["x-request-id"]) == (401, "e2e-introspect-named")
    assert server.stop() in {0, -signal.SIGTERM}
    ours = [e for e in log_lines(server) if str(e.get("request_id", "")).startswith(prefix)]
    assert [e["request_id"] for e in ours] == [f"{prefix}-{i}" for i in range(300)]
    for entry in ours:
        assert list(entry) == ACCESS_LINE_MEMBERS
        assert (entry["event"], entry["level"], entry["path"], entry["status"]) == (
            "request",
            "info",
            "/healthz",
            200,
        )
        assert str(entry["timestamp"]).endswith("Z") and isinstance(entry["duration_ms"], float)
    [token_line] = [e for e in log_lines(server) if e.get("path") == "/t/system/token"]
    assert list(token_line) == ACCESS_LINE_MEMBERS
    assert (token_line["status"], token_line["tenant"], token_line["method"]) == (401, "system", "POST")
    assert token_line["request_id"] == made and len(made) == 32
    [introspect_line] = [e for e in log_lines(server) if e.get("path") == "/t/system/introspect"]
    assert (introspect_line["request_id"], introspect_line["status"]) == ("e2e-introspect-named", 401)


def test_no_credential_value_reaches_the_logs_or_the_database(server: Server) -> None:
    banner = server.banner()
    assert banner is not None
    slug = f"leak-{uuid.uuid4().hex[:8]}"
    with server.http(banner.api_key) as http:
        assert http.post(f"{API}/tenants", json={"slug": slug}).status_code == 201
        created = http.post(
            f"{API}/tenants/{slug}/clients",
            json={"clientId": "leak-check", "allowedScopes": ["clients:read", "clients:write"]},
        )
        assert created.status_code == 201, created.text
        client_secret = created.json()["secret"]["value"]
        assert client_secret.startswith("pfs_")
        more = http.post(f"{API}/tenants/{slug}/clients/leak-check/secrets", json={"description": "second"})
        assert more.status_code == 201, more.text
        second_secret = more.json()["value"]
        key = http.post(
            f"{API}/tenants/{slug}/clients/leak-check/api-keys",
            json={"name": "ci", "scopes": ["clients:read"]},
        )
        assert key.status_code == 201, key.text
        api_key = key.json()["value"]
        assert api_key.startswith("pfk_")

        # use the new key, and make the values travel where a careless server would log them:
        # the Authorization header, the request path, a refused credential.
        assert http.get(
            f"{API}/tenants/{slug}/clients", headers={"Authorization": f"Bearer {api_key}"}
        ).is_success
        assert http.get(f"{API}/tenants/{slug}/clients/{client_secret}").status_code == 404
        assert http.get(f"{API}/tenants/{slug}/clients/{api_key}").status_code == 404
        refused = http.get(f"{API}/tenants", headers={"Authorization": f"Bearer {client_secret}"})
        assert refused.status_code == 401
        refused = http.get(f"{API}/tenants", headers={"Authorization": f"Bearer {api_key}x"})
        assert refused.status_code == 401
        marker = f"e2e-last-{uuid.uuid4().hex[:8]}"
        http.get("/healthz", headers={"X-Request-ID": marker})
    wait_for_log(server, marker)  # every line of the requests above has been written

    later = [client_secret, second_secret, api_key, BOOTSTRAP_CLIENT_SECRET]
    bootstrap = [banner.client_secret, banner.api_key]
    stdout, stderr = server.stdout(), server.stderr()
    for value in later:
        assert value not in stdout, "a credential created later was written to stdout"
        assert value not in stderr, "a credential created later was written to stderr"
        assert value[4:20] not in stdout + stderr
    for value in bootstrap:
        assert value not in stdout, "the bootstrap credential reached stdout, the log stream"
        assert value not in stderr
        assert value[4:20] not in stdout + stderr

    files = [p for p in server.workdir.iterdir() if p.name.startswith("pforte.db")]
    assert any(p.name == "pforte.db" for p in files)
    stored = b"".join(p.read_bytes() for p in files)
    for value in [*later, *bootstrap]:
        assert value.encode() not in stored, "a credential value is stored in clear"
        random_part = value.removeprefix("pfs_").removeprefix("pfk_")
        assert random_part[:16].encode() not in stored


# --- restart, init, python -m ----------------------------------------------------------------


def test_restart_on_the_same_database_prints_no_credentials(servers: Servers) -> None:
    workdir = servers.workdir()
    env = base_env(workdir)
    first = servers.start(workdir, env)
    banner = first.banner()
    assert banner is not None
    # SIGTERM is a clean shutdown: uvicorn re-raises the signal once it has shut down
    assert first.stop() in {0, -signal.SIGTERM}
    assert "Traceback" not in first.stderr()

    written = bootstrap_file(workdir).read_text()
    second = servers.start(workdir, env)
    out = second.stdout()
    assert LISTENING in out
    assert parse_banner(out + second.stderr()) is None
    assert "pfs_" not in out + second.stderr() and "pfk_" not in out + second.stderr()
    assert "ootstrap credentials" not in out + second.stderr()
    # no second file, and the first one is as it was
    assert [p.name for p in workdir.glob("pforte-bootstrap*")] == ["pforte-bootstrap.txt"]
    assert bootstrap_file(workdir).read_text() == written
    # the credentials of the first start still work after the restart
    with second.http(banner.api_key) as http:
        assert http.get(f"{API}/tenants/system").status_code == 200


def test_secret_use_is_written_at_shutdown(servers: Servers) -> None:
    """lastUsedAt is kept in memory on the token path and flushed on a clean stop at the latest."""
    server = servers.start()
    banner = server.banner()
    assert banner is not None
    with server.http(banner.api_key) as http:
        body = {"clientId": "user-of-secret", "allowedGrantTypes": ["client_credentials"]}
        created = http.post(f"{API}/tenants/system/clients", json=body)
        assert created.status_code == 201, created.text
        secret = created.json()["secret"]["value"]
        issued = http.post(
            "/t/system/token", data={"grant_type": "client_credentials"}, auth=("user-of-secret", secret)
        )
        assert issued.status_code == 200, issued.text
    assert server.stop() in {0, -signal.SIGTERM}
    with sqlite3.connect(server.db_path) as db:
        (used,) = db.execute(
            "SELECT s.last_used_at FROM client_secrets s JOIN clients c ON c.id = s.client_pk "
            "WHERE c.client_id = 'user-of-secret'"
        ).fetchone()
    assert used is not None


def test_init_twice_then_serve(servers: Servers) -> None:
    workdir = servers.workdir()
    env = base_env(workdir)
    first = run_pforte(["init"], cwd=workdir, env=env)
    assert first.returncode == 0, first.stderr
    banner = read_banner(workdir)
    assert banner is not None, first.stderr
    assert banner.client_id == "pforte-admin"
    assert "Traceback" not in first.stderr
    assert "pfs_" not in first.stdout + first.stderr and "pfk_" not in first.stdout + first.stderr

    second = run_pforte(["init"], cwd=workdir, env=env, module=True)  # python -m pforte init
    assert second.returncode == 0, second.stderr
    assert "already initialised" in second.stdout.lower()
    assert "pfs_" not in second.stdout and "pfk_" not in second.stdout

    served = servers.start(workdir, env)
    assert parse_banner(served.stdout() + served.stderr()) is None
    assert [p.name for p in workdir.glob("pforte-bootstrap*")] == ["pforte-bootstrap.txt"]
    with served.http(banner.api_key) as http:
        assert http.get(f"{API}/tenants").status_code == 200


def stored_password_hash(workdir: Path, username: str) -> str | None:
    with sqlite3.connect(workdir / "pforte.db") as db:
        row = db.execute(
            "SELECT u.password_hash FROM users u JOIN tenants t ON t.id = u.tenant_id "
            "WHERE t.slug = 'system' AND u.username_key = ?",
            (username.casefold(),),
        ).fetchone()
    return None if row is None else str(row[0])


def test_init_creates_the_console_admin_user_and_prints_its_password_once(servers: Servers) -> None:
    workdir = servers.workdir()
    env = base_env(workdir)
    first = run_pforte(["init"], cwd=workdir, env=env)
    assert first.returncode == 0, first.stderr
    banner = read_banner(workdir)
    assert banner is not None and banner.admin_username == "admin"
    assert len(banner.admin_password) >= 20
    assert banner.admin_password not in first.stdout + first.stderr
    stored = stored_password_hash(workdir, "admin")
    assert stored is not None and stored.startswith("$argon2id$")
    assert PasswordHasher(time_cost=1, memory_kib=8192, parallelism=1).verify(stored, banner.admin_password)
    listed = run_pforte(["users", "list", "--tenant", "system"], cwd=workdir, env={**env, "COLUMNS": "250"})
    assert listed.returncode == 0, listed.stderr
    (row,) = [line for line in listed.stdout.splitlines() if " admin " in line]
    assert row.count("admin") == 2 and " yes " in row  # the username and its role; enabled


def test_bootstrap_admin_from_the_environment_is_created_once(servers: Servers) -> None:
    workdir = servers.workdir()
    env = base_env(
        workdir,
        PFORTE_BOOTSTRAP_ADMIN_USERNAME="Operator",
        PFORTE_BOOTSTRAP_ADMIN_PASSWORD="an operator password",
    )
    server = servers.start(workdir, env)
    server.stop()
    stored = stored_password_hash(workdir, "operator")
    assert stored is not None
    hasher = PasswordHasher(time_cost=1, memory_kib=8192, parallelism=1)
    assert hasher.verify(stored, "an operator password")
    # a restart with another password leaves the existing user alone
    again = servers.start(workdir, {**env, "PFORTE_BOOTSTRAP_ADMIN_PASSWORD": "another password here"})
    again.stop()
    assert stored_password_hash(workdir, "operator") == stored
    assert "an operator password" not in server.stdout() + server.stderr()


def test_python_dash_m_pforte_help(tmp_path: Path) -> None:
    result = run_pforte(["--help"], cwd=tmp_path, env=base_env(tmp_path), module=True)
    assert result.returncode == 0, result.stderr
    assert "serve" in result.stdout and "init" in result.stdout
    serve_help = run_pforte(["serve", "--help"], cwd=tmp_path, env=base_env(tmp_path), module=True)
    assert serve_help.returncode == 0
    assert "--port" in serve_help.stdout and "--workers" in serve_help.stdout


# --- bad settings ----------------------------------------------------------------------------


def assert_one_clean_line(result_code: int, stderr: str, stdout: str, variable: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr
    assert len(lines) == 1, f"expected one line on stderr, got:\n{stderr}"
    assert variable in lines[0], lines[0]
    assert result_code == 2, f"exit code {result_code}"
    # a start that failed has handed out no credentials
    assert "pfs_" not in stdout and "pfk_" not in stdout


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


BAD_SETTINGS = {
    "unparseable database URL": ({"PFORTE_DATABASE_URL": "nonsense"}, "PFORTE_DATABASE_URL"),
    "unreachable database": (
        {"PFORTE_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:1/x"},
        "PFORTE_DATABASE_URL",
    ),
    "public URL not a URL": ({"PFORTE_PUBLIC_URL": "not-a-url"}, "PFORTE_PUBLIC_URL"),
    "port out of range": ({"PFORTE_PORT": "70000"}, "PFORTE_PORT"),
    "port not a number": ({"PFORTE_PORT": "eighty"}, "PFORTE_PORT"),
    "bootstrap id without secret": ({"PFORTE_BOOTSTRAP_CLIENT_ID": "robot"}, "PFORTE_BOOTSTRAP_CLIENT_ID"),
    "short secret key": ({"PFORTE_SECRET_KEY": "too-short"}, "PFORTE_SECRET_KEY"),
    "host that does not resolve": ({"PFORTE_HOST": "999.0.0.1"}, "PFORTE_HOST"),
}


@pytest.mark.parametrize(("overrides", "variable"), BAD_SETTINGS.values(), ids=BAD_SETTINGS.keys())
def test_bad_setting_stops_start_with_one_line(
    tmp_path: Path, overrides: dict[str, str], variable: str
) -> None:
    env = base_env(tmp_path, **overrides)
    env.setdefault("PFORTE_PORT", str(free_port()))
    result = run_pforte(["serve"], cwd=tmp_path, env=env)
    assert_one_clean_line(result.returncode, result.stderr, result.stdout, variable)


def test_port_in_use_stops_start_with_one_line(tmp_path: Path, busy_port: int) -> None:
    result = run_pforte(["serve", "--port", str(busy_port)], cwd=tmp_path, env=base_env(tmp_path))
    assert_one_clean_line(result.returncode, result.stderr, result.stdout, "PFORTE_PORT")
    assert str(busy_port) in result.stderr


def test_port_option_overrides_a_bad_environment_value(servers: Servers) -> None:
    """`--port` wins over PFORTE_PORT: the server starts on the option's port, or — if the bad
    variable is refused anyway — stops with one clean line before handing out credentials."""
    workdir = servers.workdir()
    port = free_port()
    env = {**base_env(workdir), "PFORTE_PORT": "eighty"}
    bad = servers.spawn(workdir, env, args=["--port", str(port)], port=port)
    if wait_healthy(bad):
        return
    code = bad.stop()
    assert_one_clean_line(code, bad.stderr(), bad.stdout(), "PFORTE_PORT")


# --- several workers -------------------------------------------------------------------------


def test_two_workers_answer_requests_and_stop_together(servers: Servers) -> None:
    server = servers.start(args=["--workers", "2"])
    banner = server.banner()
    assert banner is not None
    with server.http(banner.api_key) as http:
        for _ in range(20):
            assert http.get(f"{API}/tenants").status_code == 200
    workers = server.children()
    assert len(workers) >= 2, workers
    server.stop()
    deadline = time.monotonic() + 10
    alive = workers
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in alive if _alive(pid)]
        time.sleep(0.1)
    assert not alive, f"worker processes outlived the server: {alive}"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_no_key_file_is_written_when_the_secret_key_is_set(server: Server) -> None:
    assert not (server.workdir / "pforte.key").exists()
    assert os.stat(server.db_path).st_size > 0
