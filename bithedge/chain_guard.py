"""The devnet's chain and the database must be the same chain: ``bithedge up`` checks it before the indexer runs.

The devnet records its contracts' code hash and a genesis id at genesis (``/devnet/status`` → ``chain``). The first
``bithedge up`` on a database writes them to ``raw.chain_identity``; every later start compares, and on a mismatch
refuses with the one command that starts over (``bithedge up --reset-chain``), which deletes the devnet's chain
and every row of ``raw.*`` in one transaction before any service starts.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import aiohttp
import psycopg
from psycopg import sql

RESET_COMMAND = "bithedge up --reset-chain"


class ChainMismatch(RuntimeError):
    """The database and the devnet hold different chains; the message names both and the reset command."""


def _start_over(what: str) -> str:
    return (f"{what}. Refusing to mix two chains in raw.*. To start over (deletes the devnet's chain and every "
            f"row of raw.*): {RESET_COMMAND}")


def check_and_record(db_url: str, chain: dict) -> bool:
    """Compare the devnet's ``chain`` identity with the database's; record it when the database has none.

    Returns True when it was recorded now. Raises :class:`ChainMismatch` on a different chain, or when
    ``raw.blocks`` holds blocks but no identity was ever recorded (their chain cannot be told)."""
    with psycopg.connect(db_url) as conn, conn.transaction():
        conn.execute("LOCK TABLE raw.chain_identity IN EXCLUSIVE MODE")
        row = conn.execute("SELECT code_hash, genesis_id, recorded_at FROM raw.chain_identity").fetchone()
        if row is None:
            if conn.execute("SELECT EXISTS (SELECT 1 FROM raw.blocks)").fetchone()[0]:
                raise ChainMismatch(_start_over(
                    "raw.blocks holds blocks of a chain whose contracts were never recorded"))
            conn.execute("INSERT INTO raw.chain_identity (code_hash, genesis_id, contracts) VALUES (%s, %s, %s)",
                         (chain["code_hash"], chain["genesis_id"], list(chain["contracts"])))
            return True
        code_hash, genesis_id, recorded_at = row
        if code_hash != chain["code_hash"]:
            raise ChainMismatch(_start_over(
                f"the database holds a chain of other contracts (code hash {code_hash}, recorded {recorded_at:%F %T}); "
                f"the devnet runs contracts with code hash {chain['code_hash']}"))
        if genesis_id != chain["genesis_id"]:
            raise ChainMismatch(_start_over(
                f"the database holds another chain of the same contracts (genesis {genesis_id}); the devnet's "
                f"chain was started anew (genesis {chain['genesis_id']})"))
        return False


async def devnet_chain(node_url: str, stopping: asyncio.Event) -> dict | None:
    """The devnet's chain identity, once it serves requests (``None`` when ``stopping`` is set first)."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
        while not stopping.is_set():
            try:
                async with http.get(f"{node_url}/devnet/status") as resp:
                    if resp.status == 200:
                        return (await resp.json())["chain"]
            except (aiohttp.ClientError, TimeoutError):
                pass
            try:
                await asyncio.wait_for(stopping.wait(), 0.5)
            except TimeoutError:
                pass
    return None


def reset_chain(db_url: str, devnet_dir: Path) -> list[str]:
    """Delete the devnet's chain (its data dir) and every row of ``raw.*``; return the tables emptied.

    Refuses while other sessions are connected (a running indexer would write on). The rows go first, in one
    transaction, then the directory; after a crash in between, running the reset again finishes it."""
    with psycopg.connect(db_url) as conn:
        others = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()").fetchone()[0]
        if others:
            raise ChainMismatch(f"{others} other session(s) are connected to the database; stop the indexer and "
                                "other daemons before resetting the chain")
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'raw' ORDER BY tablename").fetchall()]
        if tables:
            conn.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY").format(
                sql.SQL(", ").join(sql.Identifier("raw", t) for t in tables)))
        conn.commit()
    shutil.rmtree(devnet_dir, ignore_errors=True)
    return tables
