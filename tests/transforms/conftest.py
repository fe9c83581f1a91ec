"""One devnet session for every transforms test: a chain indexed live into its own database, with simulator
traffic (prices, deposits, withdrawals, policies created and settled, governance)."""

from __future__ import annotations

import shutil

import psycopg
import pytest

from tests.conftest import create_database, drop_database

#: simulator steps before the first test (each mines one or two blocks): ~120 blocks, ~100 policies
STEPS = 60


@pytest.fixture(scope="session")
async def chain(pg_server, migrated_template, tmp_path_factory):
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    from tests.transforms.chain import start_chain

    db = create_database(pg_server, migrated_template)
    with psycopg.connect(db, autocommit=True) as conn:  # a clone does not copy the database's grants
        conn.execute("SELECT public.bithedge_database_grants()")
    ch = await start_chain(db, tmp_path_factory.mktemp("transforms-devnet"), steps=STEPS)
    yield ch
    await ch.stop()
    drop_database(pg_server, db)
