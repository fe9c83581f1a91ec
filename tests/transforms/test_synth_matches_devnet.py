"""The scale-data generator against the devnet: the same actions, once as signed transactions on a fresh devnet
(the real Clarity VM, indexed live by the real indexer) and once through the generator's contract model, build
marts equal in every business column, and the same raw events (prints and asset transfers, in the same order).

The generator decides each round's calls (its own primitives: prices, deposits, a withdrawal, a withdrawal
request and its execution, policies bought from signed quotes, settlements, a governance proposal, votes and
its execution, a pause); the test signs and sends exactly those calls (contract, function, arguments, sender,
fee) to the devnet, so the two runs are the same actions by construction, and what has to agree is what each
side derives from them: events, results and marts.

The devnet's own chain shapes the rounds: Stacks blocks 0–2 are its synthesised deployment blocks, block 3
(burn height 2) holds the 13 genesis steps of ``contracts/devnet-setup.json`` (roles, six pools, governance
rules), and every ``POST /devnet/mine`` after that makes a burn block, an empty tenure-start Stacks block and
the block with the pending transactions (``--burn-ratio`` 2). The generator is given the devnet's accounts
(admin = deployer, keeper = wallet_1, oracle = wallet_2, quote signer = wallet_3, whose key signs the quotes)
and the heights each round's block will have; it writes a block per devnet block (the burn block only when
the burn height changes).

Why a devnet of its own and not the session's ``chain``: that one carries simulator traffic the generator does
not decide, so no generated chain could equal it. Cost: one devnet start, 23 mines, two dbt builds."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import psycopg

from bithedge.protocol.quotes import sign_quote
from indexer.ingest import Writer
from indexer.replay import replay_file
from stacks.keys import parse_private_key
from stacks.rpc import StacksClient
from tests.conftest import create_database, drop_database
from tests.indexer.devnet_support import Signer, start_devnet_async, start_indexer, wait_indexed
from tests.transforms.chain import mart_keys, transform_dbt

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import synth_policies as synth  # noqa: E402
from synth_policies import A, F  # noqa: E402

SETUP = json.loads((synth.REPO / "contracts" / "devnet-setup.json").read_text())

#: columns left out of the comparison, each chain-specific: block and burn hashes, txids and the keys built from
#: them (``event_key`` = index block hash : event index), block times and what is derived from them
EXCLUDED = frozenset({
    "event_key", "txid", "created_txid", "settled_txid", "index_block_hash", "block_hash", "burn_block_hash",
    "parent_index_block_hash", "parent_block_hash", "block_time", "burn_block_time", "block_at", "created_at",
    "settled_at",
})


def business_rows(db_url: str) -> dict[str, list[str]]:
    """Every mart's rows over its columns not in EXCLUDED, as text, sorted (a multiset per mart)."""
    out = {}
    with psycopg.connect(db_url) as conn:
        for table in sorted(mart_keys(db_url)):
            cols = [c for (c,) in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'marts' "
                "AND table_name = %s ORDER BY ordinal_position", (table,)) if c not in EXCLUDED]
            select = ", ".join(f'"{c}"' for c in cols)
            out[table] = sorted(r[0] for r in conn.execute(f"SELECT row({select})::text FROM marts.{table}"))
    return out


def raw_events(db_url: str) -> list[tuple]:
    """The canonical chain's events in order, every column but the block hash, txid and bookkeeping."""
    with psycopg.connect(db_url) as conn:
        return conn.execute(
            "SELECT block_height, event_index, tx_index, event_type, contract_identifier, topic, asset_identifier, "
            "sender, recipient, amount, memo, value::text, raw_value, committed, decode_error FROM raw.events "
            "WHERE canonical ORDER BY block_height, event_index").fetchall()


#: µSTX per genesis step (contracts/devnet/lib/setup.cjs)
GENESIS_FEE = 2_000


class Mirror(synth.Generator):
    """The generator scripted to the devnet: its accounts, its genesis, its quote signer's key."""

    def __init__(self, out, accounts: dict[str, str], quote_key) -> None:
        super().__init__(out, policies=0, per_block=1, seed=1)
        self.accounts, self.quote_key = accounts, quote_key
        self.keeper, self.oracle_key, self.signer = accounts["wallet_1"], accounts["wallet_2"], accounts["wallet_3"]
        self.first_block = 0

    def quote_signature(self, quote) -> bytes:
        return sign_quote(quote, self.quote_key, self.d.contract_id("bithedge-policy-registry"))

    def genesis(self) -> list:
        """The genesis steps of devnet-setup.json as the generator's calls and prints (at the fee the devnet's
        setup pays)."""
        txs = []
        for step in SETUP["steps"]:
            fn, args = step["function"], [a["value"] for a in step["args"]]
            if fn == "grant-role":
                who, role = args
                txs.append(synth.call(self.admin, "parameters", fn, synth._principal(who), A(role), fee=GENESIS_FEE, events=[
                    self.ev("parameters", "role-granted", who=who, role=role, sender=self.admin)]))
            elif fn == "create-pool":
                token, tier = args
                txs.append(synth.call(self.admin, "vault", fn, A(token), A(tier), fee=GENESIS_FEE, events=[
                    self.ev("vault", "pool-created", token=token, tier=tier, sender=self.admin)]))
            elif fn == "set-param":
                self.set_param(txs, self.admin, args[0], int(args[1]), fee=GENESIS_FEE)
            else:
                raise AssertionError(f"genesis step {fn} is not mirrored")
        return txs

    def buy(self, txs, owner: str, token: str, tier: str, buyer_tier: str, strike_bp: int, duration: int,
            amount: int) -> synth.Policy:
        """`create-policy` from a quote at the latest prices: strike ``strike_bp`` of spot, the premium 2 % of
        the way from its floor to its cap."""
        strike = self.prices["BTC"] * strike_bp // 10_000
        terms = self.terms(token, buyer_tier, strike, amount)
        premium = terms.min_premium + (terms.max_premium - terms.min_premium) // 50
        pool, caps = self.pools[(token, tier)], self.tiers[("provider", tier)]
        assert F.pool_cap_error(terms.collateral, F.backing(pool.assets, pool.shares, pool.pending), pool.locked,
                                pool.expiry_locked[self.burn + duration], caps["max-exposure-policy-bp"],
                                caps["max-utilization-bp"], caps["max-exposure-expiry-bp"]) is None
        return self.open_policy(txs, pool, owner, buyer_tier, strike, amount,
                                self.burn + duration, premium, terms, self.prices["BTC"],
                                self.prices[synth.token_asset(token).value])


#: the scenario's BTC and STX prices (USD x 1e8), one pair a round: BTC eases ~4 % (the 105 % strike ends in the
#: money, the 85 % one out of it), within the oracle's 10 %-a-block guard
PRICES = [(9_000_000_000_000 - 40_000_000_000 * r, 200_000_000 + 500_000 * r) for r in range(23)]
#: the round from which no STX price is submitted (the third policy's expiry: it can only be voided)
STX_OUTAGE = 9


def scenario(g: Mirror, r: int, txs: list, w: dict[str, str]) -> None:
    """Round ``r``'s calls, decided by the generator at the round's heights (set on ``g``)."""
    btc, stx = PRICES[r]
    g.submit_price(txs, "BTC", btc)
    if r < STX_OUTAGE:
        g.submit_price(txs, "STX", stx)
    pools = g.pools
    if r == 0:
        # the shortest price delay and void grace, so the STX policy without a price is voided soon
        g.set_param(txs, g.admin, "settle.max-price-delay-blocks", 6)
        g.set_param(txs, g.admin, "settle.void-grace-blocks", 6)
        # shorter governance rules than the genesis' (the contract's off-mainnet minimums), so a vote fits
        g.set_param(txs, g.admin, "gov.voting-period-blocks", 10)
        g.set_param(txs, g.admin, "gov.timelock-blocks", 1)
        g.set_tier_field(txs, g.admin, "provider", "aggressive", "max-utilization-bp", 8_000)
        g.deposit(txs, pools[("STX", "conservative")], w["wallet_4"], 50_000_000_000)
        g.deposit(txs, pools[("STX", "balanced")], w["wallet_5"], 30_000_000_000)
        g.deposit(txs, pools[("STX", "aggressive")], w["wallet_6"], 1_000_000_000)
        g.deposit(txs, pools[("sBTC", "balanced")], w["wallet_6"], 100_000_000)
    elif r == 1:
        g.propose(txs, w["wallet_4"], "fee.protocol-bp", 250, g.stx_power(w["wallet_4"]))
        g.buy(txs, w["wallet_7"], "STX", "conservative", "standard", 10_500, 6, 5_000_000)  # ends in the money
        g.buy(txs, w["wallet_8"], "sBTC", "balanced", "standard", 8_500, 6, 20_000_000)  # ends out of it
        g.buy(txs, w["wallet_7"], "STX", "balanced", "conservative", 9_800, 8, 2_000_000)  # no STX price: voided
        g.buy(txs, w["wallet_8"], "sBTC", "balanced", "flexible", 9_500, 10, 10_000_000)  # expired, never settled
        g.withdraw(txs, pools[("STX", "aggressive")], w["wallet_6"], 400_000_000)  # no open expiry: at once
    elif r == 2:
        g.request_withdrawal(txs, pools[("STX", "conservative")], w["wallet_4"], 10_000_000_000)
    elif r == 3:
        g.vote(txs, w["wallet_4"], True)
        g.vote(txs, w["wallet_5"], False)
    elif r == 8:
        g.settle_due(txs)  # the first expiry's prices are final: one settle-expired per pool
    elif r == 9:
        g.execute_withdrawal(txs, pools[("STX", "conservative")], w["wallet_4"])
    elif r == 13:
        assert g.passed() and g.burn == g.proposal["eta"]
        g.execute(txs, w["wallet_1"])
        g.set_paused(txs, w["wallet_1"], "create-policy", True, False)  # the guardian pauses, the admin resumes
        g.set_paused(txs, g.admin, "create-policy", False, True)
    elif r == len(PRICES) - 1:
        g.settle_due(txs, only=(g.policies[2].expiry,))  # past its void-after: `void-policy`, pool premium refunded


async def test_a_devnet_run_and_the_generator_build_the_same_marts(pg_server, migrated_template, tmp_path):
    dev_db = create_database(pg_server, migrated_template)
    gen_db = create_database(pg_server, migrated_template)
    for db in (dev_db, gen_db):
        with psycopg.connect(db, autocommit=True) as conn:  # a clone does not copy the database's grants
            conn.execute("SELECT public.bithedge_database_grants()")
    srv, url = await start_indexer(dev_db)
    devnet = await start_devnet_async(tmp_path / "devnet", observers=[url], reset=True, blocking=True)
    out = open(tmp_path / "mirror.tsv", "w")  # noqa: SIM115 - closed below
    plan: dict[int, list] = {}  # Stacks height -> the generator's calls in that block
    try:
        async with StacksClient(devnet.rpc_url, retries=2, timeout=120) as client:
            keys = {a["label"]: a for a in await client.devnet_accounts()}
            accounts = {label: a["address"] for label, a in keys.items()}
            signer = {a["address"]: await Signer.for_account(client, a["private_key"])
                      for a in keys.values() if a.get("private_key")}
            g = Mirror(out, accounts, parse_private_key(keys["wallet_3"]["private_key"]))
            await wait_indexed(srv, (await client.status())["chain_tip"]["index_block_hash"])
            with psycopg.connect(dev_db) as conn:
                (genesis,) = conn.execute(
                    "SELECT DISTINCT b.block_height, b.burn_block_height FROM raw.transactions AS t "
                    "JOIN raw.blocks AS b USING (index_block_hash) WHERE b.canonical").fetchall()
            g.h, g.burn = genesis
            plan[g.h] = g.genesis()
            for r in range(len(PRICES)):
                status = await client.devnet_status()
                g.h, g.burn = status["tip"] + 2, status["burn_block_height"] + 1  # after the tenure-start block
                txs: list[synth.Tx] = []
                scenario(g, r, txs, accounts)
                plan[g.h] = txs
                for tx in txs:
                    await client.broadcast(signer[tx.sender].call(
                        g.d.contract_id(f"bithedge-{tx.contract}"), tx.function, list(tx.args), fee=tx.fee))
                mined = await client.mine(1)
                # the devnet's block is the predicted one, with as many events as the generator's calls emit
                assert [(b["height"], b["txs"], b["events"]) for b in mined["blocks"] if b["txs"]] == \
                    [(g.h, len(txs), sum(len(tx.events) for tx in txs))], (r, mined)
                g.snapshot()
            await wait_indexed(srv, (await client.status())["chain_tip"]["index_block_hash"])
    finally:
        devnet.stop()
        await srv.stop()

    with psycopg.connect(dev_db) as conn:
        blocks = conn.execute("SELECT block_height, burn_block_height FROM raw.blocks WHERE canonical "
                              "ORDER BY block_height").fetchall()
        failed = conn.execute("SELECT block_height, tx_index, status, result FROM raw.transactions "
                              "WHERE canonical AND status <> 'success'").fetchall()
    assert not failed, failed  # every call the generator decided is valid on chain
    for h, burn in blocks:
        g.h, g.burn = h, burn
        g.emit_block(h, plan.get(h, []))
    out.close()
    # every ending the scenario means to reach
    assert [p.status for p in g.policies] == ["settled-itm", "settled-otm", "voided", "active"]
    assert g.stats["withdrawals"] == 1 and g.stats["proposals-executed"] == 1

    writer = await Writer.open(gen_db)
    try:
        stats = await replay_file(writer, tmp_path / "mirror.tsv", progress=False)
    finally:
        await writer.close()
    assert stats["dead_letters"] == 0, stats
    dev_events, gen_events = raw_events(dev_db), raw_events(gen_db)
    assert {e[3] for e in dev_events} >= {"contract_event", "stx_transfer_event", "ft_transfer_event"}
    assert gen_events == dev_events, next((d, e) for d, e in zip(dev_events, gen_events, strict=False) if d != e)
    for db, where in ((dev_db, "dev"), (gen_db, "gen")):
        # the models only: the dbt tests run on both kinds of chain elsewhere (test_synth, the session chain)
        out = await asyncio.to_thread(transform_dbt(db, tmp_path / f"dbt-{where}").run, "run")
        assert out.success, out.errors
    dev, gen = business_rows(dev_db), business_rows(gen_db)
    with psycopg.connect(dev_db) as conn:
        statuses = dict(conn.execute("SELECT status, count(*) FROM analytics.policies GROUP BY 1").fetchall())
    drop_database(pg_server, dev_db)
    drop_database(pg_server, gen_db)
    assert statuses == {"settled-itm": 1, "settled-otm": 1, "voided": 1, "expired": 1}, statuses
    assert set(dev) == set(gen)
    diff = {t: (sorted(set(dev[t]) - set(gen[t]))[:3], sorted(set(gen[t]) - set(dev[t]))[:3])
            for t in dev if dev[t] != gen[t]}
    assert not diff, json.dumps(diff, indent=1)
    # every mart holds rows to compare, but the quarantine of malformed prints (neither chain has one) and the
    # final days of platform_daily (minutes of block time hold no final day; test_platform_days.py has five days)
    empty = sorted(t for t, rows in dev.items() if not rows and t not in ("print_quarantine", "platform_days"))
    assert not empty, f"marts the scenario leaves empty, so compared on nothing: {empty}"
