"""Crash safety: ``bithedge transforms serve`` killed with SIGKILL while dbt is building a new batch of blocks,
then restarted, leaves marts equal row for row to a clean ``--full-refresh`` build (each mart's window, rows and
bookkeeping commit in one transaction, so a killed run leaves the previous state and the next run redoes it)."""

from __future__ import annotations

import asyncio
import os
import random
import signal

import psycopg

from tests.transforms.chain import build, first_difference, mart_rows, transform_dbt
from tests.transforms.serve import start_serve, wait_for

_DBT_ACTIVE = ("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
               "AND query LIKE '%\"app\": \"dbt\"%' AND pid <> pg_backend_pid()")


async def _wait_included(base: str, proc, height: int) -> None:
    await wait_for(base, "/health", proc, lambda _, body: (body.get("stacks_height") or 0) >= height,
                   f"the marts never included {height}")


def _tip(db: str) -> int:
    with psycopg.connect(db) as conn:
        return conn.execute("SELECT block_height FROM raw.chain_tip").fetchone()[0]


async def test_sigkill_during_a_build_then_restart_equals_a_full_refresh(chain, tmp_path):
    rng = random.Random(os.environ.get("BITHEDGE_TEST_SEED", "crash"))
    with open(tmp_path / "serve.log", "wb") as log:
        proc, base = await start_serve(chain.db, tmp_path, log, BITHEDGE_TRANSFORMS_RECONCILE_S="0")
        try:
            await _wait_included(base, proc, _tip(chain.db))
            killed_mid_run = False
            async with await psycopg.AsyncConnection.connect(chain.db, autocommit=True) as watch:
                await chain.advance(4)  # a new batch: the daemon starts building it as the blocks arrive
                deadline = asyncio.get_running_loop().time() + 60
                while not (await (await watch.execute(_DBT_ACTIVE)).fetchone())[0]:
                    assert asyncio.get_running_loop().time() < deadline, "no dbt statement ever ran"
                    await asyncio.sleep(0.005)
                await asyncio.sleep(rng.uniform(0, 0.3))  # somewhere inside the run
                killed_mid_run = (await (await watch.execute(_DBT_ACTIVE)).fetchone())[0] > 0
                proc.send_signal(signal.SIGKILL)
                await proc.wait()
            assert proc.returncode == -signal.SIGKILL
            await chain.advance(1)  # more raw data while it is down
            proc, base = await start_serve(chain.db, tmp_path, log, BITHEDGE_TRANSFORMS_RECONCILE_S="0")
            await _wait_included(base, proc, _tip(chain.db))
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
                await asyncio.wait_for(proc.wait(), 60)
    after_restart = mart_rows(chain.db)
    await build(transform_dbt(chain.db, tmp_path / "clean"), "deploy", full_refresh=True)
    clean = mart_rows(chain.db)
    assert after_restart == clean, first_difference(after_restart, clean)
    assert sum(map(len, clean.values())) > 100
    print(f"SIGKILL with a dbt statement in flight: {killed_mid_run}")  # -s shows where the kill landed
