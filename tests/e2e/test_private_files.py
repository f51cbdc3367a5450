"""Files holding secrets are the owner's alone, and the first credentials reach the operator
only: the SQLite database (and its -wal, -shm), the key file and the bootstrap file are 0600;
a key file open to others stops start-up; the bootstrap banner goes to a terminal (stderr) or
into a new 0600 file, never to stdout, the stream of the JSON logs."""

from __future__ import annotations

import json
import os
import pty
import re
import stat
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import (
    Servers,
    base_env,
    bootstrap_file,
    free_port,
    parse_banner,
    pforte_command,
    read_banner,
    run_pforte,
)

pytestmark = pytest.mark.e2e


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def without_secret_key(workdir: Path) -> dict[str, str]:
    env = base_env(workdir)
    del env["PFORTE_SECRET_KEY"]  # the key file ./pforte.key is generated
    return env


def test_database_key_and_bootstrap_files_are_0600(servers: Servers) -> None:
    workdir = servers.workdir()
    previous = os.umask(0o022)  # what would make them 0644 if created carelessly
    try:
        server = servers.start(workdir, without_secret_key(workdir))
    finally:
        os.umask(previous)
    banner = server.banner()
    assert banner is not None
    with server.http(banner.api_key) as http:  # a write: the -wal and -shm exist
        assert http.post("/api/admin/v1/tenants", json={"slug": "files"}).status_code == 201
    names = ["pforte.db", "pforte.db-wal", "pforte.db-shm", "pforte.key", "pforte-bootstrap.txt"]
    assert {name: mode(workdir / name) for name in names} == dict.fromkeys(names, 0o600)
    assert "PFORTE_SECRET_KEY is not set; generated one into pforte.key (mode 0600)" in server.stderr()


def test_an_existing_database_open_to_others_is_tightened_with_a_warning(servers: Servers) -> None:
    workdir = servers.workdir()
    env = base_env(workdir)
    assert run_pforte(["init"], cwd=workdir, env=env).returncode == 0
    database = workdir / "pforte.db"
    database.chmod(0o644)
    server = servers.start(workdir, env)
    assert mode(database) == 0o600
    warnings = [
        json.loads(line)
        for line in server.stdout().splitlines()
        if line.startswith("{") and "database_file_mode_tightened" in line
    ]
    assert [(w["level"], w["file"], w["was"], w["now"]) for w in warnings] == [
        ("warning", str(database), "644", "600")
    ]


@pytest.mark.parametrize("loose", [0o644, 0o640, 0o604, 0o620, 0o602])
@pytest.mark.parametrize("command", ["serve", "init"])
def test_a_key_file_open_to_others_stops_start_up(tmp_path: Path, loose: int, command: str) -> None:
    key = tmp_path / "pforte.key"
    key.write_text("k" * 64 + "\n")
    key.chmod(loose)
    env = {**without_secret_key(tmp_path), "PFORTE_PORT": str(free_port())}
    result = run_pforte([command], cwd=tmp_path, env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [
        f"error: PFORTE_KEY_FILE: pforte.key is readable or writable by group or others "
        f"(mode {loose:o}); refused. Fix: chmod 600 pforte.key"
    ]
    assert "k" * 64 not in result.stdout + result.stderr
    assert mode(key) == loose  # not changed behind the operator's back
    assert not bootstrap_file(tmp_path).exists()  # nothing was created with it
    key.chmod(0o600)
    assert run_pforte(["init"], cwd=tmp_path, env=env).returncode == 0
    assert read_banner(tmp_path) is not None


def test_the_bootstrap_file_is_never_overwritten(tmp_path: Path) -> None:
    existing = bootstrap_file(tmp_path)
    existing.write_text("an operator's notes\n")
    result = run_pforte(["init"], cwd=tmp_path, env=base_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert existing.read_text() == "an operator's notes\n"
    written = tmp_path / "pforte-bootstrap-2.txt"
    assert mode(written) == 0o600
    banner = parse_banner(written.read_text())
    assert banner is not None
    (line,) = [line for line in result.stderr.splitlines() if line.strip()]
    assert line == (
        f"Bootstrap credentials (tenants:admin, shown once) written to {written.resolve()} "
        "(mode 0600): keep them elsewhere, then delete the file."
    )
    assert banner.client_secret not in result.stdout + result.stderr


def test_on_a_terminal_the_banner_goes_to_stderr_only(tmp_path: Path) -> None:
    """``pforte init`` with stderr on a terminal (a pty) and stdout on a pipe (a log collector)."""
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(
        [*pforte_command(), "init"],
        cwd=tmp_path,
        env=base_env(tmp_path),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=terminal,
    )
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # EIO: the terminal's other side has closed
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    assert proc.stdout is not None
    with proc.stdout:
        stdout = proc.stdout.read().decode()
    assert proc.wait(30) == 0
    text = re.sub(r"\x1b\[[0-9;]*m", "", shown.decode(errors="replace"))
    banner = parse_banner(text)
    assert banner is not None, text
    assert "Pforte bootstrap credentials" in text
    assert f"Authorization: Bearer {banner.api_key}" in text
    assert "pfs_" not in stdout and "pfk_" not in stdout
    assert list(tmp_path.glob("pforte-bootstrap*")) == []
