"""Shared fixtures: one real PostgreSQL per test session, a fresh migrated database per test; the devnet and
observer session fixtures come from ``tests/support/devnet.py`` (registered below).

``DATABASE_URL`` set → tests use that server (they create and drop their own databases on it);
otherwise an embedded server is started in a temporary directory for the session.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from bithedge.embedded_pg import EmbeddedPostgres
from bithedge.migrate import migrate
from bithedge.settings import get_settings

# The devnet and observer session fixtures, shared by every folder.
pytest_plugins = ("tests.support.devnet",)

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
FIXTURES = SHARED / "fixtures" / "stacks"
TEMPLATE_DB = "bithedge_test_template"


@pytest.fixture(autouse=True)
def _settings_read_per_test() -> Iterator[None]:
    """Commands cache their settings for the life of a process; in-process CLI tests each pass their own
    environment, so none may see the settings an earlier test cached."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def pytest_report_header(config: pytest.Config) -> str:
    where = "DATABASE_URL" if os.environ.get("DATABASE_URL") else "embedded PostgreSQL (temporary)"
    return f"bithedge: database from {where}; shared fixtures {'found' if FIXTURES.exists() else 'MISSING'}"


def with_dbname(url: str, dbname: str) -> str:
    base, _, _ = url.rpartition("/")
    query = url.partition("?")[2]
    return f"{base}/{dbname}" + (f"?{query}" if query else "")


@pytest.fixture(scope="session")
def tmp_pg_root() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="bithedge-test-"))
    # mkdtemp makes a 0700 directory; the unprivileged postgres user must be able to traverse it.
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server(tmp_pg_root: Path) -> Iterator[str]:
    """Admin URL of a running PostgreSQL server."""
    if url := os.environ.get("DATABASE_URL"):
        yield url
        return
    pg = EmbeddedPostgres(tmp_pg_root / "pg", durable=False)
    url = pg.start()
    yield url
    pg.stop()


@pytest.fixture(scope="session")
def migrated_template(pg_server: str) -> str:
    """A database with every migration applied, cloned for each test (much faster than migrating each)."""
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {TEMPLATE_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {TEMPLATE_DB}")
    migrate(with_dbname(pg_server, TEMPLATE_DB))
    return TEMPLATE_DB


def create_database(pg_server: str, template: str | None = None) -> str:
    name = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
    return with_dbname(pg_server, name)


def drop_database(pg_server: str, url: str) -> None:
    name = url.rsplit("/", 1)[1].split("?")[0]
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def empty_db(pg_server: str) -> Iterator[str]:
    """A fresh database with no migrations applied."""
    url = create_database(pg_server)
    yield url
    drop_database(pg_server, url)


@pytest.fixture
def db_url(pg_server: str, migrated_template: str) -> Iterator[str]:
    """A fresh, fully migrated database for one test."""
    url = create_database(pg_server, migrated_template)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT public.bithedge_database_grants()")
    yield url
    drop_database(pg_server, url)


@pytest.fixture(scope="session")
def shared_fixtures() -> Path:
    if not FIXTURES.exists():
        pytest.skip(f"shared fixtures not found at {FIXTURES} (CI always has ../shared beside the checkout)")
    return FIXTURES
