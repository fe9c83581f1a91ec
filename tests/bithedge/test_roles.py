"""Role privileges are real: each service role can do its job and nothing more."""

from __future__ import annotations

import psycopg
import pytest

from bithedge.database import role_url


@pytest.fixture
def seeded(db_url: str) -> str:
    # Tables created the way migrations and dbt create them: raw/keeper by the admin, analytics by transform.
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE raw.t_blocks (h int)")
        conn.execute("INSERT INTO raw.t_blocks VALUES (1)")
        conn.execute("CREATE TABLE keeper.t_jobs (id int)")
    with psycopg.connect(role_url(db_url, "bithedge_transform"), autocommit=True) as conn:
        conn.execute("CREATE TABLE analytics.t_policies AS SELECT h AS id FROM raw.t_blocks")
    return db_url


def _denied(url: str, sql: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM raw.t_blocks",
        "INSERT INTO analytics.t_policies VALUES (2)",
        "UPDATE analytics.t_policies SET id = 3",
        "DELETE FROM analytics.t_policies",
        "CREATE TABLE analytics.mine (x int)",
        "CREATE TABLE public.mine (x int)",
        "CREATE TEMP TABLE mine (x int)",
        "CREATE SCHEMA mine",
        "SELECT * FROM keeper.t_jobs",
        "INSERT INTO raw.t_blocks VALUES (9)",
    ],
)
def test_reader_cannot_write_anywhere_or_read_raw(seeded: str, sql: str) -> None:
    _denied(role_url(seeded, "bithedge_reader"), sql)


def test_reader_reads_analytics(seeded: str) -> None:
    with psycopg.connect(role_url(seeded, "bithedge_reader")) as conn:
        assert conn.execute("SELECT id FROM analytics.t_policies").fetchall() == [(1,)]


def test_indexer_writes_raw_only(seeded: str) -> None:
    url = role_url(seeded, "bithedge_indexer")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO raw.t_blocks VALUES (2)")
        conn.execute("UPDATE raw.t_blocks SET h = h")
    _denied(url, "INSERT INTO keeper.t_jobs VALUES (1)")
    _denied(url, "SELECT * FROM analytics.t_policies")
    _denied(url, "DELETE FROM raw.t_blocks")  # reorgs flip flags; raw rows are never deleted


def test_transform_reads_raw_and_builds_analytics_but_cannot_write_raw(seeded: str) -> None:
    url = role_url(seeded, "bithedge_transform")
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM raw.t_blocks").fetchone() == (1,)
        conn.execute("CREATE SCHEMA dbt_staging")
        conn.execute("CREATE TEMP TABLE scratch (x int)")
    _denied(url, "INSERT INTO raw.t_blocks VALUES (5)")


def test_keeper_writes_keeper_and_reads_analytics(seeded: str) -> None:
    url = role_url(seeded, "bithedge_keeper")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO keeper.t_jobs VALUES (1)")
        assert conn.execute("SELECT id FROM analytics.t_policies").fetchall() == [(1,)]
    _denied(url, "SELECT * FROM raw.t_blocks")
    _denied(url, "INSERT INTO analytics.t_policies VALUES (7)")
