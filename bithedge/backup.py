"""``bithedge db backup`` / ``bithedge db restore``: pg_dump and pg_restore in the custom format, run from the
embedded server's own binaries (PostgreSQL 18, so they also read and write an external server up to 18).

A backup holds one database: its schemas, rows, grants and default privileges, and ``bithedge_migrations``.
Roles are cluster-wide and not in it; a restore first applies this checkout's migrations up to the backup's
last one to a new database (migration 0001 creates the roles when they are missing, so a fresh data dir works),
restores the backup over that in one transaction, and only then swaps it in for the target database. A failed
or interrupted restore leaves the target as it was.
"""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import conninfo, sql

from bithedge.embedded_pg import bin_dir
from bithedge.migrate import discover, migrate

BACKUP_SUFFIX = ".dump"
# pg_dump/pg_restore --verbose name each table as they copy its rows: that is the progress shown.
_TABLE_LINE = re.compile(r'(?:dumping contents of|processing data for) table "([^"]+)"')


class BackupError(RuntimeError):
    """A backup or restore could not be done; the message says why and what to do."""


@dataclass(frozen=True)
class Target:
    """A database named by a URL, with the password kept out of the tools' argv (``ps`` shows argv)."""

    params: dict[str, str]

    @classmethod
    def from_url(cls, url: str) -> Target:
        return cls({k: str(v) for k, v in conninfo.conninfo_to_dict(url).items() if v is not None})

    @property
    def dbname(self) -> str:
        return self.params.get("dbname", self.params.get("user", "postgres"))

    def conninfo(self, dbname: str | None = None, *, with_password: bool = True) -> str:
        params = {**self.params, "dbname": dbname or self.dbname}
        if not with_password:
            params.pop("password", None)
        return conninfo.make_conninfo(**params)

    def tool_env(self) -> dict[str, str]:
        env = dict(os.environ)
        if "password" in self.params:
            env["PGPASSWORD"] = self.params["password"]
        return env


def default_file(data_dir: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return data_dir / "backups" / f"bithedge-{stamp}{BACKUP_SUFFIX}"


def _run(argv: list[str], target: Target, echo: Callable[[str], None]) -> None:
    """Run a client tool, echoing one line per table it copies; raise with its error output on failure."""
    proc = subprocess.Popen(argv, env=target.tool_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    assert proc.stderr is not None
    errors: list[str] = []
    for line in proc.stderr:
        if m := _TABLE_LINE.search(line):
            echo(f"  {m.group(1)}")
        elif "error" in line.lower() or "fatal" in line.lower():
            errors.append(line.strip())
    if proc.wait() != 0:
        tool = Path(argv[0]).name
        raise BackupError(f"{tool} failed ({proc.returncode}): " + ("; ".join(errors[-3:]) or "no error output"))


def backup(url: str, file: Path, echo: Callable[[str], None] = print) -> int:
    """Dump the database at ``url`` into ``file`` (custom format); return its size in bytes.

    The dump is written beside ``file`` and renamed into place when complete, so ``file`` is never partial."""
    if file.exists():
        raise BackupError(f"{file} already exists; choose another file name")
    file.parent.mkdir(parents=True, exist_ok=True)
    partial = file.with_name(file.name + ".partial")
    target = Target.from_url(url)
    try:
        _run([str(bin_dir() / "pg_dump"), "--format=custom", "--verbose", f"--file={partial}",
              f"--dbname={target.conninfo(with_password=False)}"], target, echo)
        partial.rename(file)
    finally:
        partial.unlink(missing_ok=True)
    return file.stat().st_size


def backup_versions(file: Path) -> list[int]:
    """The migration versions recorded in a backup (its ``bithedge_migrations`` rows)."""
    if not file.is_file():
        raise BackupError(f"{file}: no such backup file")
    proc = subprocess.run([str(bin_dir() / "pg_restore"), "--data-only", "--schema=public",
                           "--table=bithedge_migrations", "--file=-", str(file)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise BackupError(f"{file} is not a backup made by `bithedge db backup`: {proc.stderr.strip()}")
    rows = proc.stdout.split("FROM stdin;\n", 1)[1].split("\n\\.", 1)[0] if "FROM stdin;\n" in proc.stdout else ""
    versions = sorted(int(line.split("\t", 1)[0]) for line in rows.splitlines() if line)
    if not versions:
        raise BackupError(f"{file} holds no bithedge_migrations rows: not a BitHedge database backup")
    return versions


def _contents(url: str) -> tuple[int, int]:
    """(relations outside the system schemas, other client sessions) of the database at ``url``."""
    with psycopg.connect(url, autocommit=True) as conn:
        relations = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') "
            "AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')").fetchone()[0]
        sessions = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()").fetchone()[0]
    return relations, sessions


def restore(url: str, file: Path, *, force: bool = False, echo: Callable[[str], None] = print) -> list[int]:
    """Replace the (empty, unless ``force``) database at ``url`` with the backup in ``file``.

    Returns the backup's migration versions; ``bithedge migrate`` applies any newer ones afterwards."""
    versions = backup_versions(file)
    known = max(m.version for m in discover())
    if versions[-1] > known:
        raise BackupError(f"{file} is at migration {versions[-1]:04d}, newer than this checkout's {known:04d}; "
                          "restore it with the code that made it")
    target = Target.from_url(url)
    relations, sessions = _contents(url)
    if sessions:
        raise BackupError(f"{sessions} other session(s) are connected to {target.dbname}; stop the services "
                          "(`bithedge up`, daemons) before restoring")
    if relations and not force:
        raise BackupError(f"database {target.dbname} is not empty ({relations} tables, views or sequences); "
                          "restore into an empty one, or pass --force to replace it (its data is lost)")
    # CREATE/RENAME DATABASE run from another database of the same server.
    maintenance = target.conninfo("template1" if target.dbname == "postgres" else "postgres")
    staging = f"{target.dbname[:40]}_restore_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(maintenance, autocommit=True) as conn:
        try:
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(staging)))
        except psycopg.errors.InsufficientPrivilege:
            raise BackupError(f"user {target.params.get('user', '')!r} may not create databases: a restore builds "
                              "the new database beside the old one (grant CREATEDB, or restore as the owner)") from None
    try:
        migrate(target.conninfo(staging), upto=versions[-1])
        _run([str(bin_dir() / "pg_restore"), "--clean", "--if-exists", "--single-transaction", "--exit-on-error",
              "--verbose", f"--dbname={target.conninfo(staging, with_password=False)}", str(file)], target, echo)
    except BaseException:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(staging)))
        raise
    replaced = f"{target.dbname[:40]}_replaced_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                     (target.dbname,))
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (target.dbname,)).fetchone()
        if exists:
            conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                sql.Identifier(target.dbname), sql.Identifier(replaced)))
        conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
            sql.Identifier(staging), sql.Identifier(target.dbname)))
        if exists:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(replaced)))
    return versions
