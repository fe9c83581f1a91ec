"""The simulator against a devnet: quotes match the contract, policies are bought, expire and settle."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import aiohttp
from devnet_helpers import free_port

from bithedge.protocol.deployment import DEVNET
from bithedge.protocol.formulas import policy_terms
from bithedge.protocol.quotes import Quote, quote_digest
from bithedge.simulator.agents import Simulator
from bithedge.simulator.feed import serve
from stacks import clarity
from stacks.principal import parse_principal
from stacks.rpc import StacksClient

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


async def test_simulate_command_through_a_crash(sim_devnet, sim_observer):
    """Policies are bought, expire and settle; an STX crash leaves capped payouts short and the
    insurance fund covers; the guardian pauses new policies and the admin unpauses; LPs withdraw by
    request; the chain's payouts equal the Python formula's."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bithedge", "simulate", "--node", sim_devnet.rpc_url, "--blocks", "80", "--seed", "11",
        "--crash-at", "12", "--oracle", "--settle", "--mine", "--no-feed",
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ},
    )
    out, err = await asyncio.wait_for(proc.communicate(), 300)
    assert proc.returncode == 0, err.decode()[-2000:]
    summary = json.loads(out.decode().strip().splitlines()[-1])
    assert summary["event"] == "summary"
    assert summary["policies_created"] >= 20
    assert summary["policies_settled"] >= 10 and summary["settled_itm"] >= 1
    assert summary.get("success:submit-price", 0) >= 150
    assert summary.get("success:deposit", 0) >= 6 and summary.get("success:fund-deposit", 0) >= 2
    assert summary.get("shortfalls", 0) >= 1
    assert 0 < summary.get("fund_cover:STX", 0) <= summary["shortfall:STX"]
    assert summary.get("success:pause", 0) >= 1 and summary.get("success:unpause", 0) >= 1
    assert summary.get("success:request-withdrawal", 0) >= 1
    assert not any(k.startswith("mismatch:") for k in summary), summary
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
