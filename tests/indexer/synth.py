"""Synthetic stacks-node payloads for fork and crash tests (valid hashes, real Clarity bytes, burnchain-op txs)."""

from __future__ import annotations

import hashlib
import json


def h32(*parts: object) -> str:
    return "0x" + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def clarity_print(n: int, tag: str) -> str:
    """(tuple (event "x") (n uN)) serialized."""
    name = tag.encode()
    out = bytearray(b"\x0c\x00\x00\x00\x02")
    out += b"\x05event" + b"\x0d" + len(name).to_bytes(4, "big") + name
    out += b"\x01n" + b"\x01" + n.to_bytes(16, "big")
    return "0x" + out.hex()


def block(height: int, parent: str, branch: str = "a", events: int = 3, nakamoto: bool = False,
          burn_height: int | None = None) -> dict:
    ibh = h32("block", branch, height, parent)
    txid = h32("tx", ibh)
    evs = []
    for i in range(events):
        if i % 2 == 0:
            evs.append({"txid": txid, "event_index": i, "committed": True, "type": "contract_event",
                        "contract_event": {"contract_identifier": "ST000000000000000000002AMW42H.bithedge",
                                           "topic": "print", "raw_value": clarity_print(height * 1000 + i, branch)}})
        else:
            evs.append({"txid": txid, "event_index": i, "committed": True, "type": "stx_transfer_event",
                        "stx_transfer_event": {"sender": "ST000000000000000000002AMW42H",
                                               "recipient": "ST2X2FYCY01Y7YR2TGC2Y6661NFF3SMH0NGXPWTV5",
                                               "amount": str(1000 + i), "memo": ""}})
    evs.reverse()  # the node's array is unordered
    p = {
        "block_hash": h32("bh", ibh), "block_height": height, "index_block_hash": ibh,
        "parent_block_hash": h32("bh", parent), "parent_index_block_hash": parent,
        "parent_microblock": "0x" + "00" * 32, "parent_microblock_sequence": 0,
        "burn_block_hash": h32("burn", burn_height if burn_height is not None else height),
        "burn_block_height": burn_height if burn_height is not None else 100 + height,
        "burn_block_time": 1_700_000_000 + height, "miner_txid": h32("miner", ibh),
        "matured_miner_rewards": [], "events": evs,
        "transactions": [{"txid": txid, "tx_index": 0, "status": "success", "raw_result": "0x0703",
                          "raw_tx": "0x00", "contract_abi": None, "burnchain_op": None,
                          "execution_cost": {"read_count": 0, "read_length": 0, "runtime": 0,
                                             "write_count": 0, "write_length": 0},
                          "microblock_sequence": None, "microblock_hash": None, "microblock_parent_hash": None}],
    }
    if nakamoto:
        p.update(block_time=1_700_000_000 + height, tenure_height=height, signer_signature=["00" * 65],
                 signer_signature_hash=p["block_hash"], signer_bitvec="000100000001ff")
    return p


GENESIS_PARENT = "0x" + "00" * 32


def chain(length: int, branch: str = "a", start_parent: str = GENESIS_PARENT, start_height: int = 0,
          **kw) -> list[dict]:
    out, parent = [], start_parent
    for h in range(start_height, start_height + length):
        b = block(h, parent, branch, **kw)
        out.append(b)
        parent = b["index_block_hash"]
    return out


def fork(main: list[dict], depth: int, branch: str = "b", extra: int = 1, **kw) -> list[dict]:
    """A competing branch replacing the last `depth` blocks of `main`, `extra` blocks longer."""
    base = main[-depth - 1]
    return chain(depth + extra, branch, base["index_block_hash"], base["block_height"] + 1, **kw)


def dumps(p: object) -> bytes:
    return json.dumps(p).encode()
