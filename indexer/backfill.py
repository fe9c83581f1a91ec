"""Pull paths: backfill from a Hiro-style API, and the gap reconciler that uses it while serving.

A block fetched from the API is turned back into a ``/new_block`` payload (the API's
``tx_result.hex``, ``contract_log.value.hex`` and NFT ``value.hex`` are the same SIP-005 bytes as the
observer's ``raw_result``/``raw_value``; ``raw_tx`` comes from ``/extended/v1/tx/{txid}/raw``) and goes
through the same write path as a live delivery, stored in ``raw.observer_requests`` with
``source = 'backfill'`` so ``rebuild`` reproduces it.

Paging: blocks by height, transactions 50 per page, events 100 per page. 429/5xx and connection errors
are retried with exponential backoff (honouring ``Retry-After``). Backfill is resumable: a checkpoint
``backfill`` holds the last height committed.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys

import aiohttp
from tqdm import tqdm

from bithedge import logs
from indexer.ingest import Request, Writer, now

log = logs.get("indexer.backfill")


class ApiError(RuntimeError):
    def __init__(self, status: int, url: str, text: str = "") -> None:
        super().__init__(f"{status} from {url}: {text[:200]}")
        self.status = status


class HiroClient:
    def __init__(self, base_url: str, session: aiohttp.ClientSession, *, retries: int = 8,
                 backoff_s: float = 0.25, max_backoff_s: float = 30.0, api_key: str | None = None) -> None:
        self.base = base_url.rstrip("/")
        self.session = session
        self.retries, self.backoff_s, self.max_backoff_s = retries, backoff_s, max_backoff_s
        self.headers = {"x-api-key": api_key} if api_key else {}
        self._api_key = api_key

    async def get(self, path: str, **params) -> dict:
        url = self.base + path
        delay = self.backoff_s
        for attempt in range(self.retries + 1):
            try:
                async with self.session.get(url, params=params or None, headers=self.headers) as resp:
                    if resp.status == 200:
                        return await resp.json(content_type=None)
                    text = await resp.text()
                    if self._api_key:  # an API that echoes the key back must not put it into our errors
                        text = text.replace(self._api_key, "(api key)")
                    if resp.status != 429 and resp.status < 500:
                        raise ApiError(resp.status, url, text)
                    retry_after = resp.headers.get("retry-after")
                    wait = float(retry_after) if retry_after and retry_after.replace(".", "", 1).isdigit() else delay
                    err: Exception = ApiError(resp.status, url, text)
            except (TimeoutError, aiohttp.ClientConnectionError) as exc:
                err, wait = exc, delay
            if attempt == self.retries:
                raise err
            log.debug("api_retry", url=url, attempt=attempt + 1, wait_s=round(wait, 2), error=str(err))
            await asyncio.sleep(min(wait, self.max_backoff_s) * (1 + random.random() * 0.1))
            delay = min(delay * 2, self.max_backoff_s)
        raise AssertionError("unreachable")

    async def tip_height(self) -> int:
        b = await self.get("/extended/v2/blocks/latest")
        return int(b["height"])

    async def block_payload(self, height_or_hash: int | str) -> dict:
        """A ``/new_block``-shaped payload of one canonical block."""
        b = await self.get(f"/extended/v2/blocks/{height_or_hash}")
        txs: list[dict] = []
        offset = 0
        while True:
            page = await self.get(f"/extended/v2/blocks/{b['height']}/transactions", limit=50, offset=offset)
            txs.extend(page["results"])
            offset += len(page["results"])
            if not page["results"] or offset >= page.get("total", offset):
                break
        out_txs, events = [], []
        for i, t in enumerate(sorted(txs, key=lambda t: t.get("tx_index", 0))):
            txid = t["tx_id"]
            raw = await self._raw_tx(txid, t)
            out_txs.append({
                "txid": txid, "tx_index": t.get("tx_index", i), "status": t.get("tx_status"),
                "raw_result": (t.get("tx_result") or {}).get("hex"), "raw_tx": raw,
                "contract_interface": None, "burnchain_op": None, "vm_error": t.get("vm_error"),
                "execution_cost": {k: t.get(f"execution_cost_{k}") for k in
                                   ("read_count", "read_length", "runtime", "write_count", "write_length")},
                "microblock_sequence": None, "microblock_hash": None, "microblock_parent_hash": None,
            })
            if t.get("event_count", 0) or t.get("events"):
                events.extend(await self._events(txid, t.get("event_count", 0)))
        return {
            "block_hash": b["hash"], "block_height": b["height"], "index_block_hash": b["index_block_hash"],
            "parent_block_hash": b.get("parent_block_hash"), "parent_index_block_hash": b["parent_index_block_hash"],
            "burn_block_hash": b.get("burn_block_hash"), "burn_block_height": b.get("burn_block_height"),
            "burn_block_time": b.get("burn_block_time"), "miner_txid": b.get("miner_txid"),
            "block_time": b.get("block_time"), "tenure_height": b.get("tenure_height"),
            "matured_miner_rewards": [], "transactions": out_txs, "events": events,
        }

    async def burn_block_payload(self, height: int) -> dict:
        """A ``/new_burn_block``-shaped payload of the canonical burn block at ``height``. The API has no
        consensus hash, parent hash, burn amount or reward recipients: those columns stay NULL."""
        b = await self.get(f"/extended/v2/burn-blocks/{height}")
        return {"burn_block_hash": b["burn_block_hash"], "burn_block_height": b["burn_block_height"]}

    async def _raw_tx(self, txid: str, tx: dict) -> str:
        if tx.get("raw_tx"):
            return tx["raw_tx"]
        r = await self.get(f"/extended/v1/tx/{txid}/raw")
        return r["raw_tx"]

    async def _events(self, txid: str, count: int) -> list[dict]:
        out, offset = [], 0
        while True:
            t = await self.get(f"/extended/v1/tx/{txid}", event_limit=100, event_offset=offset)
            page = t.get("events") or []
            out.extend(_observer_event(txid, e) for e in page)
            offset += len(page)
            if not page or offset >= max(count, t.get("event_count", 0)):
                return out


_ASSET = {"stx_asset": "stx", "fungible_token_asset": "ft", "non_fungible_token_asset": "nft"}


def _observer_event(txid: str, e: dict) -> dict:
    """Hiro API event → observer event (stacks-formats.md §3.2 ↔ §1.6)."""
    et = e.get("event_type")
    base = {"txid": txid, "event_index": e["event_index"], "committed": True}
    if et == "smart_contract_log":
        log_ = e["contract_log"]
        return {**base, "type": "contract_event", "contract_event": {
            "contract_identifier": log_["contract_id"], "topic": log_["topic"], "raw_value": log_["value"]["hex"]}}
    if et == "stx_lock":
        s = e["stx_lock_event"]
        return {**base, "type": "stx_lock_event", "stx_lock_event": {
            "locked_amount": str(s["locked_amount"]), "unlock_height": str(s["unlock_height"]),
            "locked_address": s["locked_address"], "contract_identifier": s.get("contract_name")}}
    if et in _ASSET:
        a = e["asset"]
        kind = f"{_ASSET[et]}_{a['asset_event_type']}_event"
        body = {k: a[k] for k in ("sender", "recipient") if a.get(k)}
        if et != "stx_asset":
            body["asset_identifier"] = a["asset_id"]
        if et == "non_fungible_token_asset":
            body["raw_value"] = a["value"]["hex"]
        else:
            body["amount"] = str(a["amount"])
        if a.get("memo") is not None:
            body["memo"] = a["memo"].removeprefix("0x")
        return {**base, "type": kind, kind: body}
    return {**base, "type": str(et), str(et): e}


async def backfill(writer: Writer, api_url: str, *, start: int | None = None, end: int | None = None,
                   progress: bool = True, concurrency: int = 4, api_key: str | None = None) -> dict:
    """Fetch heights start..end (inclusive) and write them in order. Resumes after the last committed height."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        client = HiroClient(api_url, session, api_key=api_key)
        if end is None:
            end = await client.tip_height()
        cp = await writer.conn.fetchval("SELECT position FROM raw.checkpoints WHERE name = 'backfill'")
        if start is None:
            start = 0 if cp is None else cp + 1
        elif cp is not None and start <= cp < end:
            start = cp + 1
        stats = {"from": start, "to": end, "blocks": 0, "events": 0, "duplicates": 0}
        bar = tqdm(total=max(0, end - start + 1), desc="backfill", unit="block", disable=not progress,
                   file=sys.stderr)
        sem = asyncio.Semaphore(concurrency)

        async def fetch(h: int) -> dict:
            async with sem:
                return await client.block_payload(h)

        async def fetch_burn(h: int) -> dict:
            async with sem:
                return await client.burn_block_payload(h)

        # Like a node, deliver each burn block before the first Stacks block anchored to it (and every burn
        # height in between), in the same transaction as that block.
        # Only burn blocks above the burn tip are delivered: a burn block at or below it is, to the write path,
        # a Bitcoin reorg that orphans everything above it (backfilling old heights into a live database
        # must not do that).
        height = start
        while height <= end:
            window = list(range(height, min(end, height + concurrency * 4 - 1) + 1))
            payloads = await asyncio.gather(*(fetch(h) for h in window))
            last = writer.tip.burn_block_height
            wanted: dict[int, None] = {}
            for p in payloads:
                bh = p.get("burn_block_height")
                if isinstance(bh, int) and bh >= 0 and (last is None or bh > last):
                    wanted.update(dict.fromkeys(range(bh if last is None else last + 1, bh + 1)))
                    last = bh
            burns = dict(zip(wanted, await asyncio.gather(*(fetch_burn(b) for b in wanted)), strict=True))
            for h, p in zip(window, payloads, strict=True):
                batch = []
                bh = p.get("burn_block_height")
                if isinstance(bh, int):
                    batch.extend(Request("/new_burn_block", json.dumps(burns.pop(b)), now(), source="backfill")
                                 for b in sorted(k for k in burns if k <= bh))
                batch.append(Request("/new_block", json.dumps(p), now(), source="backfill", source_id=None))
                res = await writer.write(batch, checkpoint=("backfill", h, {"api": api_url}))
                stats["blocks"] += res.blocks
                stats["events"] += res.events
                stats["duplicates"] += res.duplicates
                bar.update(1)
            height = window[-1] + 1
        bar.close()
        return stats


class GapReconciler:
    """While serving: fetch missing parents of canonical blocks, and heights the node has that we lack
    (when no delivery arrived for a while), from the API, through the server's write lock."""

    def __init__(self, server, max_per_round: int = 500) -> None:
        self.server = server
        self.max_per_round = max_per_round
        self.failed: dict[str, int] = {}  # hash/height -> attempts, to back off on ones the API lacks

    async def run_once(self) -> int:
        srv = self.server
        cfg = srv.config
        api = cfg.api_url or cfg.node_url
        client = HiroClient(api, srv._http, retries=2, api_key=cfg.api_key)
        filled = 0
        async with srv.lock:
            missing = await srv.writer.conn.fetch(
                "SELECT b.parent_index_block_hash FROM raw.blocks b WHERE b.canonical"
                " AND b.block_height > (SELECT min(block_height) FROM raw.blocks)"
                " AND NOT EXISTS (SELECT 1 FROM raw.blocks p WHERE p.index_block_hash = b.parent_index_block_hash)"
                " ORDER BY b.block_height DESC LIMIT 50")
        targets: list[int | str] = ["0x" + bytes(r[0]).hex() for r in missing]
        node_tip, _ = await srv.node_tip()
        ours = srv.writer.tip.block_height
        import time

        idle = time.monotonic() - srv.last_delivery > cfg.gap_check_s
        if node_tip is not None and idle and (ours is None or node_tip > ours):
            targets.extend(range((ours or -1) + 1, min(node_tip, (ours or -1) + 200) + 1))
        queue = list(targets)
        while queue and filled < self.max_per_round:
            t = queue.pop(0)
            key = str(t)
            if self.failed.get(key, 0) >= 3:
                continue
            try:
                payload = await client.block_payload(t)
            except Exception as exc:
                self.failed[key] = self.failed.get(key, 0) + 1
                log.info("gap_fetch_failed", target=key, error=str(exc))
                continue
            req = Request("/new_block", json.dumps(payload), now(), source="backfill")
            status, _ = await srv.ingest(req)
            if status == 200 and req.outcome == "block":
                filled += 1
                srv.metrics.gap_fills.inc()
                log.info("gap_filled", target=key, height=payload["block_height"])
                # a hole of several blocks: walk down its parent links in this round, not one per round
                parent = str(payload.get("parent_index_block_hash") or "")
                if isinstance(t, str) and parent:
                    async with srv.lock:  # the writer's connection serves one statement at a time
                        known = await srv.writer.knows(_unhex(parent))
                    if not known:
                        queue.insert(0, parent)
        return filled


def _unhex(h: str) -> bytes:
    try:
        return bytes.fromhex(h.removeprefix("0x"))
    except ValueError:
        return b""
