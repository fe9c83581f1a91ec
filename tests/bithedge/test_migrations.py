from __future__ import annotations

import pathlib
import re
import subprocess
import threading
from pathlib import Path

import psycopg
import pytest

from bithedge.migrate import MigrationError, discover, migrate
from tests.conftest import REPO


def _versions(url: str) -> list[int]:
    with psycopg.connect(url) as conn:
        return [v for (v,) in conn.execute("SELECT version FROM public.bithedge_migrations ORDER BY version")]


def test_migrate_applies_everything_once_and_is_idempotent(empty_db: str) -> None:
    first = migrate(empty_db)
    assert [m.version for m in first] == [m.version for m in discover()]
    assert migrate(empty_db) == []
    assert _versions(empty_db) == [m.version for m in discover()]
    with psycopg.connect(empty_db) as conn:
        schemas = {s for (s,) in conn.execute("SELECT nspname FROM pg_namespace")}
    assert {"raw", "keeper", "analytics"} <= schemas


def test_two_concurrent_runs_apply_each_migration_exactly_once(empty_db: str) -> None:
    results: list[object] = []

    def run() -> None:
        try:
            results.append(migrate(empty_db))
        except Exception as exc:  # noqa: BLE001 - the assertion below reports it
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not [r for r in results if isinstance(r, Exception)], results
    applied = sorted(len(r) for r in results)  # type: ignore[arg-type]
    assert applied == [0, len(discover())]
    assert _versions(empty_db) == [m.version for m in discover()]


def test_a_failing_migration_leaves_nothing_behind(empty_db: str, tmp_path: Path) -> None:
    (tmp_path / "0001_ok.sql").write_text("CREATE TABLE public.ok_table (id int);")
    (tmp_path / "0002_broken.sql").write_text("CREATE TABLE public.half (id int); SELECT no_such_function();")
    with pytest.raises(psycopg.errors.UndefinedFunction):
        migrate(empty_db, tmp_path)
    with psycopg.connect(empty_db) as conn:
        tables = {t for (t,) in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert "ok_table" in tables and "half" not in tables
    assert _versions(empty_db) == [1]


def test_editing_an_applied_migration_is_refused(empty_db: str, tmp_path: Path) -> None:
    f = tmp_path / "0001_first.sql"
    f.write_text("CREATE TABLE public.a (id int);")
    migrate(empty_db, tmp_path)
    f.write_text("CREATE TABLE public.a (id bigint);")
    with pytest.raises(MigrationError, match="was changed after it was applied"):
        migrate(empty_db, tmp_path)


def test_badly_named_migration_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "1_x.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="NNNN_name.sql"):
        discover(tmp_path)


def test_schemas_roles_and_grants_are_created_only_by_migrations() -> None:
    """Code (not tests, which create throwaway objects) never creates a schema or role or grants a privilege."""
    ddl = re.compile(r"\b(CREATE\s+(SCHEMA|ROLE|USER)|GRANT\s+\w|REVOKE\s+\w|ALTER\s+DEFAULT\s+PRIVILEGES)\b", re.I)
    # the checkout's own files (tracked or not ignored), so build output and kept benchmark data are not scanned
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            check=True, capture_output=True, text=True).stdout.split()
    sources = [REPO / name for name in listed
               if name.endswith((".py", ".cjs", ".mjs", ".ts", ".sh", ".yml")) and (REPO / name).is_file()
               and not {"node_modules", "tests"} & set(pathlib.PurePosixPath(name).parts)]
    assert len(sources) > 50
    found = [f"{p.relative_to(REPO)}: {m.group(0)}" for p in sources for m in ddl.finditer(p.read_text())]
    assert found == []
