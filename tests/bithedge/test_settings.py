from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bithedge.settings import SettingsError, load_settings


def test_defaults_are_usable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    s = load_settings()
    assert s.database_url is None and s.host == "127.0.0.1" and s.indexer_port == 3700


def test_environment_overrides_with_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BITHEDGE_INDEXER_PORT", "3999")
    monkeypatch.setenv("BITHEDGE_LOG_LEVEL", "DEBUG")
    s = load_settings()
    assert s.indexer_port == 3999 and s.log_level == "debug"


@pytest.mark.parametrize(
    ("var", "value", "needle"),
    [
        ("BITHEDGE_INDEXER_PORT", "not-a-port", "BITHEDGE_INDEXER_PORT='not-a-port'"),
        ("BITHEDGE_PG_PORT", "80", "BITHEDGE_PG_PORT='80'"),
        ("BITHEDGE_LOG_FORMAT", "xml", "BITHEDGE_LOG_FORMAT='xml'"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL='mysql://x': Value error, must start with postgresql://"),
    ],
)
def test_bad_values_name_the_variable(monkeypatch: pytest.MonkeyPatch, var: str, value: str, needle: str) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert needle in str(info.value)


def test_cli_reports_bad_settings_without_a_traceback() -> None:
    env = dict(os.environ, BITHEDGE_DEVNET_PORT="-5")
    proc = subprocess.run([sys.executable, "-m", "bithedge", "db", "url"], env=env, capture_output=True, text=True)
    assert proc.returncode == 1
    assert "BITHEDGE_DEVNET_PORT='-5'" in proc.stderr and "Traceback" not in proc.stderr


def test_dotenv_file_is_read(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("BITHEDGE_DEVNET_BLOCK_TIME_MS=750\n")
    monkeypatch.chdir(tmp_path)
    assert load_settings().devnet_block_time_ms == 750
