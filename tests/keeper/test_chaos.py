"""Chaos, scaled to the suite (the full-size run is ``benchmarks/bench_keeper.py --chaos``): a real devnet and a
real PostgreSQL, ``bithedge keeper run`` as a child process reading the simulator's venues over HTTP (one
extra source that is always down), policies over about 20 expiries; meanwhile the keeper is killed with SIGKILL
at random points, the devnet is restarted (its mempool is lost) and stalls, and forks of depth 1–6 hit while
settlements are in flight. Afterwards every policy is closed exactly once (contract state and ``keeper.audit``
agree), no nonce is lost or reused, no published price left the sources' band, and no key is in the logs or
the keeper's tables."""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import aiohttp
import psycopg
import pytest
from aiohttp import web

from bithedge.database import role_url
from bithedge.protocol.deployment import DEVNET
from bithedge.simulator.agents import Simulator
from bithedge.simulator.feed import make_app
from stacks import clarity
from stacks.rpc import StacksClient
from tests.processes import free_port
from tests.support.devnet import start_devnet_async

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
U = clarity.UInt
REPO = Path(__file__).resolve().parents[2]
BAND_BP = 200  # BITHEDGE_KEEPER_PRICE_BAND_BP's default


class KeeperProcess:
    def __init__(self, env: dict, log: Path) -> None:
        self.env, self.log, self.proc = env, log, None

    def start(self, node_url: str) -> None:
        out = self.log.open("ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "bithedge", "keeper", "run"],
                                     env={**self.env, "BITHEDGE_NODE_URL": node_url}, stdout=out,
                                     stderr=subprocess.STDOUT)
        out.close()

    def kill9(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> int:
        self.proc.terminate()
        return self.proc.wait(timeout=60)


async def keeper_tip(port: int) -> int:
    try:
        async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{port}/ready",
                                                       timeout=aiohttp.ClientTimeout(total=3)) as r:
            return int((await r.json())["tip"])
    except (aiohttp.ClientError, TimeoutError, ValueError, KeyError):
        return -1


async def wait_keeper(keeper: KeeperProcess, port: int, tip: int, timeout: float = 240.0) -> None:
    """Until the keeper has stepped at ``tip`` (its transactions for that block are in the mempool)."""
    deadline = time.monotonic() + timeout
    while await keeper_tip(port) < tip:
        if time.monotonic() > deadline or keeper.proc.poll() is not None:
            raise TimeoutError(f"the keeper did not reach tip {tip} (exit status {keeper.proc.poll()}); log tail:\n"
                               + keeper.log.read_text()[-3000:])
        await asyncio.sleep(0.2)


#: a Pyth Hermes API key: the simulator's Hermes must get it as a Bearer token, no log or table may hold it
PYTH_KEY = "chaos-hermes-key-93b1e5d07a"
#: the outlier source: one venue quotes this far off the market for OUTLIER_STEPS blocks
OUTLIER_VENUE, OUTLIER_BP, OUTLIER_STEPS = "okx", 1200, 4


async def run_chaos(db_url: str, work: Path, *, buys_per_buyer: int, kills: int = 3, forks: int = 3,
                    seed: int = 3, extra_buyers: int = 4, buy_rounds: int = 3) -> dict:
    """The scenario; returns the figures the checks use (also the benchmark's full-size run). Policies:
    ``buy_rounds`` blocks in which each of the 2 + ``extra_buyers`` buyers buys ``buys_per_buyer`` times."""
    rng = random.Random(seed)
    devnet = await start_devnet_async(work / "devnet")
    feed_port, keeper_port = free_port(), free_port()
    env = {**os.environ, "DATABASE_URL": role_url(db_url, "bithedge_keeper"), "BITHEDGE_LOG_LEVEL": "info",
           "BITHEDGE_KEEPER_POLICY_SOURCE": "chain", "BITHEDGE_KEEPER_PORT": str(keeper_port),
           "BITHEDGE_KEEPER_POLL_S": "0.2", "BITHEDGE_KEEPER_MIN_BALANCE": "0",
           "BITHEDGE_KEEPER_SOURCE_TIMEOUT_S": "1", "BITHEDGE_KEEPER_PRICE_FEED_URL": f"http://127.0.0.1:{feed_port}",
           # a source that is always down (connection refused): excluded every round, the quorum holds without it
           "BITHEDGE_KEEPER_SOURCES": "coinbase,kraken,bitstamp,binance,okx,pyth,coingecko=http://127.0.0.1:9",
           "BITHEDGE_KEEPER_PYTH_API_KEY": PYTH_KEY, "PYTHONPATH": str(REPO)}
    keeper = KeeperProcess(env, work / "keeper.log")
    client = StacksClient(devnet.rpc_url, retries=4)
    sim = Simulator(client, seed=seed, mine=True, extra_buyers=extra_buyers, activity=0.0, log=lambda _: None)
    app, pyth_auth = make_app(sim.feed, hang_s=1.0), Counter()

    @web.middleware
    async def record_pyth_auth(request, handler):
        if request.path.startswith("/pyth/"):
            pyth_auth[request.headers.get("Authorization")] += 1
        return await handler(request)

    app.middlewares.append(record_pyth_auth)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", feed_port).start()
    events: Counter = Counter()
    try:
        sim.feed.update(time.time())
        await sim.setup()
        keeper.start(devnet.rpc_url)

        async def block(*, wait: bool = True) -> None:
            sim.market.step()
            sim.feed.update(time.time())
            await client.mine()
            tip = (await client.info())["stacks_tip_height"]
            if wait:
                await wait_keeper(keeper, keeper_port, tip)

        for _ in range(3):  # first prices
            await block()
        for _ in range(buy_rounds):  # policies: every buyer buys again and again (expiries 8-28 burn blocks out)
            await sim.refresh_chain()
            for b in sim.buyers:
                for _ in range(buys_per_buyer):
                    await sim.buy(b)
            await block()
        actions = ["kill"] * kills + ["fork"] * forks + ["restart", "stall", "outlier"]
        chaos_at = sorted(rng.sample(range(2, 4 * len(actions)), len(actions)))
        rng.shuffle(actions)
        plan = dict(zip(chaos_at, actions, strict=True))
        depths = rng.sample(range(1, 7), 6)  # every depth 1-6 once per six forks
        last_id = int(clarity.to_plain(await client.call_read(DEVNET.registry, "get-last-policy-id")))
        open_ids = set(range(1, last_id + 1))
        outlier = next(v for v in sim.feed.venues if v.name == OUTLIER_VENUE)
        outlier_until, bias = -1, outlier.bias_bp
        for step in range(400):
            action = plan.get(step)
            if step == outlier_until:
                outlier.bias_bp = bias
            if action == "kill":  # SIGKILL at a random point of its step
                await asyncio.sleep(rng.random() * 0.5)
                keeper.kill9()
                keeper.start(client.base_url)
            elif action == "fork":
                # a fork replays the chain: slow on a loaded machine, and a POST that timed out must not be resent
                async with StacksClient(client.base_url, retries=0, timeout=300) as once:
                    await once.fork(depths[events["fork"] % 6])
            elif action == "restart":  # the devnet restarts: the chain log replays, the mempool is gone
                keeper.kill9()
                devnet.stop()
                devnet = await start_devnet_async(work / "devnet")
                await client.close()
                client = StacksClient(devnet.rpc_url, retries=4)
                sim.client = client
                keeper.start(devnet.rpc_url)
            elif action == "stall":  # no block for a while: the keeper's timer steps, nothing breaks
                await asyncio.sleep(3)
            elif action == "outlier":  # one source quotes BTC and STX far off the market for a while
                outlier.bias_bp, outlier_until = bias + OUTLIER_BP, step + OUTLIER_STEPS
            if action:
                events[action] += 1
            await block()
            if step > max(plan) and await all_closed(client, open_ids):
                break
        return {"client": client, "keeper": keeper, "last_id": last_id, "events": events, "devnet": devnet,
                "sent": sim.stats["sent:create-policy"], "pyth_auth": pyth_auth,
                "rejected": {k: v for k, v in sim.stats.items() if k.startswith("rejected:")}}
    except BaseException:
        keeper.kill9()
        devnet.stop()
        await client.close()
        raise
    finally:
        await runner.cleanup()


async def all_closed(client: StacksClient, open_ids: set[int]) -> bool:
    """Whether every id of ``open_ids`` is closed on chain; drops the closed ones from it (a fork may reopen a
    policy, but the final check reads every policy again)."""
    for pid in sorted(open_ids):
        p = clarity.to_plain(await client.call_read(DEVNET.registry, "get-policy", [U(pid)]))
        if p["status"] == "active":
            return False
        open_ids.discard(pid)
    return True


def keeper_rows(db_url: str, sql: str, *args) -> list[tuple]:
    with psycopg.connect(db_url) as conn:
        return conn.execute(sql, args).fetchall()


async def check(db_url: str, out: dict) -> None:
    client, last_id = out["client"], out["last_id"]
    # every policy closed exactly once: the contract says closed, the audit shows one settling transaction each
    statuses = Counter()
    for pid in range(1, last_id + 1):
        statuses[clarity.to_plain(await client.call_read(DEVNET.registry, "get-policy", [U(pid)]))["status"]] += 1
    assert statuses["active"] == 0 and sum(statuses.values()) == last_id, statuses
    expiries = {int(clarity.to_plain(await client.call_read(DEVNET.registry, "get-policy", [U(pid)]))["expiry"])
                for pid in range(1, last_id + 1)}
    out["expiries"] = len(expiries)
    settled = keeper_rows(db_url, "SELECT r.key::bigint, count(DISTINCT a.txid) FROM keeper.audit a, "
                          "jsonb_each(a.inputs -> 'results') r WHERE a.kind = 'result' AND r.value ->> 'outcome' "
                          "IN ('settled', 'voided') GROUP BY 1")
    assert all(n == 1 for _, n in settled), settled  # never two settling transactions for one policy
    # a result may be read twice (killed between reading it and marking the tx confirmed) but never missed; a
    # policy the keeper saw closed by an earlier settlement of its own gets 406 from the contract
    closed = {r[0] for r in keeper_rows(db_url, "SELECT r.key::bigint FROM keeper.audit a, jsonb_each(a.inputs -> "
                                        "'results') r WHERE a.kind = 'result' AND r.value ->> 'code' = '406'")}
    assert {p for p, _ in settled} | closed == set(range(1, last_id + 1))
    out["results_missed"] = last_id - len(settled)
    # no nonce lost or reused: per signer the ledger's nonces are 0..n-1, all confirmed, and the node agrees
    for address, next_nonce in keeper_rows(db_url, "SELECT address, next_nonce FROM keeper.signers"):
        rows = keeper_rows(db_url, "SELECT nonce, status FROM keeper.transactions WHERE address = %s ORDER BY nonce",
                           address)
        assert [n for n, _ in rows] == list(range(next_nonce)), address
        confirmed = (await client.account(address)).nonce
        # the last step's transactions may still wait for a block: then the node holds exactly those
        assert all(s == "confirmed" if n < confirmed else s == "pending" for n, s in rows), (confirmed, rows[-3:])
        assert (await client.nonces(address))["possible_next_nonce"] == next_nonce
    # every published price within the sources' band around its round's median
    published = keeper_rows(db_url, "SELECT r.published_price, r.median FROM keeper.price_rounds r JOIN "
                            "keeper.transactions t ON t.txid = r.txid WHERE t.tx_status = 'success'")
    assert published and all(abs(p - m) * 10_000 <= m * BAND_BP for p, m in published)
    out["prices_published"] = len(published)
    # the outlier source was seen and kept out of the median
    out["outlier_rounds"] = keeper_rows(db_url, "SELECT count(*) FROM keeper.price_rounds, jsonb_array_elements("
                                        "quotes) q WHERE q ->> 'source' = %s AND q ->> 'reason' LIKE 'outlier:%%'",
                                        OUTLIER_VENUE)[0][0]
    assert out["outlier_rounds"] > 0
    # every request to Pyth carried the key, as Hermes expects it
    assert set(out["pyth_auth"]) == {f"Bearer {PYTH_KEY}"}, out["pyth_auth"]
    # the dead source was excluded with its reason
    reasons = keeper_rows(db_url, "SELECT DISTINCT q ->> 'reason' FROM keeper.price_rounds, "
                          "jsonb_array_elements(quotes) q WHERE q ->> 'source' = 'coingecko'")
    assert reasons and all(r[0] for r in reasons)


def assert_no_key_material(db_url: str, log: Path) -> None:
    accounts = json.loads((REPO / "contracts" / "settings" / "devnet-accounts.json").read_text())["accounts"]
    secrets = [a["privateKey"][:64] for a in accounts if a["label"] in ("wallet_1", "wallet_2")] + [PYTH_KEY.lower()]
    dump = []
    with psycopg.connect(db_url) as conn:
        for (table,) in conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = "
                                     "'keeper'").fetchall():
            dump += [r[0] for r in conn.execute(f"SELECT t::text FROM keeper.{table} t").fetchall()]
    text, logs = "\n".join(dump).lower(), log.read_text().lower()
    for secret in secrets:
        assert secret not in text and secret not in logs


async def test_keeper_chaos(db_url, tmp_path):
    out = await run_chaos(db_url, tmp_path, buys_per_buyer=5)
    try:
        assert out["last_id"] >= 40 and out["events"] == {"kill": 3, "fork": 3, "restart": 1, "stall": 1,
                                                          "outlier": 1}
        assert out["keeper"].stop() == 0  # SIGTERM: a clean stop
        await check(db_url, out)
        assert out["expiries"] >= 12, out["expiries"]
        assert_no_key_material(db_url, tmp_path / "keeper.log")
    finally:
        out["keeper"].kill9()
        out["devnet"].stop()
        await out["client"].close()
