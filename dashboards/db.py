"""The app's one database handle: SQLAlchemy Core over psycopg, named queries from ``queries.sql``, and the
three ways a read can fail turned into one exception a page can show (never a traceback)."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pandas as pd
import psycopg
import sqlalchemy as sa
from sqlalchemy import exc

QUERIES_FILE = Path(__file__).with_name("queries.sql")
#: every statement the app runs gives up after this long (a page shows "slow" instead of hanging)
STATEMENT_TIMEOUT_MS = 15_000


def load_queries(path: Path = QUERIES_FILE) -> dict[str, str]:
    """``-- name: x`` blocks of the file, by name."""
    out: dict[str, str] = {}
    name = None
    for line in path.read_text().splitlines():
        if m := re.match(r"--\s*name:\s*(\w+)", line):
            name = m.group(1)
            out[name] = ""
        elif name is not None and not line.lstrip().startswith("--"):  # comments may mention :binds
            out[name] += line + "\n"
    return {k: v.strip().rstrip(";") for k, v in out.items()}


QUERIES = load_queries()


class Unavailable(Exception):
    """A read that cannot give data: ``kind`` is ``down`` (no database), ``missing`` (the view is not there),
    ``denied`` (no grant) or ``error`` (anything else); ``str()`` is the message a page shows."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _classify(e: Exception) -> Unavailable:
    orig = getattr(e, "orig", e)
    if isinstance(e, (exc.OperationalError, exc.InterfaceError)) and not isinstance(
            orig, psycopg.errors.QueryCanceled):
        return Unavailable("down", "The database is not reachable; the page retries by itself.")
    if isinstance(orig, (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedFunction,
                         psycopg.errors.UndefinedColumn, psycopg.errors.InvalidSchemaName)):
        what = re.search(r'(?:relation|function|column|schema) "?([\w.]+)', str(orig).splitlines()[0])
        name = what.group(1) if what else "an analytics view"
        return Unavailable("missing", f"{name} does not exist yet: the transforms have not built it "
                                      "(`bithedge transforms build`).")
    if isinstance(orig, psycopg.errors.InsufficientPrivilege):
        return Unavailable("denied", "The dashboards' role may not read this view (grants of bithedge_reader).")
    if isinstance(orig, psycopg.errors.QueryCanceled):
        return Unavailable("error", f"The query took longer than {STATEMENT_TIMEOUT_MS // 1000} s and was stopped.")
    return Unavailable("error", f"The query failed: {str(orig).splitlines()[0][:200]}")


class Database:
    """Reads for the pages. ``url`` may change at run time (``use``); the pool reconnects after an outage."""

    def __init__(self, url: str) -> None:
        self._lock = threading.Lock()
        self.engine: sa.Engine | None = None
        self.use(url)

    @staticmethod
    def _sa_url(url: str) -> str:
        return re.sub(r"^postgres(?:ql)?(\+\w+)?://", "postgresql+psycopg://", url)

    def use(self, url: str) -> None:
        engine = sa.create_engine(
            self._sa_url(url), pool_pre_ping=True, pool_size=4, max_overflow=4, pool_recycle=300,
            connect_args={"connect_timeout": 3, "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
                          "application_name": "bithedge-dashboards"},
        )
        with self._lock:
            old, self.engine, self.url = self.engine, engine, url
        if old is not None:
            old.dispose()

    def frame(self, name_or_sql: str, **params) -> pd.DataFrame:
        """A named query of ``queries.sql`` (or SQL text) as a DataFrame; raises ``Unavailable``."""
        sql = QUERIES.get(name_or_sql, name_or_sql)
        try:
            with self.engine.connect() as conn:
                result = conn.execute(sa.text(sql), params)
                return pd.DataFrame(result.fetchall(), columns=list(result.keys()))
        except exc.SQLAlchemyError as e:
            raise _classify(e) from None

    def call(self, name_or_sql: str, **params) -> None:
        """Run a statement that writes (the login's session functions) and commit it."""
        sql = QUERIES.get(name_or_sql, name_or_sql)
        try:
            with self.engine.begin() as conn:
                conn.execute(sa.text(sql), params)
        except exc.SQLAlchemyError as e:
            raise _classify(e) from None

    def rows(self, name_or_sql: str, **params) -> list[sa.Row]:
        sql = QUERIES.get(name_or_sql, name_or_sql)
        try:
            with self.engine.connect() as conn:
                return list(conn.execute(sa.text(sql), params))
        except exc.SQLAlchemyError as e:
            raise _classify(e) from None

    def exists(self, relation: str) -> bool:
        """Whether a relation is there (views other engineers add later)."""
        return bool(self.rows("SELECT to_regclass(:r) IS NOT NULL", r=relation)[0][0])

    def stream(self, sql: str, params: dict, batch: int = 2000):
        """Rows of ``sql`` from a server-side cursor, ``batch`` at a time: the first yield is the column names."""
        try:
            with self.engine.connect().execution_options(stream_results=True, max_row_buffer=batch) as conn:
                result = conn.execute(sa.text(sql), params)
                yield list(result.keys())
                while chunk := result.fetchmany(batch):
                    yield from chunk
        except exc.SQLAlchemyError as e:
            raise _classify(e) from None
