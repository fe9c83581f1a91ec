"""Devnet throughput: transactions/s accepted and mined through the full RPC path, and blocks/s
delivered to a no-op event observer.

    .venv/bin/python benchmarks/bench_devnet.py [--txs 5000] [--senders 50] [--blocks 1000]

Phase 1 signs ``--txs`` real contract calls (``bithedge-vault.deposit`` of 1 STX, each with a print and
an STX transfer event) in Python from ``--senders`` funded keys, POSTs them to /v2/transactions
(64 in flight) while a miner task calls /devnet/mine every 100 ms, and stops the clock when the
last one is mined (and delivered: the devnet runs with one no-op observer). Phase 2 mines
``--blocks`` empty blocks and measures how fast they reach the observer.

Phase 0 (``--kind deposit``, skip with ``--no-vm``) runs ``contracts/devnet/bench_stages.cjs`` in the same
run: the Clarity VM bound (a bare simnet ``mineBlock`` of the same deposits, no devnet) and the devnet's
Chain in-process. The full path is then printed stage by stage (from ``/devnet/status`` ``timing``)
with the ratio devnet / VM, so the figure is explained by measurement on the same (shared) machine.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from stacks import clarity  # noqa: E402
from stacks.keys import parse_private_key  # noqa: E402
from stacks.rpc import StacksClient  # noqa: E402
from stacks.transaction import PostConditionMode, make_contract_call, make_token_transfer  # noqa: E402
from tests.processes import free_port  # noqa: E402
from tests.support.devnet import start_devnet  # noqa: E402

VAULT = "ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.bithedge-vault"
SINK = "ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM"

OBSERVER = r"""
import sys
from aiohttp import web
n = {"blocks": 0, "burn": 0, "other": 0}
async def post(req):
    await req.read()
    k = "blocks" if req.path == "/new_block" else "burn" if req.path == "/new_burn_block" else "other"
    n[k] += 1
    return web.Response(text="ok")
async def count(_):
    return web.json_response(n)
app = web.Application(client_max_size=1 << 30)
app.router.add_get("/count", count)
app.router.add_post("/{tail:.*}", post)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


async def observer_count(port: int) -> dict:
    async with aiohttp.ClientSession() as s:
        async with s.get(f"http://127.0.0.1:{port}/count") as r:
            return await r.json()


STAGES = [
    ("decode", "decode + sighash digest, main thread (with --sig-worker: the worker's)"),
    ("sig_batch", "secp256k1-recover? batch + balances, main thread (--sig-worker: balances only)"),
    ("checks", "nonce / balance / ABI checks, mempool insert"),
    ("build_calls", "build the mineBlock call list (fee debits, args)"),
    ("mine_block", "simnet mineBlock (VM: calls + fee debits)"),
    ("event_map", "result/event mapping"),
    ("post_conditions", "post-condition checks"),
    ("block_assemble", "mempool removal, hashes, indexes"),
    ("payload_build", "observer payload build"),
    ("emit", "payload JSON + observer queue write"),
    ("chain_log", "chain-log write"),
]


def vm_bound(args) -> dict | None:
    """The bare-simnet VM bound and the in-process devnet, measured by bench_stages.cjs (same run)."""
    script = REPO / "contracts" / "devnet" / "bench_stages.cjs"
    r = subprocess.run(["node", str(script), "--json", "--txs", str(args.txs), "--block", str(args.block_txs),
                        "--senders", str(args.senders)], capture_output=True, text=True, timeout=1800)
    if r.returncode != 0:
        print(r.stderr[-2000:], file=sys.stderr)
        return None
    return json.loads(r.stdout.strip().splitlines()[-1])


async def bench(args) -> dict:
    obs_port = free_port()
    obs = subprocess.Popen([sys.executable, "-c", OBSERVER, str(obs_port)])
    data = Path(tempfile.mkdtemp(prefix="bench-devnet-"))
    proc = start_devnet(data, observers=[f"http://127.0.0.1:{obs_port}"], blocking=False,
                        max_chaining=100_000, max_block_txs=args.block_txs)
    results: dict = {}
    try:
        async with StacksClient(proc.rpc_url, retries=3, timeout=120) as c:
            # fund the senders
            keys = [parse_private_key(hashlib.sha256(f"bench:{i}".encode()).hexdigest() + "01") for i in range(args.senders)]
            for k in keys:
                await c.faucet(k.address(26), 10_000_000_000)
            await c.mine()
            per = -(-args.txs // args.senders)
            t0 = time.perf_counter()
            txs = []
            for n in range(per):
                for k in keys:
                    if len(txs) < args.txs:
                        if args.kind == "deposit":
                            tx = make_contract_call(
                                contract=VAULT, function_name="deposit",
                                function_args=[clarity.StringAscii("STX"), clarity.StringAscii("balanced"), clarity.UInt(1_000_000)],
                                sender_key=k, nonce=n, fee=1_000, mainnet=False, post_condition_mode=PostConditionMode.ALLOW)
                        else:
                            tx = make_token_transfer(recipient=SINK, amount=1_000, sender_key=k, nonce=n, fee=1_000,
                                                     mainnet=False, post_condition_mode=PostConditionMode.ALLOW)
                        txs.append(tx.serialize())
            sign_s = time.perf_counter() - t0
            start_tip = (await c.info())["stacks_tip_height"]
            obs_before = await observer_count(obs_port)

            # submit with 64 in flight while mining every 100 ms
            queues = [list(reversed(txs[i::args.senders])) for i in range(args.senders)]  # one per sender, nonce order
            accepted = 0
            rejected: dict[str, int] = {}

            async def submitter(queue):
                nonlocal accepted
                async with aiohttp.ClientSession() as s:
                    while queue:
                        raw = queue.pop()
                        async with s.post(proc.rpc_url + "/v2/transactions", data=raw,
                                          headers={"content-type": "application/octet-stream"}) as r:
                            if r.status == 200:
                                accepted += 1
                            else:
                                body = await r.json()
                                rejected[body.get("reason", str(r.status))] = rejected.get(body.get("reason", "?"), 0) + 1

            mined_txs = 0
            submitting = True

            async def miner():
                nonlocal mined_txs
                while submitting or (await c.devnet_status())["mempool"] > 0:
                    r = await c.mine()
                    mined_txs += sum(b["txs"] for b in r["blocks"])
                    await asyncio.sleep(0.1)

            t0 = time.perf_counter()
            mtask = asyncio.create_task(miner())
            await asyncio.gather(*(submitter(q) for q in queues))
            accept_s = time.perf_counter() - t0
            submitting = False
            await mtask
            mined_s = time.perf_counter() - t0
            end_tip = (await c.info())["stacks_tip_height"]
            # wait until the observer has every block
            while (await observer_count(obs_port))["blocks"] - obs_before["blocks"] < end_tip - start_tip:
                await asyncio.sleep(0.05)
            delivered_s = time.perf_counter() - t0
            status = await c.devnet_status()
            results["timing"] = status.get("timing")
            results["observer_post_ms"] = sum(o.get("post_ms", 0) for o in status["observers"])
            results["tx"] = {
                "txs": len(txs), "accepted": accepted, "rejected": rejected, "mined": mined_txs,
                "python_sign_s": round(sign_s, 3), "accept_s": round(accept_s, 3), "mined_s": round(mined_s, 3),
                "accepted_per_s": round(accepted / accept_s, 1), "mined_per_s": round(mined_txs / mined_s, 1),
                "delivered_s": round(delivered_s, 3), "blocks": end_tip - start_tip,
                "runtime_failures": status["stats"]["runtime_failures"],
            }

            # blocks/s to the no-op observer
            before = (await observer_count(obs_port))["blocks"]
            t0 = time.perf_counter()
            r = await c.mine(args.blocks)
            produced = len(r["blocks"])
            mine_s = time.perf_counter() - t0
            while (await observer_count(obs_port))["blocks"] - before < produced:
                await asyncio.sleep(0.02)
            deliver_s = time.perf_counter() - t0
            results["blocks"] = {
                "blocks": produced, "mine_s": round(mine_s, 3), "delivered_s": round(deliver_s, 3),
                "mined_per_s": round(produced / mine_s, 1), "delivered_per_s": round(produced / deliver_s, 1),
            }
    finally:
        proc.stop()
        shutil.rmtree(data, ignore_errors=True)  # chain log and observer queue: hundreds of MB per run
        obs.terminate()
        obs.wait(10)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--txs", type=int, default=5000)
    ap.add_argument("--senders", type=int, default=50)
    ap.add_argument("--blocks", type=int, default=1000)
    ap.add_argument("--block-txs", type=int, default=500, help="max transactions per block")
    ap.add_argument("--kind", choices=("transfer", "deposit"), default="deposit",
                    help="deposit: bithedge-vault.deposit contract calls; transfer: STX token transfers")
    ap.add_argument("--no-vm", action="store_true", help="skip the bare-simnet VM bound (phase 0)")
    ap.add_argument("--sig-worker", action="store_true",
                    help="run the devnet with --sig-worker (decode + signature recovery on a worker thread)")
    args = ap.parse_args()
    if args.sig_worker:
        os.environ["BITHEDGE_DEVNET_SIG_WORKER"] = "1"
    vm = None if args.no_vm or args.kind != "deposit" else vm_bound(args)
    r = asyncio.run(bench(args))
    r["vm"] = vm
    t, b = r["tx"], r["blocks"]
    print(f"devnet RPC path: {t['txs']} signed {args.kind} transactions from {args.senders} senders")
    print(f"  accepted  {t['accepted_per_s']:8.1f} tx/s  ({t['accepted']} in {t['accept_s']} s; rejected {t['rejected'] or 0})")
    print(f"  mined     {t['mined_per_s']:8.1f} tx/s  ({t['mined']} in {t['mined_s']} s, {t['blocks']} blocks; all delivered after {t['delivered_s']} s)")
    print(f"  (Python signing alone: {t['python_sign_s']} s)")
    print(f"observer delivery: {b['blocks']} empty blocks")
    print(f"  mined     {b['mined_per_s']:8.1f} blocks/s")
    print(f"  delivered {b['delivered_per_s']:8.1f} blocks/s to a no-op observer")
    tm = r.get("timing") or {}
    n = max(1, t["mined"])
    if tm:
        print(f"full-path stages (ms per mined tx; clock time inside the devnet process, {n} txs, {tm.get('blocks')} blocks)")
        for k, label in STAGES:
            print(f"  {k:16s} {tm.get(k, 0) / n:7.3f}  {label}")
        print(f"  {'observer_post':16s} {r['observer_post_ms'] / n:7.3f}  observer POSTs, wall time (async; includes waiting while mineBlock blocks the loop)")
        inside = sum(tm.get(k, 0) for k, _ in STAGES) / n
        print(f"  {'sum':16s} {inside:7.3f}  (the rest of {1000 / t['mined_per_s']:.3f} ms/tx wall: HTTP handling, Python client, idle)")
        print(f"  mineBlock is {tm.get('mine_block', 0) / n / (1000 / t['mined_per_s']):.0%} of the full path's wall time per tx "
              "(same run, same moment)")
    if vm:
        print(f"VM bound, same run: bare simnet mineBlock of {vm['txs']} deposits (blocks of {vm['block']}), no devnet")
        print(f"  VM alone               {vm['vm']['per_tx_ms']:7.3f} ms/tx  {vm['vm']['tx_per_s']:7.1f} tx/s")
        print(f"  VM + fee transfer/tx   {vm['vm_fee']['per_tx_ms']:7.3f} ms/tx  {vm['vm_fee']['tx_per_s']:7.1f} tx/s  (old fee debit)")
        print(f"  devnet Chain, no HTTP  {vm['devnet']['per_tx_ms']:7.3f} ms/tx  {vm['devnet']['tx_per_s']:7.1f} tx/s")
        print(f"  devnet full RPC path   {1000 / t['mined_per_s']:7.3f} ms/tx  {t['mined_per_s']:7.1f} tx/s")
        print(f"  ratio devnet/VM: in-process {vm['devnet']['ms'] / vm['vm']['ms']:.2f}, "
              f"full path {(1000 / t['mined_per_s']) / vm['vm']['per_tx_ms']:.2f}")
    print(json.dumps(r))


if __name__ == "__main__":
    main()
