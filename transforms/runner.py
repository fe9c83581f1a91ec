"""dbt in-process: one ``dbtRunner`` with a kept manifest, the connection passed through the environment.

Traps handled here (each measured on this project's shape):

* dbt-postgres 1.11 appends its behaviour flag to a module-level list on every adapter construction (one per
  invoke), and every entry costs an ``inspect.stack()`` on later invokes, so a long-lived process slows down by
  about 0.5 ms per earlier invoke (dbt-adapters #2136). The list is restored before every invoke.
* the manifest is parsed once and handed to the runner, so a per-block run does not parse.
* per-block runs select only the marts whose inputs changed (``transforms.selection``), never a view; the
  views are (re)built by ``deploy``: every view build costs dbt 30-40 ms for 2 ms of SQL.
* dbt closes its connection after every node, so each model opened a new one: a new backend whose catalog
  caches are cold, which made planning a mart's query over the JSON-decoding staging views cost ~25 ms
  against 1-4 ms of execution. The thread's connection is kept open across nodes (rolled back after each)
  and closed at the end of the invoke, as dbt does with every connection.
* every invoke looked for dbt plugins by listing every module on ``sys.path`` (~0.1 s of CPU, more on a
  loaded machine); the modules found by the first invoke are kept.
* dbt compiles the Jinja of every model, hook and macro it renders again on every invoke (Python codegen and
  ``compile()``, a few ms each, dozens per run); the compiled code of a template source is kept (the code of a
  template depends only on its source and the environment class: dbt binds its context at render time).
* the per-block run logs nothing (``--log-level none``): with ``--quiet`` dbt still formats every event's
  console line (a few hundred per run) and then drops it. Failures come back in the run results.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from transforms import selection

PROJECT_DIR = Path(__file__).resolve().parent / "project"
#: what a per-block run does not need to write or say
LEAN = ["--log-level", "none", "--log-level-file", "none", "--no-write-json", "--no-populate-cache"]


def devnet_deployer() -> str:
    """The deployer of the devnet deployment (``bithedge.protocol.deployment``)."""
    from bithedge.protocol.deployment import DEVNET_DEPLOYER

    return DEVNET_DEPLOYER


#: compiled Jinja templates kept (the project's models, hooks and macros need a few hundred)
_COMPILED_MAX = 4096


def _patch_dbt() -> None:
    """The process-wide patches of the module docstring (once per process)."""
    import jinja2
    from dbt.adapters.base.connections import BaseConnectionManager
    from dbt.plugins.manager import PluginManager

    close_it = BaseConnectionManager.release
    if getattr(close_it, "keeps_connections", False):
        return

    def release(self) -> None:
        conn = self.get_if_exists()
        handle = conn.handle if conn is not None and conn.state == "open" else None
        if handle is None or getattr(handle, "closed", 1):
            return close_it(self)
        # dbt-postgres is not autocommit: any statement (a catalog query too) opens a transaction, which dbt
        # only tracks when it sent the BEGIN itself; end it either way, so no lock outlives its node
        self._rollback_handle(conn)
        conn.transaction_open = False
        return None

    release.keeps_connections = True
    BaseConnectionManager.release = release

    modules = PluginManager.get_prefixed_modules()
    PluginManager.get_prefixed_modules = classmethod(lambda cls: modules)

    compile_source = jinja2.Environment.compile
    compiled: dict[tuple, object] = {}

    def compile(self, source, name=None, filename=None, raw=False, defer_init=False):
        if raw or not isinstance(source, str):
            return compile_source(self, source, name, filename, raw, defer_init)
        key = (type(self), source, name, filename, defer_init)
        code = compiled.get(key)
        if code is None:
            if len(compiled) >= _COMPILED_MAX:
                compiled.clear()
            code = compiled[key] = compile_source(self, source, name, filename, raw, defer_init)
        return code

    jinja2.Environment.compile = compile


class DbtError(RuntimeError):
    """A dbt invocation failed; the message lists the failing nodes (never the connection's password)."""


@dataclass
class Outcome:
    command: str
    success: bool
    duration_s: float
    #: node name -> status (success, error, pass, warn, fail, skipped)
    statuses: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    #: marts a per-block run left out: nothing they read changed (moved to the current position)
    unchanged: list[str] = field(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        return [n for n, s in self.statuses.items() if s == "warn"]


def _connection_env(url: str, threads: int) -> dict[str, str]:
    info = conninfo_to_dict(url)
    return {
        "BITHEDGE_DBT_HOST": str(info.get("host") or "127.0.0.1"),
        "BITHEDGE_DBT_PORT": str(info.get("port") or 5432),
        "BITHEDGE_DBT_USER": str(info.get("user") or os.environ.get("USER", "postgres")),
        "BITHEDGE_DBT_DBNAME": str(info.get("dbname") or info.get("user") or "postgres"),
        "DBT_ENV_SECRET_BITHEDGE_DBT_PASSWORD": str(info.get("password") or ""),
        "BITHEDGE_DBT_THREADS": str(threads),
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
    }


class Dbt:
    """dbt against one database; not thread-safe (one invoke at a time, as dbt itself requires)."""

    def __init__(self, url: str, *, work_dir: Path, deployer: str | None = None, threads: int = 2) -> None:
        from dbt.adapters.base import impl

        self.url = url
        self.work_dir = work_dir
        self.vars = {"deployer": deployer or devnet_deployer()}
        self.env = {
            **_connection_env(url, threads),
            "DBT_TARGET_PATH": str(work_dir / "target"),
            "DBT_LOG_PATH": str(work_dir / "logs"),
        }
        self._flags = impl.DEFAULT_BASE_BEHAVIOR_FLAGS
        self._saved_flags = list(self._flags)
        self._manifest = None
        _patch_dbt()

    def _invoke(self, args: list[str]):
        from dbt.cli.main import dbtRunner

        os.environ.update(self.env)
        self._flags[:] = self._saved_flags
        runner = dbtRunner(manifest=self._manifest)
        return runner.invoke([*args, "--project-dir", str(PROJECT_DIR), "--vars", json.dumps(self.vars)])

    def parse(self) -> None:
        """Parse the project once; later invokes reuse the manifest."""
        res = self._invoke(["parse", "--quiet"])
        if not res.success:
            raise DbtError(f"dbt parse failed: {res.exception}")
        self._manifest = res.result

    def run(self, command: str, *args: str) -> Outcome:
        if self._manifest is None:
            self.parse()
        start = time.monotonic()
        res = self._invoke([command, *args])
        out = Outcome(command, bool(res.success), time.monotonic() - start)
        results = getattr(res.result, "results", None) or []
        for r in results:
            status = str(getattr(r.status, "value", r.status))
            out.statuses[r.node.name] = status
            if status in ("error", "fail"):
                out.errors.append(f"{r.node.name}: {(r.message or status).strip()}")
        if res.exception is not None:
            out.errors.append(str(res.exception))
        return out

    def render(self, sql: str) -> str:
        """``sql`` with the project's macros expanded (dbt compile --inline), e.g. to run a formula by hand."""
        if self._manifest is None:
            self.parse()
        res = self._invoke(["compile", "--inline", sql, *LEAN])
        if not res.success:
            raise DbtError(f"dbt compile failed: {res.exception or res.result}")
        return res.result.results[0].node.compiled_code

    def deploy(self, *, full_refresh: bool = False, select: tuple[str, ...] = ()) -> Outcome:
        """Every model and test (views included): at start-up and for operators; the marts it writes whole are
        vacuumed and analyzed after it (``writing_whole``)."""
        args = [*(["--full-refresh"] if full_refresh else []), *(["--select", *select] if select else [])]
        return self.writing_whole(lambda: self.run("build", *args), full_refresh=full_refresh)

    def writing_whole(self, run: Callable[[], Outcome], *, full_refresh: bool = False) -> Outcome:
        """``run()``, then ``vacuum_marts`` on the marts it wrote whole: every mart after a full refresh (it
        deletes and writes again every row in place), else the marts it created (a first build, however long the
        chain already indexed, or a new model). Done even after a failed test: the marts were written."""
        before = set() if full_refresh else mart_tables(self.url)
        out = run()
        if written := mart_tables(self.url) - before:
            vacuum_marts(self.url, written)
        return out

    def refresh_marts(self) -> Outcome:
        """The per-block run: the marts whose inputs changed (``transforms.selection``), lean; the others are
        moved to the current position without running dbt."""
        if self._manifest is None:
            self.parse()
        start = time.monotonic()
        todo = selection.plan(self.url, selection.marts(self._manifest, self.vars["deployer"]))
        out = (self.run("run", "--select", *(m.name for m in todo.build), *LEAN) if todo.build
               else Outcome("run", True, 0.0))
        out.duration_s = time.monotonic() - start
        out.unchanged = [m.name for m in todo.advanced]
        return out

    def test(self, select: tuple[str, ...] = ()) -> Outcome:
        return self.run("test", *(["--select", *select] if select else []))

    def docs(self) -> Outcome:
        return self.run("docs", "generate")


def mart_tables(url: str) -> set[str]:
    """The tables of the ``marts`` schema this role owns."""
    with psycopg.connect(url, autocommit=True) as conn:
        return {t for (t,) in conn.execute("SELECT tablename FROM pg_tables "
                                           "WHERE schemaname = 'marts' AND tableowner = current_user")}


def vacuum_marts(url: str, tables: set[str] | None = None) -> None:
    """``VACUUM (ANALYZE)`` the ``marts`` tables this role owns (or ``tables`` of them), after they were written
    whole (``Dbt.writing_whole``).

    The statistics: until autovacuum came round, the per-block runs after a full refresh took 0.91 s a block at
    1M policies (p95 1.53 s), 0.55 s after an ``ANALYZE`` (transforms/README.md, session 8). The visibility map:
    autovacuum does visit the new rows, but while the build's own transaction is still open, so it marks no page
    all-visible, and an insert-mostly mart is not visited again for another 20 % of its rows. Until then no
    index-only scan pays off: the policies' status counts read the whole table (0.39 s at 1M against 0.10 s
    vacuumed: session 9). VACUUM cannot run inside a transaction: one statement per table, autocommit."""
    with psycopg.connect(url, autocommit=True) as conn:
        for table in sorted(mart_tables(url) if tables is None else tables):
            conn.execute(sql.SQL("VACUUM (ANALYZE) marts.{}").format(sql.Identifier(table)))


def record_run(url: str, outcome: Outcome, started_at: float) -> None:
    """One row in marts.build_runs (analytics.freshness reports the last one)."""
    error = "; ".join(outcome.errors)[:4000] or None
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO marts.build_runs (started_at, finished_at, command, outcome, duration_s, tip_height, error) "
            "SELECT to_timestamp(%s), now(), %s, %s, %s, (SELECT block_height FROM raw.chain_tip), %s",
            (started_at, outcome.command, "success" if outcome.success else "error", outcome.duration_s, error),
        )
