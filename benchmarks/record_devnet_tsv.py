"""Record what a real devnet delivers to an event observer, as a stacks-blockchain-api
``event_observer_requests`` TSV export (``id \\t timestamp \\t path \\t payload``, COPY TEXT escaping), for the
indexer's replay benchmark.

    .venv/bin/python benchmarks/record_devnet_tsv.py [--out .bithedge/bench/devnet.tsv] [--events 1000000]
        [--sim-blocks 40] [--senders 200] [--block-txs 500] [--max-seconds 600] [--scale-to 0]

1. A devnet (the real Node simnet server) on a free port delivers, blocking, to an observer in this process
   that appends every POST body verbatim to the TSV.
2. ``--sim-blocks`` blocks of market simulator traffic (oracle prices, vault deposits and withdrawals,
   policies bought and settled, governance: the BitHedge print events).
3. A storm until ``--events`` events were delivered or ``--max-seconds`` passed: ``--senders`` funded keys
   sign ``bithedge-vault.deposit`` calls (a print and an STX transfer event each) and STX transfers, up to
   ``--block-txs`` per block, mined with ``POST /devnet/mine``.
4. ``--scale-to N`` (optional): when fewer than N events were recorded, write ``<out stem>-xK.tsv`` with the
   recording repeated K times as one longer chain. Copy k > 0 re-hashes every block-level hash
   (``index_block_hash``, ``block_hash``, ``consensus_hash``, burn block hashes, parents, with copy k's
   first block chained to copy k−1's tip) and shifts heights and times; transactions (``raw_tx`` must hash
   to ``txid``) and events are kept byte for byte. Copies k > 0 carry only ``/new_burn_block`` and
   ``/new_block`` requests (the mempool requests are the recording's own).

The files go under ``.bithedge/bench/`` (gitignored). Prints one JSON summary line.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bithedge.embedded_pg import EmbeddedPostgres  # noqa: E402
from bithedge.migrate import migrate  # noqa: E402
from bithedge.protocol.deployment import DEVNET  # noqa: E402
from bithedge.simulator.agents import Simulator  # noqa: E402
from indexer.tsv import copy_unescape  # noqa: E402
from stacks import clarity  # noqa: E402
from stacks.keys import parse_private_key  # noqa: E402
from stacks.rpc import StacksClient  # noqa: E402
from stacks.transaction import PostConditionMode, make_contract_call, make_token_transfer  # noqa: E402
from tests.indexer.devnet_support import simulate  # noqa: E402
from tests.support.devnet import start_devnet  # noqa: E402
from tests.support.keeper import keeper_for  # noqa: E402

VAULT = DEVNET.vault
TIERS = ("conservative", "balanced", "aggressive")


def copy_escape(text: str) -> str:
    """Postgres COPY TEXT escaping of one column."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


class TsvRecorder:
    """An event observer that appends every request to a TSV export and counts blocks and events."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.f = path.open("w", encoding="utf-8")
        self.n = 0
        self.blocks = 0
        self.events = 0
        self.txs = 0
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def _handle(self, request: web.Request) -> web.Response:
        body = (await request.read()).decode("utf-8", errors="surrogateescape")
        self.n += 1
        ts = datetime.now(UTC).isoformat(sep=" ")
        self.f.write(f"{self.n}\t{ts}\t{request.path}\t{copy_escape(body)}\n")
        if request.path == "/new_block":
            p = json.loads(body)
            self.blocks += 1
            self.events += len(p.get("events") or [])
            self.txs += len(p.get("transactions") or [])
        return web.Response(text="ok")

    async def start(self) -> TsvRecorder:
        app = web.Application(client_max_size=1 << 30)
        app.router.add_post("/{tail:.*}", self._handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()
        self.f.close()


async def storm(client: StacksClient, rec: TsvRecorder, args, log) -> None:
    rng = random.Random(args.seed)
    keys = [parse_private_key(hashlib.sha256(f"bench-tsv:{i}".encode()).hexdigest() + "01")
            for i in range(args.senders)]
    for k in keys:
        await client.faucet(k.address(26), 50_000_000_000)
    await client.mine()
    nonces = [0] * len(keys)
    deadline = time.monotonic() + args.max_seconds
    per_sender = max(1, args.block_txs // len(keys))
    import aiohttp

    async with aiohttp.ClientSession() as s:
        async def submit(raws: list[bytes]) -> None:
            for raw in raws:
                async with s.post(client.base_url + "/v2/transactions", data=raw,
                                  headers={"content-type": "application/octet-stream"}) as r:
                    if r.status != 200:
                        log(f"rejected: {await r.text()}")

        while rec.events < args.events and time.monotonic() < deadline:
            batches = []
            for i, k in enumerate(keys):
                raws = []
                for _ in range(per_sender):
                    if rng.random() < args.deposit_share:
                        tx = make_contract_call(
                            contract=VAULT, function_name="deposit",
                            function_args=[clarity.StringAscii("STX"), clarity.StringAscii(rng.choice(TIERS)),
                                           clarity.UInt(rng.randint(1, 5_000) * 1_000)],
                            sender_key=k, nonce=nonces[i], fee=1_000 + rng.randrange(500), mainnet=False,
                            post_condition_mode=PostConditionMode.ALLOW)
                    else:
                        to = keys[(i + 1 + rng.randrange(len(keys) - 1)) % len(keys)].address(26)
                        tx = make_token_transfer(recipient=to if rng.random() < 0.5 else DEVNET.deployer,
                                                 amount=rng.randint(1, 10_000), sender_key=k, nonce=nonces[i],
                                                 fee=1_000, mainnet=False, memo=b"bench",
                                                 post_condition_mode=PostConditionMode.ALLOW)
                    nonces[i] += 1
                    raws.append(tx.serialize())
                batches.append(raws)
            await asyncio.gather(*(submit(b) for b in batches))
            await client.mine()
            log(json.dumps({"event": "progress", "blocks": rec.blocks, "txs": rec.txs, "events": rec.events}))


def _rehash(h: str | None, k: int, memo: dict) -> str | None:
    if not h or not isinstance(h, str) or len(h.removeprefix("0x")) != 64 or not h.strip("0x"):
        return h  # not a hash, or the all-zero "no parent" hash
    if h not in memo:
        memo[h] = "0x" + hashlib.sha256(f"copy{k}:{h}".encode()).hexdigest()
    return memo[h]


BLOCK_HASHES = ("index_block_hash", "block_hash", "consensus_hash", "burn_block_hash", "parent_burn_block_hash",
                "parent_block_hash", "parent_index_block_hash", "parent_microblock_hash")


def scale(src: Path, dst: Path, copies: int) -> dict:
    """The recording repeated ``copies`` times as one chain (see the module docstring)."""
    rows = []
    with src.open(encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            i, ts, path, payload = line.rstrip("\n").split("\t", 3)
            rows.append((ts, path, payload))
    blocks = [json.loads(copy_unescape(p)) for _, path, p in rows if path == "/new_block"]
    heights = [b["block_height"] for b in blocks]
    burns = [b["burn_block_height"] for b in blocks]
    span, burn_span = max(heights) - min(heights) + 1, max(burns) - min(burns) + 1
    first_block = blocks[0]["index_block_hash"]
    tip = blocks[-1]
    t_span = (tip.get("block_time") or 0) - (blocks[0].get("block_time") or 0) + 1
    n = events = 0
    with dst.open("w", encoding="utf-8") as out:
        prev_tip = (tip["index_block_hash"], tip.get("block_hash"))
        for k in range(copies):
            memo: dict[str, str] = {}
            last = None
            for ts, path, payload in rows:
                if k and path not in ("/new_block", "/new_burn_block"):
                    continue
                if k:
                    p = json.loads(copy_unescape(payload))
                    first = path == "/new_block" and p["index_block_hash"] == first_block
                    for key in BLOCK_HASHES:
                        if key in p:
                            p[key] = _rehash(p[key], k, memo)
                    if first:  # chained to the previous copy's tip
                        p["parent_index_block_hash"], p["parent_block_hash"] = prev_tip
                    for key, d in (("block_height", span), ("burn_block_height", burn_span),
                                   ("parent_burn_block_height", burn_span), ("tenure_height", burn_span)):
                        if isinstance(p.get(key), int):
                            p[key] += k * d
                    for key in ("block_time", "burn_block_time", "parent_burn_block_timestamp"):
                        if isinstance(p.get(key), int):
                            p[key] += k * t_span
                    if path == "/new_block":
                        last = (p["index_block_hash"], p.get("block_hash"))
                    payload = copy_escape(json.dumps(p, separators=(",", ":")))
                n += 1
                if path == "/new_block":
                    events += payload.count('"event_index"')
                out.write(f"{n}\t{ts}\t{path}\t{payload}\n")
            if k and last:
                prev_tip = last
    return {"file": str(dst), "requests": n, "events": events, "copies": copies}


async def record(args) -> dict:
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)

    def log(line: str) -> None:
        if args.verbose:
            print(line, file=sys.stderr, flush=True)

    rec = await TsvRecorder(out).start()
    data = Path(tempfile.mkdtemp(prefix="record-devnet-"))
    data.chmod(0o755)  # the embedded server's unprivileged user must traverse it
    proc = await asyncio.to_thread(start_devnet, data, observers=[rec.url], blocking=True, max_chaining=100_000,
                                   max_block_txs=args.block_txs)
    # the keeper publishes prices and settles (the simulator does neither); its ledger needs a database
    pg = EmbeddedPostgres(data / "pg", durable=False)
    db = pg.start()
    migrate(db)
    t0 = time.perf_counter()
    try:
        async with StacksClient(proc.rpc_url, retries=3, timeout=300) as client:
            sim = Simulator(client, seed=args.seed, mine=True, extra_buyers=4, activity=2.0, log=log)
            await sim.setup()
            async with keeper_for(sim, db) as keeper:
                await simulate(sim, args.sim_blocks, keeper)
            sim_events = rec.events
            await storm(client, rec, args, log)
    finally:
        proc.stop()
        await rec.stop()
        pg.stop()
        shutil.rmtree(data, ignore_errors=True)
    summary = {"file": str(out), "requests": rec.n, "blocks": rec.blocks, "txs": rec.txs, "events": rec.events,
               "simulator_events": sim_events, "seconds": round(time.perf_counter() - t0, 1),
               "mb": round(out.stat().st_size / 1e6, 1)}
    if args.scale_to and rec.events < args.scale_to:
        copies = -(-args.scale_to // max(1, rec.events))
        summary["scaled"] = scale(out, out.with_name(f"{out.stem}-x{copies}.tsv"), copies)
    return summary


DEFAULT_OUT = REPO / ".bithedge" / "bench" / "devnet.tsv"


def recording_for(min_events: int, out: Path = DEFAULT_OUT) -> Path:
    """A devnet TSV with at least ``min_events`` events: the recording, or its scaled copy; recorded
    (with the defaults above, scaled when the storm's time ran out) when there is none yet."""
    summary = out.with_suffix(".json")
    if not summary.exists():
        import subprocess

        res = subprocess.run([sys.executable, __file__, "--out", str(out), "--events", str(min_events),
                              "--scale-to", str(min_events)], check=True, capture_output=True, text=True)
        summary.write_text(res.stdout.strip().splitlines()[-1])
    info = json.loads(summary.read_text())
    return Path(info["scaled"]["file"] if "scaled" in info else info["file"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    ap.add_argument("--events", type=int, default=1_000_000, help="stop the storm once this many were delivered")
    ap.add_argument("--sim-blocks", type=int, default=40)
    ap.add_argument("--senders", type=int, default=200)
    ap.add_argument("--block-txs", type=int, default=500)
    ap.add_argument("--deposit-share", type=float, default=0.7, help="share of vault deposits vs STX transfers")
    ap.add_argument("--max-seconds", type=float, default=600)
    ap.add_argument("--scale-to", type=int, default=0, help="write a scaled copy with at least this many events")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    summary = json.dumps(asyncio.run(record(args)))
    Path(args.out).with_suffix(".json").write_text(summary + "\n")  # what recording_for() reads
    print(summary)


if __name__ == "__main__":
    main()
