"""Forks of depth 200, 50, 6 and 1 made by a real devnet (``POST /devnet/fork``) and delivered to the real
indexer observer server, over a chain of ~250 blocks carrying simulator traffic (oracle prices, deposits,
policies bought and settled: print events, STX/FT transfers).

After every fork the indexer's canonical rows (blocks, transactions, events, burn blocks) must be
identical to a clean index of the winning chain alone, written into a fresh database, and its canonical
hashes must be the devnet's (Hiro API) hashes at every height.
"""

from __future__ import annotations

import asyncpg

from bithedge.simulator.agents import Simulator
from keeper.oracle.publish import PublishRules
from stacks.rpc import StacksClient
from tests.conftest import create_database, drop_database
from tests.indexer.devnet_support import (
    RecordingObserver,
    canonical_hashes,
    clean_index,
    needs_node,
    print_topics,
    simulate,
    start_devnet_async,
    start_indexer,
    wait_indexed,
)
from tests.indexer.helpers import checksums
from tests.support.keeper import start_keeper

pytestmark = needs_node

DEPTHS = (200, 50, 6, 1)


async def _assert_equals_clean_index(pg_server, migrated_template, db_url, recorder, client) -> None:
    st = await client.status()
    tip = st["chain_tip"]["index_block_hash"]
    clean = create_database(pg_server, migrated_template)
    try:
        n = await clean_index(recorder, tip, clean)
        assert n >= 200
        live, ref = await checksums(db_url, canonical_only=True), await checksums(clean, canonical_only=True)
        assert live == ref, f"live {live} != clean {ref}"
    finally:
        drop_database(pg_server, clean)
    ours = await canonical_hashes(db_url)
    for h in sorted(ours)[-260:]:
        b = await client.block(h)
        assert b is not None and b["index_block_hash"] == ours[h], f"height {h}"


async def test_forks_through_the_devnet_match_a_clean_index(pg_server, migrated_template, db_url, tmp_path):
    recorder = await RecordingObserver().start()
    srv, indexer_url = await start_indexer(db_url)
    devnet = await start_devnet_async(tmp_path / "devnet", observers=[indexer_url, recorder.url])
    keeper = None
    try:
        async with StacksClient(devnet.rpc_url, retries=2) as client:
            sim = Simulator(client, seed=7, mine=True, extra_buyers=2, activity=2.0, log=lambda _: None)
            await sim.setup()
            # a price every burn block (heartbeat 1), so the chain carries plenty of oracle prints
            keeper = await start_keeper(devnet.rpc_url, db_url, sim.feed, rules=PublishRules(heartbeat_blocks=1))
            # ~250 blocks above genesis: simulator steps mine one or two blocks each (tenure starts)
            genesis = (await client.devnet_status())["genesis_height"]
            while (await client.devnet_status())["tip"] - genesis < 250:
                await simulate(sim, 10, keeper)
            topics = await print_topics(db_url)
            assert topics.get("policy-created", 0) >= 1 and topics.get("price-submitted", 0) >= 50, topics

            for depth in DEPTHS:
                before = await canonical_hashes(db_url)
                r = await client.fork(depth)
                await wait_indexed(srv, r["tip_index_block_hash"])
                after = await canonical_hashes(db_url)
                # the orphaned blocks are kept, flagged non-canonical; the branch replaced them
                orphaned = {"0x" + h.removeprefix("0x") for h in r["orphaned_blocks"]}
                assert len(orphaned) == depth
                assert orphaned <= set(before.values()) and not orphaned & set(after.values())
                conn = await asyncpg.connect(db_url)
                try:
                    kept = await conn.fetchval(
                        "SELECT count(*) FROM raw.blocks WHERE NOT canonical AND index_block_hash = ANY($1::bytea[])",
                        [bytes.fromhex(h[2:]) for h in orphaned])
                    depth_logged = await conn.fetchval("SELECT max(depth) FROM raw.reorgs")
                finally:
                    await conn.close()
                assert kept == depth and depth_logged >= depth
                await _assert_equals_clean_index(pg_server, migrated_template, db_url, recorder, client)
                # new traffic on the winning branch (orphaned txs re-mined, the simulator trades on)
                await simulate(sim, 3, keeper)
                await wait_indexed(srv, (await client.status())["chain_tip"]["index_block_hash"])
                await _assert_equals_clean_index(pg_server, migrated_template, db_url, recorder, client)

            conn = await asyncpg.connect(db_url)
            try:
                depths = [r[0] for r in await conn.fetch("SELECT depth FROM raw.reorgs ORDER BY id")]
                dead = await conn.fetchval("SELECT count(*) FROM raw.dead_letters")
                orphan_events = await conn.fetchval("SELECT count(*) FROM raw.events WHERE NOT canonical")
            finally:
                await conn.close()
            assert depths == list(DEPTHS), depths
            assert dead == 0
            assert orphan_events > 0  # the orphaned branches carried events, still stored
    finally:
        if keeper is not None:
            await keeper.close()
        devnet.stop()
        await srv.stop()
        await recorder.stop()
