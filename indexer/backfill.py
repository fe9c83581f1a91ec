"""Backfill from a Hiro-style API, through the one write path (the gap reconciler, :mod:`indexer.gaps`, uses the
same conversion while serving).

A block fetched from the API is turned back into a ``/new_block`` payload (the API's
``tx_result.hex``, ``contract_log.value.hex`` and NFT ``value.hex`` are the same SIP-005 bytes as the
observer's ``raw_result``/``raw_value``; ``raw_tx`` comes from ``/extended/v1/tx/{txid}/raw``) and goes
through the same write path as a live delivery, stored in ``raw.observer_requests`` with
``source = 'backfill'`` so ``rebuild`` reproduces it.

Requests go through :class:`stacks.rpc.StacksClient` (paging: transactions 50 per page, events 100 per page;
retries with backoff honouring ``Retry-After``). Backfill is resumable: a checkpoint ``backfill`` holds the
last height committed.
"""

from __future__ import annotations

import asyncio
import json
import sys

from tqdm import tqdm

from bithedge import logs
from indexer.ingest import Writer
from indexer.prepare import Request, now
from stacks.rpc import NotFound, StacksClient

log = logs.get("indexer.backfill")



def client(api_url: str, api_key: str | None = None) -> StacksClient:
    """The client backfill uses: it runs unattended for hours, so it waits out an API's rate limit longer than
    the live paths do."""
    return StacksClient(api_url, timeout=60.0, retries=8, backoff=0.25, max_backoff=30.0, api_key=api_key)


async def block_payload(client: StacksClient, height_or_hash: int | str) -> dict:
    """A ``/new_block``-shaped payload of one canonical block."""
    b = await client.block(height_or_hash)
    if b is None:
        raise NotFound(404, f"/extended/v2/blocks/{height_or_hash}", "no such canonical block")
    txs = [t async for t in client.iter_block_transactions(b["height"])]
    out_txs, events = [], []
    for i, t in enumerate(sorted(txs, key=lambda t: t.get("tx_index", 0))):
        txid = t["tx_id"]
        out_txs.append({
            "txid": txid, "tx_index": t.get("tx_index", i), "status": t.get("tx_status"),
            "raw_result": (t.get("tx_result") or {}).get("hex"),
            "raw_tx": t.get("raw_tx") or await client.raw_transaction(txid),
            "contract_interface": None, "burnchain_op": None, "vm_error": t.get("vm_error"),
            "execution_cost": {k: t.get(f"execution_cost_{k}") for k in
                               ("read_count", "read_length", "runtime", "write_count", "write_length")},
            "microblock_sequence": None, "microblock_hash": None, "microblock_parent_hash": None,
        })
        if t.get("event_count", 0) or t.get("events"):
            full = await client.transaction_with_all_events(txid)
            if full is None:
                raise NotFound(404, f"/extended/v1/tx/{txid}", "transaction of a canonical block not found")
            events.extend(_observer_event(txid, e) for e in full.get("events") or [])
    return {
        "block_hash": b["hash"], "block_height": b["height"], "index_block_hash": b["index_block_hash"],
        "parent_block_hash": b.get("parent_block_hash"), "parent_index_block_hash": b["parent_index_block_hash"],
        "burn_block_hash": b.get("burn_block_hash"), "burn_block_height": b.get("burn_block_height"),
        "burn_block_time": b.get("burn_block_time"), "miner_txid": b.get("miner_txid"),
        "block_time": b.get("block_time"), "tenure_height": b.get("tenure_height"),
        "matured_miner_rewards": [], "transactions": out_txs, "events": events,
    }


async def burn_block_payload(client: StacksClient, height: int) -> dict:
    """A ``/new_burn_block``-shaped payload of the canonical burn block at ``height``. The API has no
    consensus hash, parent hash, burn amount or reward recipients: those columns stay NULL."""
    b = await client.burn_block(height)
    return {"burn_block_hash": b["burn_block_hash"], "burn_block_height": b["burn_block_height"]}


_ASSET = {"stx_asset": "stx", "fungible_token_asset": "ft", "non_fungible_token_asset": "nft"}


def _observer_event(txid: str, e: dict) -> dict:
    """Hiro API event (``/extended/v1/tx/{txid}`` ``events[]``) → observer event (``/new_block`` ``events[]``)."""
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


async def backfill(writer: Writer, client: StacksClient, *, start: int | None = None, end: int | None = None,
                   progress: bool = True, concurrency: int = 4) -> dict:
    """Fetch heights start..end (inclusive) and write them in order. Resumes after the last committed height."""
    api_url = client.api_url
    if end is None:
        end = int((await client.block("latest"))["height"])
    checkpoint = await writer.checkpoint("backfill")
    cp = None if checkpoint is None else checkpoint[0]
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
            return await block_payload(client, h)

    async def fetch_burn(h: int) -> dict:
        async with sem:
            return await burn_block_payload(client, h)

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
