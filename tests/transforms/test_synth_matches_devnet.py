"""The scale-data generator against the devnet: the same actions, once as signed transactions on a fresh devnet
(the real Clarity VM, indexed live by the real indexer) and once through the generator's contract model at the
devnet's observed Stacks and burn heights, build marts equal in every business column.

The devnet's own chain shapes the generator's: Stacks blocks 0–2 are its synthesised deployment blocks, block 3
(burn height 2) holds the 13 genesis steps of ``contracts/devnet-setup.json`` (roles, six pools, governance
rules), and every ``POST /devnet/mine`` after that makes a burn block, an empty tenure-start Stacks block and
the block with the pending transactions (``--burn-ratio`` is at least 2). The generator is given the devnet's
accounts (admin = deployer, keeper = wallet_1, oracle = wallet_2, quote signer = wallet_3) and each block's
heights from ``raw.blocks`` of the devnet's database; it writes a block per devnet block (the burn block only
when the burn height changes)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import psycopg
import pytest

from indexer.ingest import Writer
from indexer.replay import replay_file
from stacks.rpc import StacksClient
from tests.conftest import create_database, drop_database
from tests.indexer.devnet_support import Signer, start_devnet_async, start_indexer, wait_indexed
from tests.transforms.chain import build, mart_keys, transform_dbt
from transforms import catalog

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import synth_policies as synth  # noqa: E402
from synth_policies import A, U  # noqa: E402

SETUP = json.loads((synth.REPO / "contracts" / "devnet-setup.json").read_text())
#: every param's deploy value; the catalog's seed (``synth.Generator.params``) leaves out the params whose
#: bounds depend on the network (``gov.voting-delay-blocks`` …), which the devnet's genesis sets
DEPLOY_VALUES = {k: int(v) for k, v in re.findall(r'\(map-set params "([^"]+)" \{ value: u(\d+)',
                                                   catalog.PARAMETERS_CLAR.read_text())}

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


#: µSTX per genesis step (contracts/devnet/lib/setup.cjs)
GENESIS_FEE = 2_000


class Mirror(synth.Generator):
    """The generator scripted to the devnet: its accounts, its genesis and its heights."""

    def __init__(self, out, accounts: dict[str, str]) -> None:
        super().__init__(out, policies=0, per_block=1, seed=1)
        self.accounts = accounts
        self.keeper, self.oracle_key, self.signer = accounts["wallet_1"], accounts["wallet_2"], accounts["wallet_3"]
        self.first_block = 0
        self.params = {**DEPLOY_VALUES, **self.params}

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
                key, value = args[0], int(args[1])
                txs.append(synth.call(self.admin, "parameters", fn, A(key), U(value), fee=GENESIS_FEE, events=[
                    self.ev("parameters", "param-updated", key=key, old_value=self.params[key], value=value,
                            sender=self.admin)]))
                self.params[key] = value
            else:
                raise AssertionError(f"genesis step {fn} is not mirrored")
        return txs


@pytest.mark.xfail(strict=True, reason=(
    "generator gaps the comparison found, whose fix changes the cached chains (VERSION bump): it writes only print "
    "events (the devnet also delivers a deposit's stx_transfer_event: chain_blocks.event_count and the event index "
    "of later prints in pool_history/provider_history differ) and `(ok true)` as every call's result (a deposit "
    "returns `(ok shares)`: contract_calls.result differs)"))
async def test_a_devnet_run_and_the_generator_build_the_same_marts(pg_server, migrated_template, tmp_path):
    dev_db = create_database(pg_server, migrated_template)
    gen_db = create_database(pg_server, migrated_template)
    for db in (dev_db, gen_db):
        with psycopg.connect(db, autocommit=True) as conn:  # a clone does not copy the database's grants
            conn.execute("SELECT public.bithedge_database_grants()")
    srv, url = await start_indexer(dev_db)
    devnet = await start_devnet_async(tmp_path / "devnet", observers=[url], reset=True, blocking=True)
    try:
        async with StacksClient(devnet.rpc_url, retries=2, timeout=120) as client:
            keys = {a["label"]: a for a in await client.devnet_accounts()}
            signer = {label: Signer(a["private_key"]) for label, a in keys.items() if a.get("private_key")}
            accounts = {label: a["address"] for label, a in keys.items()}
            out = open(tmp_path / "mirror.tsv", "w")  # noqa: SIM115 - closed below
            g = Mirror(out, accounts)

            async def send(label: str, contract: str, fn: str, *args) -> None:
                await client.broadcast(signer[label].call(f"{g.d.deployer}.bithedge-{contract}", fn, list(args)))

            # the scenario, round by round: each round is one mine (a burn block, two Stacks blocks)
            rounds = []
            for r, (btc, stx) in enumerate([(9_000_000_000_000, 200_000_000), (9_050_000_000_000, 201_000_000)]):
                rounds.append([("wallet_2", "oracle", "submit-price", A("BTC"), U(btc), ("price", "BTC", btc)),
                               ("wallet_2", "oracle", "submit-price", A("STX"), U(stx), ("price", "STX", stx))])
                if r == 1:
                    rounds[-1].append(("wallet_4", "vault", "deposit", A("STX"), A("conservative"),
                                       U(5_000_000_000), ("deposit", "STX", "conservative", 5_000_000_000)))
            for actions in rounds:
                for label, contract, fn, *rest in actions:
                    await send(label, contract, fn, *rest[:-1])
                await client.mine(1)
            await wait_indexed(srv, (await client.status())["chain_tip"]["index_block_hash"])
    finally:
        devnet.stop()
        await srv.stop()

    with psycopg.connect(dev_db) as conn:
        blocks = conn.execute("SELECT block_height, burn_block_height, (SELECT count(*) FROM raw.transactions t "
                              "WHERE t.index_block_hash = b.index_block_hash) FROM raw.blocks b WHERE canonical "
                              "ORDER BY block_height").fetchall()
    tx_blocks = [h for h, _, n in blocks if n]
    assert len(tx_blocks) == 1 + len(rounds), blocks  # the genesis block, then one block of each round's calls
    plan = dict(zip(tx_blocks, [None, *rounds], strict=True))
    for h, burn, _ in blocks:
        txs = []
        g.h, g.burn = h, burn
        if h in plan:
            if plan[h] is None:
                txs = g.genesis()
            else:
                for label, _contract, _fn, *rest in plan[h]:
                    kind, *what = rest[-1]
                    sender = accounts[label]
                    if kind == "price":
                        g.submit_price(txs, *what)
                    elif kind == "deposit":
                        token, tier, amount = what
                        g.deposit(txs, g.pools[(token, tier)], sender, amount)
        g.emit_block(h, txs)
    out.close()

    writer = await Writer.open(gen_db)
    try:
        stats = await replay_file(writer, tmp_path / "mirror.tsv", progress=False)
    finally:
        await writer.close()
    assert stats["dead_letters"] == 0, stats
    for db, where in ((dev_db, "dev"), (gen_db, "gen")):
        await build(transform_dbt(db, tmp_path / f"dbt-{where}"), "deploy")
    dev, gen = business_rows(dev_db), business_rows(gen_db)
    drop_database(pg_server, dev_db)
    drop_database(pg_server, gen_db)
    assert set(dev) == set(gen)
    diff = {t: (sorted(set(dev[t]) - set(gen[t]))[:3], sorted(set(gen[t]) - set(dev[t]))[:3])
            for t in dev if dev[t] != gen[t]}
    assert not diff, json.dumps(diff, indent=1)
    assert dev["pool_states"] and dev["oracle_prices"]  # the scenario's pools and prices are in both
