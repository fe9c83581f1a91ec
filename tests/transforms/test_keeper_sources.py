"""The keeper's two sources of due expiries agree on the live chain: ``analytics.expiries`` (the transforms' view,
read as bithedge_keeper) and the contracts' read-only functions, while expiries fall due with the keeper
publishing but not settling; then the keeper settles them from the analytics."""

from __future__ import annotations

import asyncpg

from bithedge.database import role_url
from keeper.expiries import AnalyticsExpiries, ChainExpiries
from tests.indexer.devnet_support import simulate
from tests.transforms.chain import build, transform_dbt


class _NothingDue:
    async def due(self, burn_height: int) -> list:
        return []


async def test_analytics_and_chain_sources_agree_and_the_keeper_settles_from_analytics(chain, tmp_path):
    chain.keeper.settler.source = _NothingDue()  # prices go on, settlement stops: expiries fall due unsettled
    await simulate(chain.sim, 12, chain.keeper)
    await chain.settle()
    await build(transform_dbt(chain.db, tmp_path), "deploy")
    burn = (await chain.client.info())["burn_block_height"]
    pool = await asyncpg.create_pool(role_url(chain.db, "bithedge_keeper"), min_size=1, max_size=2)
    try:
        from_analytics = {e.expiry: e for e in await AnalyticsExpiries(pool).due(burn)}
        from_chain = {e.expiry: e for e in await ChainExpiries(chain.client, chain.sim.deployment).due(burn)}
        assert from_analytics, "no unsettled due expiry to compare"
        assert set(from_analytics) == set(from_chain)
        for expiry, a in from_analytics.items():
            c = from_chain[expiry]
            assert (a.unsettled_ids, a.btc_price_height, a.stx_price_height, a.voidable_ids) == \
                (c.unsettled_ids, c.btc_price_height, c.stx_price_height, c.voidable_ids), expiry
        settleable = sum(len(e.unsettled_ids) for e in from_analytics.values()
                         if e.btc_price_height and e.stx_price_height and not e.voidable_ids)
        assert settleable > 0
        keeper = chain.keeper
        keeper.settler.source = AnalyticsExpiries(keeper.pool)
        before = keeper.settler.stats["policies_settled"]
        await keeper.step()
        await chain.advance(1)
        assert keeper.settler.stats["policies_settled"] - before >= settleable
    finally:
        chain.keeper.settler.source = ChainExpiries(chain.client, chain.sim.deployment)
        await pool.close()
