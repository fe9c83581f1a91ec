"""Keeper benchmarks on a real devnet (mining on demand) and an embedded PostgreSQL, with an in-process keeper
stepped once per block (its transactions land in the next block):

- settlement latency: Stacks blocks from the first block in which a settlement price is final to "every policy of
  the expiry settled", for N policies of one expiry (``--policies 200``), and for a backlog of M policies over E
  expiries all due at once after an outage (``--backlog 10000 --expiries 50``; the keeper is stopped while they
  fall due);
- oracle: blocks from the sources crossing the deviation threshold to the on-chain update, and the keeper's
  decision time per block beside the time of the node calls it makes;
- ``--chaos``: the chaos scenario of ``tests/keeper/test_chaos.py`` at full size (``--chaos-buys``).

    .venv/bin/python benchmarks/bench_keeper.py --policies 200 --backlog 2000 --expiries 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bithedge.embedded_pg import EmbeddedPostgres  # noqa: E402
from bithedge.migrate import migrate  # noqa: E402
from bithedge.protocol.deployment import DEVNET  # noqa: E402
from bithedge.protocol.formulas import policy_terms  # noqa: E402
from bithedge.protocol.quotes import Quote, sign_quote  # noqa: E402
from bithedge.protocol.units import PROVIDER_TIERS  # noqa: E402
from bithedge.simulator.agents import Actor, Simulator  # noqa: E402
from keeper.txs import TxConfig  # noqa: E402
from stacks import clarity  # noqa: E402
from stacks.address import AddressVersion  # noqa: E402
from stacks.keys import parse_private_key  # noqa: E402
from stacks.principal import parse_principal  # noqa: E402
from stacks.rpc import StacksClient  # noqa: E402
from tests.support.devnet import start_devnet_async  # noqa: E402
from tests.support.keeper import start_keeper  # noqa: E402

A, U = clarity.StringAscii, clarity.UInt


async def buyers(sim: Simulator, keeper, n: int) -> list[Actor]:
    """``n`` funded buyers (the contract keeps at most ``policy.max-active-per-owner`` active per owner)."""
    out = []
    for i in range(n):
        k = parse_private_key(f"{i + 1:062x}aa01")
        a = Actor(f"bench-{i}", k, k.address(AddressVersion.TESTNET_SINGLE_SIG))
        await sim.client.faucet(a.address, 500_000 * 1_000_000)
        out.append(a)
        if len(out) % 20 == 0:  # the faucet is one sender: at most 25 pending
            await block(sim.client, sim, keeper, move=False)
    await block(sim.client, sim, keeper, move=False)
    for a in out:
        a.nonce = (await sim.client.nonces(a.address))["possible_next_nonce"]
    return out


async def create(sim: Simulator, buyer: Actor, expiry: int, spot: int, stx: int, pool_tier: str) -> None:
    """One smallest STX policy at ``expiry``, priced at the minimum premium plus a margin, its quote valid for the
    longest life the contract allows (a full mempool may hold it a block or two)."""
    cfg, tier = sim.cfg, sim.tiers["standard"]
    strike, amount = spot * 95 // 100, cfg["min-amount-sats"]
    terms = policy_terms("STX", strike, amount, spot, stx, tier["collateral-ratio-bp"], tier["premium-adjustment-bp"],
                         cfg["premium-min-bp"], cfg["premium-max-bp"], cfg["stress-stx-bp"])
    premium = min(max(terms.min_premium * 11 // 10, 1), terms.max_premium)
    sim.quote_seq += 1
    q = Quote(sim.quote_seq, buyer.address, "STX", "standard", pool_tier, strike, amount, expiry, premium,
              issued_at=sim.burn_height, spot=spot, valid_until=sim.burn_height + cfg["quote-max-life-blocks"])
    sig = sign_quote(q, sim.quote_key, DEVNET.registry)
    await sim.send(buyer, "create-policy", DEVNET.registry, "create-policy", [
        U(q.quote_id), A("STX"), A("standard"), A(pool_tier), U(strike), U(amount), U(expiry), U(premium),
        U(q.issued_at), U(q.spot), U(q.valid_until), clarity.Buffer(sig)])


async def last_policy_id(client: StacksClient) -> int:
    return int(clarity.to_plain(await client.call_read(DEVNET.registry, "get-last-policy-id")))


async def final_price_height(client: StacksClient, asset: str, expiry: int) -> int | None:
    info = await client.info()
    for h in range(expiry, info["burn_block_height"]):
        if clarity.to_plain(await client.call_read(DEVNET.oracle, "get-price-at", [A(asset), U(h)])):
            return h
    return None


async def block(client, sim, keeper, *, move: bool = True) -> None:
    """One Stacks block and a keeper step; ``move``: the market takes a step first (kept still while policies are
    bought, so no quote fails the contract's slippage check)."""
    if move:
        sim.market.step()
    sim.feed.update(time.time())
    await client.mine()
    await keeper.step()


async def settle_latency(client, sim, keeper, expiries: list[int], policies: int) -> dict:
    """Blocks from the first block where every expiry has a final settlement price to all ``policies`` settled,
    beside the bound ceil(batches / batches per block) + 2. A block here is one ``mine`` (one burn block: a
    transaction block, preceded by the empty tenure-start block, so the Stacks height grows by 2)."""
    while not all([await final_price_height(client, a, e) is not None for e in expiries for a in ("BTC", "STX")]):
        await block(client, sim, keeper)
    max_batch = int(clarity.to_plain(await client.call_read(DEVNET.registry, "get-max-batch")))
    counts = [int(clarity.to_plain(await client.call_read(DEVNET.registry, "get-expiry-policy-count", [U(e)])))
              for e in expiries]
    batches = sum(-(-n // max_batch) for n in counts)
    in_flight = keeper.settler_txm.cfg.max_in_flight
    start = (await client.info())["stacks_tip_height"]
    goal = keeper.settler.stats["policies_settled"] + policies
    t0, blocks, progress = time.perf_counter(), 0, []
    while keeper.settler.stats["policies_settled"] < goal:
        await block(client, sim, keeper)
        blocks += 1
        progress.append(policies - goal + keeper.settler.stats["policies_settled"])
    return {"blocks": blocks, "stacks_heights": (await client.info())["stacks_tip_height"] - start,
            "seconds": round(time.perf_counter() - t0, 1), "batches": batches, "max_batch": max_batch,
            "in_flight_limit": in_flight, "settled_after_each_block": progress}


#: transactions sent per Stacks block while filling: below the devnet's --max-block-txs (500), so the keeper's
#: price transactions (queued behind the buyers' in the mempool) still land in the next block
PER_BLOCK = 400


async def fill(client, sim: Simulator, keeper, who: list[Actor], expiries: list[int], total: int) -> dict:
    """``total`` policies spread over ``expiries`` and the STX pools, at most ``max-active-per-owner`` per buyer,
    25 pending per buyer (the node's chaining limit), ``PER_BLOCK`` per block; waits until every transaction is
    mined. Returns the policies created and every refusal by reason (the node's rejections and the contract's
    error codes)."""
    first, limit = await last_policy_id(client), sim.cfg["max-active-per-owner"]
    active = {b.address: int(clarity.to_plain(await client.call_read(
        DEVNET.registry, "get-owner-active", [parse_principal(b.address)]))) for b in who}
    quota = {b.address: limit - active[b.address] for b in who}
    if sum(quota.values()) < total:
        raise SystemExit(f"{len(who)} buyers hold at most {sum(quota.values())} more active policies, not {total}")
    before = Counter({k: v for k, v in sim.stats.items() if k.startswith(("err:", "rejected:"))})
    sent = i = 0
    while sent < total or sim.pending:
        await sim.refresh_chain()
        spot, stx = await sim.latest_price("BTC"), await sim.latest_price("STX")
        waiting = Counter(p.actor for p in sim.pending)
        room = PER_BLOCK
        for b in who:
            n = min(25 - waiting[b.label], quota[b.address], total - sent, room)
            for _ in range(max(n, 0)):
                await create(sim, b, expiries[i % len(expiries)], spot, stx, PROVIDER_TIERS[i % len(PROVIDER_TIERS)])
                i += 1
                sent += 1
                quota[b.address] -= 1
                room -= 1
        await block(client, sim, keeper, move=False)
        await sim.check_pending()
    after = Counter({k: v for k, v in sim.stats.items() if k.startswith(("err:", "rejected:"))})
    return {"created": await last_policy_id(client) - first, "sent": sent, "refused": dict(after - before)}


async def chaos(db: str, work: Path, args) -> dict:
    """The chaos scenario of tests/keeper/test_chaos.py at full size, with its checks."""
    from tests.keeper.test_chaos import assert_no_key_material, check, keeper_rows, run_chaos

    t0 = time.perf_counter()
    res = await run_chaos(db, work / "chaos", buys_per_buyer=args.chaos_buys, extra_buyers=args.chaos_buyers - 2,
                          buy_rounds=args.chaos_rounds, kills=10, forks=6)
    try:
        stopped = res["keeper"].stop()
        await check(db, res)
        assert_no_key_material(db, work / "chaos" / "keeper.log")
        nonces = keeper_rows(db, "SELECT s.label, s.next_nonce, count(t.*), count(*) FILTER (WHERE t.status = "
                             "'confirmed') FROM keeper.signers s LEFT JOIN keeper.transactions t ON t.address = "
                             "s.address GROUP BY 1, 2")
        audit = dict(keeper_rows(db, "SELECT kind, count(*) FROM keeper.audit GROUP BY 1"))
        return {"chaos": {"policies": res["last_id"], "create_policy_sent": res["sent"], "rejected": res["rejected"],
                          "expiries": res["expiries"], "events": dict(res["events"]), "keeper_exit": stopped,
                          "results_missed": res["results_missed"], "prices_published": res["prices_published"],
                          "outlier_rounds": res["outlier_rounds"],
                          "signers": [{"role": r, "next_nonce": n, "transactions": t, "confirmed": c}
                                      for r, n, t, c in nonces],
                          "audit_rows": audit, "seconds": round(time.perf_counter() - t0, 1)}}
    finally:
        res["keeper"].kill9()
        res["devnet"].stop()
        await res["client"].close()


async def main(args) -> dict:
    work = Path(tempfile.mkdtemp(prefix="bench-keeper-"))
    work.chmod(0o755)  # the embedded server's unprivileged user must traverse it
    pg = EmbeddedPostgres(work / "pg", durable=False)
    db = pg.start()
    migrate(db)
    if args.chaos:
        try:
            return await chaos(db, work, args)
        finally:
            pg.stop()
    devnet = await start_devnet_async(work / "devnet", max_chaining=25)
    out: dict = {}
    try:
        async with StacksClient(devnet.rpc_url, retries=4, timeout=120) as client:
            sim = Simulator(client, seed=1, mine=True, extra_buyers=0, activity=0.0, log=lambda _: None)
            sim.feed.update(time.time())
            await sim.setup()
            keeper = await start_keeper(devnet.rpc_url, db, sim.feed, tx=TxConfig(min_balance=0))
            try:
                for _ in range(3):
                    await block(client, sim, keeper)
                limit = sim.cfg["max-active-per-owner"]
                who = await buyers(sim, keeper, max(4, -(-max(args.policies, args.backlog) // limit)))
                # one expiry, N policies
                await sim.refresh_chain()
                expiry = sim.burn_height + sim.cfg["min-duration-blocks"] + 2
                filled = await fill(client, sim, keeper, who, [expiry], args.policies)
                out["one_expiry"] = {**filled, **await settle_latency(client, sim, keeper, [expiry],
                                                                      filled["created"])}
                # backlog: the keeper is down while E expiries fall due, then catches up
                await sim.refresh_chain()
                # every buy must still be min-duration-blocks ahead when it is mined: one burn block per
                # PER_BLOCK buys while filling, and a few for the buyers' chains to drain
                base = sim.burn_height + sim.cfg["min-duration-blocks"] + 4 + -(-args.backlog // PER_BLOCK)
                exp = [base + i for i in range(args.expiries)]
                filled = await fill(client, sim, keeper, who, exp, args.backlog)
                while (await client.info())["burn_block_height"] <= exp[-1] + 1:
                    await client.mine()  # the outage: blocks pass, nobody settles or publishes
                out["backlog"] = {**filled, "expiries": len(exp),
                                  **await settle_latency(client, sim, keeper, exp, filled["created"])}
                # oracle: a 1 % move at the sources, blocks until the chain shows it
                latency = []
                for _ in range(args.moves):
                    sim.market.btc *= 1.01
                    sim.feed.update(time.time())
                    target = sim.feed.median("BTC") * 1e8
                    blocks = 0
                    await keeper.step()
                    while True:
                        await client.mine()
                        blocks += 1
                        latest = clarity.to_plain(await client.call_read(DEVNET.oracle, "get-latest", [A("BTC")]))
                        if abs(int(latest["price"]) - target) * 10_000 <= target * 50:
                            break
                        await keeper.step()
                    latency.append(blocks)
                decision, node = [], []
                for _ in range(args.moves):
                    await client.mine()
                    await keeper.step()
                    decision.append(keeper.publisher.decision_seconds)
                    node.append(keeper.publisher.node_seconds)
                out["refused"] = {k: v for k, v in sim.stats.items() if k.startswith(("err:", "rejected:"))}
                out["oracle"] = {"blocks_to_update": latency, "decision_ms_median": round(statistics.median(decision) * 1e3, 2),
                                 "node_calls_ms_median": round(statistics.median(node) * 1e3, 2)}
            finally:
                await keeper.close()
    finally:
        devnet.stop()
        pg.stop()
    return out


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--policies", type=int, default=200, help="policies of the one-expiry run")
    p.add_argument("--backlog", type=int, default=10_000, help="policies of the backlog run")
    p.add_argument("--expiries", type=int, default=50, help="expiries of the backlog run")
    p.add_argument("--moves", type=int, default=5, help="oracle moves to time")
    p.add_argument("--chaos", action="store_true", help="run the full-size chaos scenario instead")
    p.add_argument("--chaos-buys", type=int, default=6, help="policies per buyer per buying block in --chaos")
    p.add_argument("--chaos-buyers", type=int, default=48, help="buyers in --chaos (max-active-per-owner each)")
    p.add_argument("--chaos-rounds", type=int, default=4, help="buying blocks in --chaos")
    print(json.dumps(asyncio.run(main(p.parse_args())), indent=2))
