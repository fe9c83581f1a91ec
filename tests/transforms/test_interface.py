"""The analytics interface: transforms/README.md's view tables are the rendering of the analytics _schema.yml,
and the database's views have exactly those columns, in that order, with those types."""

from __future__ import annotations

import psycopg

from tests.transforms.chain import build, transform_dbt
from transforms import interface


def test_readme_tables_are_rendered_from_the_schema() -> None:
    assert interface.readme_section(interface.README.read_text()) == interface.render(), \
        "transforms/README.md is stale: run `python -m transforms.interface`"


async def test_database_views_match_the_documented_interface(chain, tmp_path):
    await build(transform_dbt(chain.db, tmp_path), "deploy")
    with psycopg.connect(chain.db) as conn:
        rows = conn.execute(
            "SELECT table_name, column_name, CASE WHEN data_type = 'ARRAY' THEN udt_name ELSE data_type END "
            "FROM information_schema.columns WHERE table_schema = 'analytics' ORDER BY table_name, ordinal_position"
        ).fetchall()
        functions = {r[0] for r in conn.execute(
            "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'analytics'")}
    actual: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in rows:
        actual.setdefault(table, []).append((column, data_type))
    documented = {name: [(c, t) for c, t, _, _ in v["columns"]] for name, v in interface.views().items()}
    assert actual == documented
    assert "stress_payout" in functions
    for name, v in interface.views().items():
        assert all(unit and meaning for _, _, unit, meaning in v["columns"]), name
