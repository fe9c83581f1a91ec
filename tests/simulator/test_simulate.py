"""The simulator against a devnet: quotes match the contract, policies are bought, expire and settle."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import aiohttp

from bithedge.simulator.agents import Simulator, policy_terms, quote_digest
from bithedge.simulator.feed import serve
from stacks import clarity
from stacks.principal import parse_principal
from stacks.rpc import StacksClient
from tests.processes import free_port

U, A = clarity.UInt, clarity.StringAscii
DEPLOYER = "ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM"
REGISTRY = f"{DEPLOYER}.bithedge-policy-registry"


async def test_quote_digest_and_terms_match_the_contract(sim_devnet):
    buyer = "ST3PF13W7Z0RRM42A8VZRVFQ75SV1K26RXEP8YGKJ"
    args = dict(quote_id=1001, buyer=buyer, token="STX", buyer_tier="standard", pool_tier="balanced",
                strike=5_400_000_000_000, amount=10_000_000, expiry=1000, premium=8_100_000, valid_until=990)
    async with StacksClient(sim_devnet.rpc_url) as c:
        onchain = await c.call_read(REGISTRY, "quote-hash", [
            U(1001), parse_principal(buyer), A("STX"), A("standard"), A("balanced"), U(5_400_000_000_000),
            U(10_000_000), U(1000), U(8_100_000), U(990)])
        assert onchain.value == quote_digest(registry=REGISTRY, **args)
        terms = clarity.to_plain(await c.call_read(REGISTRY, "policy-terms", [
            U(9_000_000_000_000), U(10_000_000), U(9_500_000_000_000), U(1_000_000), U(150_000_000),
            U(11_000), U(10_000), U(10), U(5_000)]))
    ours = policy_terms(9_000_000_000_000, 10_000_000, 9_500_000_000_000, 1_000_000, 150_000_000, 11_000, 10_000, 10, 5_000)
    assert int(terms["max-payout"]) == ours["max_payout"] and int(terms["collateral"]) == ours["collateral"]
    assert int(terms["min-premium"]) == ours["min_premium"] and int(terms["max-premium"]) == ours["max_premium"]


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


async def test_simulate_command_buys_expires_and_settles(sim_devnet, sim_observer):
    env = {**os.environ}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bithedge", "simulate", "--node", sim_devnet.rpc_url, "--blocks", "45", "--seed", "11",
        "--oracle", "--settle", "--mine", "--no-feed", stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 240)
    assert proc.returncode == 0, err.decode()[-2000:]
    summary = json.loads(out.decode().strip().splitlines()[-1])
    assert summary["event"] == "summary"
    assert summary["policies_created"] >= 5
    assert summary["policies_settled"] >= 1
    assert summary.get("success:submit-price", 0) >= 40
    assert summary.get("success:deposit", 0) >= 6
    # the events reached the observer through the devnet
    names = set()
    for b in sim_observer.blocks():
        for e in b["events"]:
            if e["type"] == "contract_event":
                v = clarity.to_plain(clarity.decode(bytes.fromhex(e["contract_event"]["raw_value"][2:])))
                if isinstance(v, dict) and "event" in v:
                    names.add(v["event"])
    assert {"price-submitted", "policy-created", "policy-settled"} <= names
