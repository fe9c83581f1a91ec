"""The scale-data generator (benchmarks/synth_policies.py): a small scenario replays through the real indexer
with no dead letter and no quarantined print, the dbt build and every dbt test pass on it, and the marts hold
the generator's own final state (statuses, payouts, pool totals, fund and treasury balances).

Every print comes from a decoded contract call (``analytics.contract_calls`` holds each call, by function, and
a policy's creating call was sent by its owner).

The dbt deploy seed holds every parameter the contract seeds, those with network-dependent bounds
included. Equality with a devnet run of the same calls: ``test_synth_matches_devnet.py``."""

from __future__ import annotations

import sys
from pathlib import Path

import psycopg

from indexer.ingest import Writer
from indexer.replay import replay_file
from tests.transforms.chain import build, transform_dbt

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import synth_policies  # noqa: E402


async def test_generated_chain_replays_and_builds_to_the_generators_state(db_url, tmp_path):
    tsv = tmp_path / "synth.tsv"
    truth = synth_policies.generate(tsv, policies=300, per_block=20, seed=3)
    # every kind of ending and the rarer paths occur in this small scenario
    assert {"settled-itm", "settled-otm", "voided"} <= set(truth["statuses"]), truth["statuses"]
    assert truth["stats"]["fund-cover"] > 0 and truth["stats"]["withdrawals"] > 0
    assert truth["stats"]["proposals-executed"] == 1

    writer = await Writer.open(db_url)
    try:
        stats = await replay_file(writer, tsv, progress=False)
    finally:
        await writer.close()
    assert stats["dead_letters"] == 0 and stats["blocks"] == truth["blocks"], stats

    dbt = transform_dbt(db_url, tmp_path)
    out = await build(dbt, "deploy")
    assert not out.warnings, out.warnings  # the quarantine test warns on any bad print
    assert not [n for n, s in out.statuses.items() if s not in ("success", "pass", "no-op")], out.statuses

    with psycopg.connect(db_url) as conn:
        (dead,) = conn.execute("SELECT count(*) FROM raw.dead_letters").fetchone()
        (quarantined,) = conn.execute("SELECT count(*) FROM staging.print_quarantine").fetchone()
        statuses = dict(conn.execute("SELECT status, count(*) FROM analytics.policies GROUP BY 1").fetchall())
        (payouts,) = conn.execute("SELECT coalesce(sum(payout), 0) FROM analytics.policies").fetchone()
        pools = {f"{t}/{tier}": {"assets": a, "shares": s, "locked": lk, "unearned": u}
                 for t, tier, a, s, lk, u in conn.execute(
                     "SELECT token, tier, assets, shares, locked, unearned FROM analytics.pools")}
        executed = conn.execute("SELECT count(*) FROM analytics.parameter_history "
                                "WHERE key = 'fee.protocol-bp'").fetchone()[0]
        fund = dict(conn.execute("SELECT token, balance FROM analytics.insurance_fund").fetchall())
        treasury = dict(conn.execute("SELECT token, balance FROM analytics.treasury").fetchall())
        proposals = conn.execute("SELECT proposal_id, state FROM analytics.proposals").fetchall()
        deploy = {k: (lo, hi) for k, lo, hi in conn.execute(
            "SELECT key, min_value, max_value FROM staging.stg_deploy_params")}
        calls = dict(conn.execute("SELECT function_name, count(*) FROM analytics.contract_calls GROUP BY 1").fetchall())
        # every print came from a decoded contract call to a BitHedge contract
        (foreign,) = conn.execute(
            "SELECT count(*) FROM raw.events AS e LEFT JOIN raw.transactions AS t USING (index_block_hash, txid) "
            "WHERE e.topic = 'print' AND (t.tx_type IS DISTINCT FROM 'contract_call' "
            "OR t.contract_id NOT LIKE '%.bithedge-%')").fetchone()
        senders = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE c.sender = p.owner) FROM analytics.policies AS p "
            "JOIN analytics.contract_calls AS c ON c.txid = p.created_txid").fetchone()
    assert dead == 0 and quarantined == 0
    assert statuses == truth["statuses"]
    assert payouts == truth["payouts"]
    assert pools == truth["pools"]
    assert executed >= 1 and proposals == [(1, "executed")]
    assert fund == truth["fund"] and treasury == truth["treasury"]
    assert calls == truth["calls"] and {"create-policy", "settle-expired", "submit-price", "vote"} <= set(calls)
    assert foreign == 0
    # the off-mainnet bounds of `(if is-in-mainnet …)` and GOV-DAY: what this devnet-shaped chain's contract holds
    assert set(deploy) == set(synth_policies.Generator(None, policies=1, per_block=1, seed=1).params)
    assert deploy["gov.voting-delay-blocks"] == (1, 100_000) and deploy["gov.timelock-blocks"] == (1, 4_320)
    assert senders == (truth["policies"], truth["policies"])
