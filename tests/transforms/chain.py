"""A live chain for the transforms tests: a devnet (the real Clarity VM) delivering to the real indexer,
simulator traffic on it, and the contract state read back through read-only calls."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from bithedge.database import role_url
from bithedge.simulator.agents import Simulator
from stacks import clarity
from stacks.principal import parse_principal
from stacks.rpc import StacksClient
from tests.indexer.devnet_support import (
    DEPLOYER,
    RecordingObserver,
    simulate,
    start_devnet_async,
    start_indexer,
    wait_indexed,
)
from tests.support.keeper import start_keeper
from transforms.runner import Dbt

A, U = clarity.StringAscii, clarity.UInt
TOKENS, TIERS = ("STX", "sBTC"), ("conservative", "balanced", "aggressive")


@dataclass
class Chain:
    """One devnet session: ``db`` is indexed live by ``indexer``; ``recorder`` keeps every delivery."""

    db: str
    client: StacksClient
    sim: Simulator
    indexer: object
    recorder: RecordingObserver
    devnet: object
    keeper: object = None  # publishes prices and settles (tests.support.keeper)

    async def settle(self) -> None:
        """Until the indexer holds the devnet's tip."""
        await wait_indexed(self.indexer, (await self.client.status())["chain_tip"]["index_block_hash"])

    async def advance(self, steps: int) -> None:
        await simulate(self.sim, steps, self.keeper)
        await self.settle()

    async def stop(self) -> None:
        await self.keeper.close()
        await self.client.close()
        self.devnet.stop()
        await self.indexer.stop()
        await self.recorder.stop()


async def start_chain(db: str, data_dir: Path, *, steps: int) -> Chain:
    recorder = await RecordingObserver().start()
    srv, url = await start_indexer(db)
    devnet = await start_devnet_async(data_dir, observers=[url, recorder.url])
    client = StacksClient(devnet.rpc_url, retries=2, timeout=120)  # a fork replays the chain: slow under load
    await client.__aenter__()
    # governance every few blocks and plenty of buyers, so every event kind shows up in a short run
    sim = Simulator(client, seed=12, mine=True, extra_buyers=2, activity=2.0, log=lambda _: None)
    await sim.setup()
    chain = Chain(db, client, sim, srv, recorder, devnet, await start_keeper(devnet.rpc_url, db, sim.feed))
    await chain.advance(steps)
    return chain


def transform_dbt(db_url: str, work_dir: Path) -> Dbt:
    """dbt as bithedge_transform (the embedded test server trusts loopback roles)."""
    return Dbt(role_url(db_url, "bithedge_transform"), work_dir=work_dir)


async def build(dbt: Dbt, how: str = "deploy", **kw):
    out = await asyncio.to_thread(getattr(dbt, how), **kw)
    assert out.success, out.errors
    return out


async def contract_pools(client: StacksClient) -> dict[tuple[str, str], dict]:
    out = {}
    for token in TOKENS:
        for tier in TIERS:
            v = clarity.to_plain(await client.call_read(f"{DEPLOYER}.bithedge-vault", "get-pool", [A(token), A(tier)]))
            if v:
                out[(token, tier)] = {k: int(x) for k, x in v.items() if isinstance(x, str) and x.isdigit()}
    return out


async def contract_shares(client: StacksClient, token: str, tier: str, provider: str) -> int:
    v = clarity.to_plain(await client.call_read(f"{DEPLOYER}.bithedge-vault", "get-shares",
                                                [A(token), A(tier), parse_principal(provider)]))
    return int(v or 0)


async def contract_policy(client: StacksClient, policy_id: int) -> dict | None:
    return clarity.to_plain(await client.call_read(f"{DEPLOYER}.bithedge-policy-registry", "get-policy", [U(policy_id)]))


#: the marts and their unique keys (build_state and build_runs are the transforms' bookkeeping, not marts)
def mart_keys(db_url: str) -> dict[str, str]:
    import psycopg

    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT t.relname, i.indexrelid::regclass::text FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
            "JOIN pg_namespace n ON n.oid = t.relnamespace "
            "WHERE n.nspname = 'marts' AND i.indisunique AND NOT i.indisprimary").fetchall()
    return {t: idx for t, idx in rows}


def mart_rows(db_url: str) -> dict[str, list[tuple]]:
    """Every mart's rows, as text, in a stable order."""
    import psycopg

    out = {}
    with psycopg.connect(db_url) as conn:
        for table in sorted(mart_keys(db_url)):
            out[table] = [r[0] for r in conn.execute(
                f"SELECT t::text FROM marts.{table} AS t ORDER BY t::text").fetchall()]
    return out


def first_difference(a: dict[str, list], b: dict[str, list]) -> str:
    for table in sorted(set(a) | set(b)):
        ra, rb = set(a.get(table, [])), set(b.get(table, []))
        if ra != rb:
            return f"{table}: only left {sorted(ra - rb)[:2]}, only right {sorted(rb - ra)[:2]}"
    return ""


async def clean_build(chain: Chain, pg_server: str, migrated_template: str, work_dir: Path,
                      select: tuple[str, ...] = ()) -> tuple[dict, int]:
    """The marts of a clean index of the devnet's winning chain alone (in a database of its own, dropped after;
    ``select`` limits the dbt build), and the number of blocks that index holds."""
    import psycopg

    from tests.conftest import create_database, drop_database
    from tests.indexer.devnet_support import clean_index

    clean = create_database(pg_server, migrated_template)
    try:
        with psycopg.connect(clean, autocommit=True) as conn:  # a clone does not copy the database's grants
            conn.execute("SELECT public.bithedge_database_grants()")
        tip = (await chain.client.status())["chain_tip"]["index_block_hash"]
        blocks = await clean_index(chain.recorder, tip, clean)
        await build(transform_dbt(clean, work_dir), "deploy", select=select)
        return mart_rows(clean), blocks
    finally:
        drop_database(pg_server, clean)


async def fork(chain: Chain, depth: int) -> dict:
    """``POST /devnet/fork``: the devnet replays the winning branch from genesis, which can outlast the default
    15 s client on a loaded machine: a long timeout, and no retry (a retried fork would fork again)."""
    async with StacksClient(chain.devnet.rpc_url, timeout=300, retries=0) as client:
        return await client.fork(depth)
