"""``bithedge db backup`` / ``restore`` on the real embedded PostgreSQL: a round trip into a fresh data dir keeps
rows, migrations, roles and grants; a non-empty database is only replaced with --force; bad input loses nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from bithedge.database import role_url

ACL_SQL = """
SELECT 'rel', n.nspname || '.' || c.relname, c.relacl::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname IN ('raw', 'keeper', 'analytics', 'public') AND c.relkind IN ('r', 'S', 'v')
UNION ALL SELECT 'schema', nspname, nspacl::text FROM pg_namespace WHERE nspname IN ('raw', 'keeper', 'analytics', 'public')
UNION ALL SELECT 'default', defaclnamespace::regnamespace::text || ':' || defaclrole::regrole::text || ':'
       || defaclobjtype::text, defaclacl::text FROM pg_default_acl
UNION ALL SELECT 'function', p.proname, p.proacl::text FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
ORDER BY 1, 2
"""


def bithedge(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bithedge", *args], env=env, capture_output=True, text=True,
                          timeout=180)


def _env(**kw: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BITHEDGE_DATA_DIR")}
    return {**env, **kw}


def _state(url: str) -> dict[str, object]:
    with psycopg.connect(url) as conn:
        return {
            "requests": conn.execute("SELECT id, path, payload::text, body, outcome FROM raw.observer_requests "
                                     "ORDER BY id").fetchall(),
            "migrations": conn.execute("SELECT version, name, checksum FROM public.bithedge_migrations "
                                       "ORDER BY version").fetchall(),
            "acl": conn.execute(ACL_SQL).fetchall(),
            "next_id": conn.execute("SELECT last_value FROM raw.observer_requests_id_seq").fetchone(),
        }


@pytest.fixture
def source(db_url: str) -> str:
    with psycopg.connect(role_url(db_url, "bithedge_indexer"), autocommit=True) as conn:
        for i in range(3):
            conn.execute("INSERT INTO raw.observer_requests (path, payload, body, body_size, outcome) "
                         "VALUES (%s, %s, %s, 2, 'stored')", (f"/new_mempool_tx/{i}", json.dumps({"n": i}), b"\x00\xff"))
    return db_url


def test_backup_then_restore_into_a_fresh_data_dir(source: str, tmp_pg_root: Path, tmp_path: Path) -> None:
    made = bithedge("db", "backup", env=_env(DATABASE_URL=source, BITHEDGE_DATA_DIR=str(tmp_path)))
    assert made.returncode == 0, made.stderr
    dump = Path(made.stdout.strip())
    assert dump.parent == tmp_path / "backups" and dump.name.startswith("bithedge-") and dump.suffix == ".dump"
    assert "raw.observer_requests" in made.stderr and "wrote" in made.stderr  # per-table progress and size
    assert not list(dump.parent.glob("*.partial"))

    fresh = _env(BITHEDGE_DATA_DIR=str(tmp_pg_root / "restored"))  # a new cluster: no BitHedge roles yet
    try:
        done = bithedge("db", "restore", str(dump), env=fresh)
        assert done.returncode == 0, done.stderr
        url = bithedge("db", "url", env=fresh).stdout.strip()
        assert _state(url) == _state(source)
        # the roles exist and their grants work: the indexer writes raw, never deletes; the reader sees no raw
        with psycopg.connect(role_url(url, "bithedge_indexer"), autocommit=True) as conn:
            conn.execute("INSERT INTO raw.observer_requests (path, body_size, outcome) VALUES ('/x', 0, 'stored')")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("DELETE FROM raw.observer_requests")
        with psycopg.connect(role_url(url, "bithedge_reader"), autocommit=True) as conn, \
                pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT 1 FROM raw.observer_requests")
    finally:
        bithedge("db", "stop", env=fresh)


def test_restore_refuses_a_non_empty_database_unless_forced(source: str, db_url: str, pg_server: str,
                                                            tmp_path: Path) -> None:
    dump = tmp_path / "one.dump"
    assert bithedge("db", "backup", str(dump), env=_env(DATABASE_URL=source)).returncode == 0
    again = bithedge("db", "backup", str(dump), env=_env(DATABASE_URL=source))
    assert again.returncode == 1 and "already exists" in again.stderr
    with psycopg.connect(source, autocommit=True) as conn:
        conn.execute("DELETE FROM raw.observer_requests WHERE id = 1")
        conn.execute("CREATE TABLE raw.after_backup (x int)")
    changed = _state(source)

    refused = bithedge("db", "restore", str(dump), env=_env(DATABASE_URL=source))
    assert refused.returncode == 1 and "not empty" in refused.stderr and "--force" in refused.stderr
    assert _state(source) == changed  # nothing lost

    with psycopg.connect(source) as busy:  # another session (a running service): refused even with --force
        busy.execute("SELECT 1")
        held = bithedge("db", "restore", "--force", str(dump), env=_env(DATABASE_URL=source))
        assert held.returncode == 1 and "other session" in held.stderr
    assert _state(source) == changed

    forced = bithedge("db", "restore", "--force", str(dump), env=_env(DATABASE_URL=source))
    assert forced.returncode == 0, forced.stderr
    restored = _state(source)
    assert [r[0] for r in restored["requests"]] == [1, 2, 3]
    with psycopg.connect(source) as conn:
        assert conn.execute("SELECT to_regclass('raw.after_backup')").fetchone() == (None,)
    with psycopg.connect(pg_server) as conn:  # no staging or replaced database is left behind
        left = conn.execute("SELECT datname FROM pg_database WHERE datname ~ '_(restore|replaced)_'").fetchall()
    assert left == []


def test_restore_of_a_bad_file_fails_clearly_and_changes_nothing(empty_db: str, tmp_path: Path) -> None:
    missing = bithedge("db", "restore", str(tmp_path / "nope.dump"), env=_env(DATABASE_URL=empty_db))
    assert missing.returncode == 1 and "no such backup file" in missing.stderr
    junk = tmp_path / "junk.dump"
    junk.write_bytes(b"not a dump")
    bad = bithedge("db", "restore", str(junk), env=_env(DATABASE_URL=empty_db))
    assert bad.returncode == 1 and "not a backup" in bad.stderr
    with psycopg.connect(empty_db) as conn:
        assert conn.execute("SELECT to_regclass('public.bithedge_migrations')").fetchone() == (None,)
