"""The analytics interface as its readers see it: owned by bithedge_transform, readable by bithedge_reader and
bithedge_keeper, nothing below it readable by them; a full refresh keeps a view a reader built on it."""

from __future__ import annotations

import psycopg
import pytest

from bithedge.database import role_url
from tests.transforms.chain import build, transform_dbt


async def test_readers_see_analytics_only_and_views_survive_a_full_refresh(chain, tmp_path):
    dbt = transform_dbt(chain.db, tmp_path)
    await build(dbt, "deploy")
    with psycopg.connect(chain.db, autocommit=True) as admin:
        owners = {r[0] for r in admin.execute(
            "SELECT DISTINCT viewowner FROM pg_views WHERE schemaname = 'analytics'")}
        # a downstream object on top of the interface (the keeper's own schema)
        admin.execute("CREATE OR REPLACE VIEW keeper.due_policies AS SELECT policy_id FROM analytics.policies "
                      "WHERE status = 'expired'")
    assert owners == {"bithedge_transform"}
    for role in ("bithedge_reader", "bithedge_keeper"):
        with psycopg.connect(role_url(chain.db, role)) as conn:
            assert conn.execute("SELECT count(*) FROM analytics.policies").fetchone()[0] > 0
            assert conn.execute("SELECT count(*) FROM analytics.freshness").fetchone()[0] == 1
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("SELECT count(*) FROM marts.policies")
    with psycopg.connect(chain.db) as admin:
        (before,) = admin.execute("SELECT now()").fetchone()
    await build(dbt, "deploy", full_refresh=True)
    with psycopg.connect(role_url(chain.db, "bithedge_keeper")) as conn:
        assert conn.execute("SELECT count(*) FROM keeper.due_policies").fetchone() is not None
    # every mart was rewritten in place: vacuumed and analyzed after it, not left to autovacuum
    with psycopg.connect(chain.db) as admin:
        stale = admin.execute("SELECT relname FROM pg_stat_user_tables WHERE schemaname = 'marts' "
                              "AND (last_analyze IS NULL OR last_analyze < %s "
                              "     OR last_vacuum IS NULL OR last_vacuum < %s)", (before, before)).fetchall()
        # so every page of the policies is all-visible: its status counts are an index-only scan
        (visible, pages) = admin.execute("SELECT relallvisible, relpages FROM pg_class "
                                         "WHERE oid = 'marts.policies'::regclass").fetchone()
        (marts,) = admin.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'marts'").fetchone()
    assert marts > 10 and stale == []
    assert pages > 0 and visible == pages


def _vacuumed(db: str) -> dict[str, object]:
    with psycopg.connect(db) as admin:
        return dict(admin.execute(
            "SELECT t.tablename, s.last_vacuum FROM pg_tables t JOIN pg_stat_user_tables s "
            "ON s.schemaname = t.schemaname AND s.relname = t.tablename "
            "WHERE t.schemaname = 'marts' AND t.tableowner = 'bithedge_transform'").fetchall())


async def test_a_first_build_vacuums_the_marts_it_creates_and_a_later_one_none(db_url, tmp_path):
    dbt = transform_dbt(db_url, tmp_path)
    await build(dbt, "deploy")
    first = _vacuumed(db_url)
    assert len(first) > 10 and all(v is not None for v in first.values()), first
    await build(dbt, "deploy")
    assert _vacuumed(db_url) == first  # nothing new was written whole
