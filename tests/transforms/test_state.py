"""The marts and analytics views against the contracts' own state, read through the devnet's read-only calls
(the devnet is idle while comparing: the simulator only acts when the test steps it)."""

from __future__ import annotations

import psycopg

from tests.transforms.chain import (
    build,
    contract_policy,
    contract_pools,
    contract_shares,
    transform_dbt,
)


async def test_pools_providers_and_policies_equal_contract_state(chain, tmp_path):
    await chain.settle()
    await build(transform_dbt(chain.db, tmp_path), "deploy")
    with psycopg.connect(chain.db) as conn:
        pools = {(r[0], r[1]): r[2:] for r in conn.execute(
            "SELECT token, tier, assets, shares, locked, cum_premiums_received, cum_payouts FROM analytics.pools")}
        providers = conn.execute("SELECT token, tier, provider, shares FROM analytics.providers").fetchall()
        policies = conn.execute("SELECT policy_id, status_onchain, payout, collateral, owner FROM analytics.policies "
                                "ORDER BY policy_id").fetchall()
        (settled,) = conn.execute("SELECT count(*) FROM analytics.policies WHERE payout IS NOT NULL").fetchone()
    onchain = await contract_pools(chain.client)
    assert set(pools) == set(onchain) and len(pools) == 6
    for key, (assets, shares, locked, premiums, payouts) in pools.items():
        c = onchain[key]
        assert (assets, shares, locked, premiums, payouts) == (
            c["assets"], c["shares"], c["locked"], c["premiums"], c["payouts"]), key
    assert len(providers) >= 6
    for token, tier, provider, shares in providers:
        assert shares == await contract_shares(chain.client, token, tier, provider), (token, tier, provider)
    assert len(policies) >= 20 and settled >= 5, (len(policies), settled)
    for policy_id, status, payout, collateral, owner in policies:
        c = await contract_policy(chain.client, policy_id)
        assert c is not None, policy_id
        assert (status, owner) == (c["status"], c["owner"]), policy_id
        if status != "active":
            assert payout == int(c["payout"]) and payout <= collateral, policy_id
