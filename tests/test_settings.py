"""Settings that follow from others: ``PFORTE_PUBLIC_URL`` defaults to the address served."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from pforte.settings import SettingsError, load_settings, served_url


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No PFORTE_* variable and no .env file of the caller's."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("PFORTE_"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        ("127.0.0.1", 8000, "http://127.0.0.1:8000"),
        ("127.0.0.1", 18103, "http://127.0.0.1:18103"),
        ("0.0.0.0", 9000, "http://127.0.0.1:9000"),
        ("::", 9000, "http://127.0.0.1:9000"),
        ("::1", 9000, "http://[::1]:9000"),
        ("fe80::1", 80, "http://[fe80::1]:80"),
        ("auth.internal", 8443, "http://auth.internal:8443"),
    ],
)
def test_served_url(host: str, port: int, url: str) -> None:
    assert served_url(host, port) == url


def test_public_url_defaults_to_the_host_and_port_served(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().public_url == "http://127.0.0.1:8000"
    assert load_settings(port=18103).public_url == "http://127.0.0.1:18103"  # --port
    monkeypatch.setenv("PFORTE_HOST", "::1")
    monkeypatch.setenv("PFORTE_PORT", "18104")
    settings = load_settings()
    assert settings.public_url == "http://[::1]:18104"
    assert settings.issuer("system") == "http://[::1]:18104/t/system"
    monkeypatch.setenv("PFORTE_PUBLIC_URL", "")  # empty is unset
    assert load_settings().public_url == "http://[::1]:18104"


def test_an_explicit_public_url_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PFORTE_PUBLIC_URL", "https://auth.example.com/")
    assert load_settings(host="0.0.0.0", port=18103).public_url == "https://auth.example.com"
    Path(".env").write_text("PFORTE_PUBLIC_URL=https://from-dotenv.example\n")
    monkeypatch.delenv("PFORTE_PUBLIC_URL")
    assert load_settings(port=18103).public_url == "https://from-dotenv.example"
    monkeypatch.setenv("PFORTE_PUBLIC_URL", "not-a-url")
    with pytest.raises(SettingsError, match=r"^PFORTE_PUBLIC_URL: "):
        load_settings()


@pytest.mark.parametrize("loose", [0o644, 0o660, 0o606])
def test_a_key_file_open_to_others_is_refused(loose: int) -> None:
    key = Path("pforte.key")
    key.write_text("k" * 64 + "\n")
    key.chmod(loose)
    with pytest.raises(SettingsError) as refused:
        load_settings().server_secret()
    assert str(refused.value) == (
        f"PFORTE_KEY_FILE: pforte.key is readable or writable by group or others (mode {loose:o}); "
        "refused. Fix: chmod 600 pforte.key"
    )
    key.chmod(0o600)
    assert load_settings().server_secret() == b"k" * 64


def test_a_generated_key_file_is_0600() -> None:
    secret = load_settings().server_secret()
    assert len(secret) >= 64
    assert stat.S_IMODE(Path("pforte.key").stat().st_mode) == 0o600


@pytest.mark.parametrize("unset", [None, ""])
def test_metrics_are_off_without_a_token(monkeypatch: pytest.MonkeyPatch, unset: str | None) -> None:
    if unset is not None:
        monkeypatch.setenv("PFORTE_METRICS_TOKEN", unset)
    assert load_settings().metrics_token is None


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("short-Tok3n", "PFORTE_METRICS_TOKEN: Value error, must be at least 16 characters"),
        (
            "a token with spaces in it",
            "PFORTE_METRICS_TOKEN: Value error, must be printable ASCII without spaces "
            "(it travels in an HTTP header)",
        ),
        (
            "ein-schlüssel-für-metriken",
            "PFORTE_METRICS_TOKEN: Value error, must be printable ASCII without spaces "
            "(it travels in an HTTP header)",
        ),
    ],
)
def test_a_weak_or_unsendable_metrics_token_is_refused_without_repeating_it(
    monkeypatch: pytest.MonkeyPatch, token: str, message: str
) -> None:
    monkeypatch.setenv("PFORTE_METRICS_TOKEN", token)
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert str(refused.value) == message
    assert token not in str(refused.value)


def test_a_metrics_token_is_kept_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PFORTE_METRICS_TOKEN", "scrape-Token-0123456789")
    settings = load_settings()
    assert settings.metrics_token is not None
    assert settings.metrics_token.get_secret_value() == "scrape-Token-0123456789"
    assert "scrape-Token" not in repr(settings)
