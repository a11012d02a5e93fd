from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ipcp_api.auth.security import SecretKeyError, resolve_secret_key
from ipcp_api.config import SettingsError, load_settings


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@h:5433/db", "postgresql+asyncpg://u:p@h:5433/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
    ],
)
def test_database_url_forms(given: str, expected: str) -> None:
    assert load_settings(database_url=given).database_url == expected


@pytest.mark.parametrize("bad", ["nonsense", "mysql://u@h/db", "postgresql://u@h"])
def test_bad_database_url_names_the_setting(bad: str) -> None:
    with pytest.raises(SettingsError, match=r"^invalid setting DATABASE_URL: "):
        load_settings(database_url=bad)


def test_bad_log_level_names_the_setting() -> None:
    with pytest.raises(SettingsError, match="IPCP_LOG_LEVEL"):
        load_settings(log_level="LOUD")


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith("IPCP_") and k != "DATABASE_URL"
    }
    return subprocess.run(
        [sys.executable, "-m", "ipcp_api.cli", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_bad_setting_is_one_line() -> None:
    result = _cli("migrate", DATABASE_URL="nonsense")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ipcp-api: invalid setting DATABASE_URL")
    assert "Traceback" not in result.stderr


def test_cli_unreachable_database_is_one_line() -> None:
    result = _cli(
        "migrate", DATABASE_URL="postgresql://nobody@127.0.0.1:9/none", IPCP_DB_CONNECT_TIMEOUT="2"
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_production_refuses_placeholder_secret(tmp_path) -> None:
    for key in (None, "changeme", "short"):
        settings = load_settings(environment="production", secret_key=key, data_dir=tmp_path)
        with pytest.raises(SecretKeyError, match="IPCP_SECRET_KEY"):
            resolve_secret_key(settings)


def test_development_key_is_generated_once(tmp_path) -> None:
    settings = load_settings(data_dir=tmp_path)
    first = resolve_secret_key(settings)
    assert len(first) >= 32
    assert resolve_secret_key(settings) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("value", ["", "en,EN", "en,fr,en", "english", "en;fr"])
def test_bad_languages_stop_with_one_line(value: str) -> None:
    with pytest.raises(SettingsError, match="IPCP_LANGUAGES") as info:
        load_settings(languages=value)
    assert "\n" not in str(info.value)


def test_languages_first_is_the_default() -> None:
    assert load_settings(languages=" fr , ar,en").language_codes == ("fr", "ar", "en")
