"""marts.pool_states and analytics.pools through a wipe and a reorg.

A scripted chain from the scale-data generator's contract model (benchmarks/synth_policies.py): the admin lifts
the sBTC/aggressive pool's caps to 100 % and `premium.min-bp` to its minimum; twice, one policy locks almost
all of the pool and a BTC crash pays out its whole collateral; the second loss leaves more than 1e6 shares per
sat, so the vault wipes the pool (`pool-wiped`: shares and pending shares 0, a new generation) and a provider
then deposits into the new generation at par. Replayed through the real indexer, built block by block with the
daemon's incremental run, the pools equal the generator's own state (shares 0 after the wipe, locked as the
settlement left it, generation 1) and the marts equal a `--full-refresh` build row for row. Then a fork from
before the wipe (a branch where BTC recovers, so nothing is wiped) wins: the pools follow the new branch and
the marts again equal a `--full-refresh` build."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import psycopg

from tests.transforms.chain import build, first_difference, mart_rows, transform_dbt
from tests.transforms.synth_chain import BranchingGenerator, replay, write

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import synth_policies as synth  # noqa: E402
from synth_policies import A, F, U, call  # noqa: E402

POOL = ("sBTC", "aggressive")
CRASH = 11  # blocks of BTC -9 % after each policy: below the stress price (50 % of spot) by the expiry


class WipeChain(BranchingGenerator):
    """The scripted scenario of the module docstring; ``fork_at``: blocks after it are another branch on which
    BTC recovers before the second policy's expiry (no wipe), and the chain runs longer (it wins)."""

    def __init__(self, out, *, fork_at: int | None = None) -> None:
        super().__init__(out, fork_at=fork_at, policies=2, per_block=20, seed=7)
        self.wiped_at: list[int] = []
        self.second_policy_block = 0

    def wipe_if_worthless(self, pool) -> list:
        out = super().wipe_if_worthless(pool)
        self.wiped_at += [self.h] if out else []
        return out

    def price_path(self, txs, crashing: bool) -> None:
        if self.on_branch:
            crashing = False
        for asset in ("BTC", "STX"):
            price = self.prices[asset] * (91 if asset == "BTC" and crashing else 101) // 100
            assert self.submit_price(txs, asset, price) == price  # within the oracle's guard

    def lift_caps(self, txs) -> None:
        tier = self.tiers[("provider", POOL[1])]
        for fld in ("max-utilization-bp", "max-exposure-policy-bp", "max-exposure-expiry-bp"):
            tier[fld] = 10_000
            txs.append(call(self.admin, "parameters", "set-tier-field", A("provider"), A(POOL[1]), A(fld),
                            U(10_000), events=[self.ev(
                                "parameters", "tier-updated", tier_kind="provider", tier=POOL[1], field=fld,
                                collateral_ratio_bp=tier["collateral-ratio-bp"],
                                premium_adjustment_bp=tier["premium-adjustment-bp"],
                                max_utilization_bp=tier["max-utilization-bp"],
                                max_exposure_policy_bp=tier["max-exposure-policy-bp"],
                                max_exposure_expiry_bp=tier["max-exposure-expiry-bp"], active=tier["active"],
                                sender=self.admin)]))
        txs.append(call(self.admin, "parameters", "set-param", A("premium.min-bp"), U(1), events=[
            self.ev("parameters", "param-updated", key="premium.min-bp", old_value=self.params["premium.min-bp"],
                    value=1, sender=self.admin)]))
        self.params["premium.min-bp"] = 1

    def all_in_policy(self, txs) -> None:
        """One at-the-money policy whose collateral is as close to the pool's backing as the caps allow."""
        pool, p = self.pools[POOL], self.params
        bt = self.tiers[("buyer", "flexible")]
        spot = self.prices["BTC"]
        backing = F.backing(pool.assets, pool.shares, pool.pending)

        def terms(amount):
            return F.policy_terms("sBTC", spot, amount, spot, spot, bt["collateral-ratio-bp"],
                                  bt["premium-adjustment-bp"], p["premium.min-bp"], p["premium.max-bp"],
                                  p["stress.sbtc-price-bp"])

        lo, hi = 1, 10 * backing
        while lo < hi:  # the largest amount whose collateral fits
            mid = (lo + hi + 1) // 2
            if terms(mid).collateral <= backing:
                lo = mid
            else:
                hi = mid - 1
        t = terms(lo)
        assert F.pool_cap_error(t.collateral, backing, pool.locked, 0, 10_000, 10_000, 10_000) is None
        assert F.premium_in_bounds(t.min_premium, t)
        self.open_policy(txs, pool, self.owners[0], "flexible", spot, lo, self.burn + CRASH - 1, t.min_premium, t,
                         spot, spot)

    def run(self) -> dict:
        script = {2: self.lift_caps, 3: self.all_in_policy}
        self.h, rounds, last = 0, 0, 40 if self.fork_at is None else 48
        while self.h < last:
            self.h += 1
            self.burn = synth.BURN0 + self.h - 1
            txs: list = []
            self.price_path(txs, crashing=bool(self.due))
            if self.h == 1:
                self.setup(txs)
            else:
                open_before = bool(self.due)  # a block that settles opens nothing (the wipe's block stays clean)
                self.settle_due(txs)
                if self.h in script:
                    script[self.h](txs)
                elif not open_before and rounds == 0 and self.h > 3:
                    rounds += 1  # a new provider refills the pool, then the second all-in policy
                    self.deposit(txs, self.pools[POOL], self.providers[21], 3 * 10**10)
                    self.all_in_policy(txs)
                    self.second_policy_block = self.h
                elif not open_before and rounds == 1:
                    rounds += 1  # into the new generation (or, without a wipe, the same one)
                    self.deposit(txs, self.pools[POOL], self.providers[30], 10**9)
            self.emit_block(self.h, txs)
        return self.summary()

    def pool_state(self) -> dict:
        pool = self.pools[POOL]
        return {"assets": pool.assets, "shares": pool.shares, "locked": pool.locked, "unearned": pool.unearned,
                "pending_shares": pool.pending, "generation": pool.generation}


def scenario(fork_at: int | None = None) -> WipeChain:
    g = WipeChain(io.StringIO(), fork_at=fork_at)
    g.run()
    return g


def pools_now(db_url: str) -> dict:
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT assets, shares, locked, unearned, pending_shares, generation, providers "
                           "FROM analytics.pools WHERE token = %s AND tier = %s", POOL).fetchone()
    return dict(zip(("assets", "shares", "locked", "unearned", "pending_shares", "generation", "providers"), row, strict=True))


async def test_a_wipe_and_a_reorg_keep_the_pools_and_marts_equal_to_a_full_refresh(db_url, tmp_path):
    main = scenario()
    assert main.stats["wipes"] == 1 and main.wiped_at, main.stats
    # the other branch forks after the second policy: BTC recovers, it settles out of the money, no wipe
    fork_at = main.second_policy_block
    assert fork_at < main.wiped_at[0]
    branch = scenario(fork_at)
    assert branch.stats["wipes"] == 0 and branch.pools[POOL].generation == 0, branch.stats

    heights = sorted(main.blocks)
    await replay(db_url, write(tmp_path / "base.tsv", main.blocks, [h for h in heights if h < fork_at]))
    dbt = transform_dbt(db_url, tmp_path / "dbt")
    await build(dbt, "deploy")
    for h in (h for h in heights if h >= fork_at):  # block by block, as the daemon runs
        await replay(db_url, write(tmp_path / f"b{h}.tsv", main.blocks, [h], first_id=10_000 + h * 100))
        await build(dbt, "refresh_marts")

    after_wipe = pools_now(db_url)
    truth = main.pool_state()
    assert truth["generation"] == 1 and truth["shares"] == 10**9  # the new generation's deposit, at par
    assert {k: after_wipe[k] for k in truth} == truth, (after_wipe, truth)
    assert after_wipe["providers"] == 1  # only the new generation's depositor holds shares
    with psycopg.connect(db_url) as conn:  # the wipe's own block: no shares, nothing locked, generation 1
        at_wipe = conn.execute("SELECT shares, pending_shares, locked, generation, assets FROM marts.pool_states "
                               "WHERE token = %s AND tier = %s AND stacks_block_height = %s",
                               (*POOL, main.wiped_at[0])).fetchone()
    assert at_wipe == (0, 0, 0, 1, truth["assets"] - 10**9), at_wipe  # the dust the wipe kept
    incremental = mart_rows(db_url)
    await build(dbt, "deploy", full_refresh=True)
    assert not first_difference(incremental, mart_rows(db_url)), first_difference(incremental, mart_rows(db_url))

    # the fork from before the wipe wins: nothing was wiped on it
    await replay(db_url, write(tmp_path / "fork.tsv", branch.blocks, [h for h in sorted(branch.blocks) if h > fork_at],
                               first_id=100_000))
    await build(dbt, "refresh_marts")
    forked = pools_now(db_url)
    truth = branch.pool_state()
    assert {k: forked[k] for k in truth} == truth, (forked, truth)
    incremental = mart_rows(db_url)
    await build(dbt, "deploy", full_refresh=True)
    assert not first_difference(incremental, mart_rows(db_url)), first_difference(incremental, mart_rows(db_url))
