"""The simulator against a devnet: quotes match the contract, policies are bought, expire and settle."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys

import aiohttp
import psycopg
from prometheus_client import generate_latest

from bithedge.protocol.deployment import DEVNET
from bithedge.protocol.formulas import policy_terms
from bithedge.protocol.quotes import Quote, quote_digest
from bithedge.simulator.agents import Simulator
from bithedge.simulator.feed import serve
from keeper.oracle.publish import PublishRules
from stacks import clarity
from stacks.principal import parse_principal
from stacks.rpc import StacksClient
from tests.indexer.devnet_support import simulate
from tests.processes import free_port
from tests.support.keeper import feed_collect, keeper_for

U, A = clarity.UInt, clarity.StringAscii


async def test_quote_digest_and_terms_match_the_contract(sim_devnet):
    # the devnet deploys from the default deployer; the vector suite checks many more cases in simnet
    q = Quote(1001, "ST3PF13W7Z0RRM42A8VZRVFQ75SV1K26RXEP8YGKJ", "STX", "standard", "balanced", 5_400_000_000_000,
              10_000_000, 1000, 8_100_000, 900, 6_000_000_000_000, 903)
    async with StacksClient(sim_devnet.rpc_url) as c:
        onchain = await c.call_read(DEVNET.registry, "quote-hash", [
            U(q.quote_id), parse_principal(q.buyer), A(q.token), A(q.buyer_tier), A(q.pool_tier), U(q.strike),
            U(q.amount), U(q.expiry), U(q.premium), U(q.issued_at), U(q.spot), U(q.valid_until)])
        assert onchain.value == quote_digest(q, DEVNET.registry)
        args = ("STX", 9_000_000_000_000, 10_000_000, 9_500_000_000_000, 150_000_000, 11_000, 10_000, 10, 5_000, 6_000)
        terms = clarity.to_plain(await c.call_read(DEVNET.registry, "policy-terms", [
            A(args[0]), *(U(v) for v in args[1:])]))["ok"]
    assert {k.replace("-", "_"): int(v) for k, v in terms.items()} == vars(policy_terms(*args))


async def test_price_feed_serves_venues(sim_devnet):
    port = free_port()
    async with StacksClient(sim_devnet.rpc_url) as c:
        sim = Simulator(c, seed=5)
        sim.feed.update(0.0)
        runner = await serve(sim.feed, "127.0.0.1", port)
        try:
            async with aiohttp.ClientSession() as s:
                async with s.get(f"http://127.0.0.1:{port}/prices") as r:
                    body = await r.json()
                assert set(body["venues"]) == {"coinbase", "binance", "kraken", "bitstamp", "okx"}
                assert body["venues"]["kraken"]["BTC-USD"]["price"] > 1000
                async with s.get(f"http://127.0.0.1:{port}/ticker", params={"venue": "okx", "symbol": "STX-USD"}) as r:
                    assert (await r.json())["price"] > 0
                async with s.get(f"http://127.0.0.1:{port}/prices/nowhere") as r:
                    assert r.status == 404
        finally:
            await runner.cleanup()


async def test_simulate_command_runs_and_prints_a_summary(sim_devnet):
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bithedge", "simulate", "--node", sim_devnet.rpc_url, "--blocks", "3", "--seed", "4",
        "--mine", "--no-feed", stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ},
    )
    out, err = await asyncio.wait_for(proc.communicate(), 300)
    assert proc.returncode == 0, err.decode()[-2000:]
    summary = json.loads(out.decode().strip().splitlines()[-1])
    assert summary["event"] == "summary" and summary["tip"] > 0
    # the simulator no longer signs for the oracle submitter or the keeper (the keeper's accounts)
    assert not any(k.endswith((":submit-price", ":settle-expired")) for k in summary), summary


async def test_simulator_with_the_keeper_through_a_crash(sim_devnet, sim_observer, db_url):
    """Policies are bought, expire and are settled by the keeper; an STX crash leaves capped payouts short and
    the insurance fund covers; the guardian pauses new policies and the admin unpauses; LPs withdraw by
    request; the chain's payouts equal the Python formula's."""
    async with StacksClient(sim_devnet.rpc_url, retries=2) as client:
        sim = Simulator(client, seed=11, crash_at=12, mine=True, log=lambda _: None)
        await sim.setup()
        # The crash moves STX ~8 % and BTC ~5 % per step, and venues lag by a step or two: faster than the v2
        # guard's default 10 % per burn block and the sources' default 2 % band, so the honest keeper would hold
        # (alert, wait) until the moves stop. As the keeper's runbook says, the admin widens the guard, and the
        # sources' band is widened for the lagging venues.
        await sim.send(sim.admin, "set-param", DEVNET.parameters, "set-param", [A("oracle.max-deviation-bp"), U(5000)])
        band = 2500
        async with keeper_for(sim, db_url, collect=feed_collect(sim.feed, band), rules=PublishRules(band_bp=band)) \
                as keeper:
            await simulate(sim, 80, keeper)
            await client.mine()
            await keeper.step()
            stats = keeper.settler.stats
            metrics = generate_latest(keeper.metrics.registry).decode()
    summary = sim.summary()
    assert summary["policies_created"] >= 20
    assert stats["policies_settled"] >= 10 and stats["settled_itm"] >= 1, stats
    with psycopg.connect(db_url) as conn:
        published = conn.execute("SELECT count(*) FROM keeper.transactions WHERE kind = 'submit-price' "
                                 "AND tx_status = 'success'").fetchone()[0]
    assert published >= 50
    assert summary.get("success:deposit", 0) >= 6 and summary.get("success:fund-deposit", 0) >= 2
    assert stats.get("shortfalls", 0) >= 1
    assert 0 < stats.get("fund_cover:STX", 0) <= stats["shortfall:STX"]
    assert summary.get("success:pause", 0) >= 1 and summary.get("success:unpause", 0) >= 1
    assert summary.get("success:request-withdrawal", 0) >= 1
    assert not any(k.startswith("mismatch:") for k in stats), stats
    settled_metric = float(re.search(r"^keeper_policies_settled (\S+)$", metrics, re.M).group(1))
    assert settled_metric == stats["policies_settled"]
    for name in ("keeper_source_up", "keeper_oracle_age_blocks", "keeper_pending_transactions", "keeper_nonce_gap",
                 "keeper_signer_balance_ustx", "keeper_due_unsettled_policies", "keeper_settlement_lag_blocks"):
        assert f"\n{name}{{" in metrics or f"\n{name} " in metrics, name
    # the events reached the observer through the devnet
    names = set()
    for b in sim_observer.blocks():
        for e in b["events"]:
            if e["type"] == "contract_event":
                v = clarity.to_plain(clarity.decode(bytes.fromhex(e["contract_event"]["raw_value"][2:])))
                if isinstance(v, dict) and "event" in v:
                    names.add(v["event"])
    assert {"price-submitted", "policy-created", "policy-settled", "fund-cover", "fund-deposit", "pause-set",
            "withdrawal-requested", "fee-collected"} <= names
