"""Our observer payloads have the fields and JSON types of recorded stacks-node payloads
(../shared/fixtures/stacks/event-observer/, Nakamoto-era recording as the reference)."""

from __future__ import annotations

import json

import pytest

from stacks.rpc import StacksClient
from tests.conftest import FIXTURES
from tests.support.devnet import DEPLOYER, Signer, new_key

OBS = FIXTURES / "event-observer"
NAKAMOTO = OBS / "stacks-blockchain-api" / "fuzzed-transactions-1.tsv"
pytestmark = pytest.mark.skipif(
    not FIXTURES.exists(),
    reason=f"recorded payloads not found at {FIXTURES} (CI always has ../shared beside the checkout)",
)
# legacy or per-observer optional fields a current node no longer sends / sends only sometimes
LEGACY = {"value"}


def _rows(path):
    for line in path.read_text().splitlines():
        parts = line.split("\t", 3)
        if len(parts) == 4:
            yield parts[2], json.loads(parts[3])


def _jtype(v):
    return {dict: "object", list: "array", str: "string", bool: "bool", int: "int", float: "float",
            type(None): "null"}[type(v)]


def _required(objs):
    """keys present in every object -> set of non-null JSON types seen"""
    objs = list(objs)
    keys = set.intersection(*(set(o) for o in objs)) if objs else set()
    out = {}
    for k in keys - LEGACY:
        out[k] = {_jtype(o[k]) for o in objs} - {"null"}
    return out


def _check(ref: dict, ours: list[dict], what: str):
    assert ours, f"no {what} payloads to compare"
    for o in ours:
        missing = set(ref) - set(o)
        assert not missing, f"{what}: missing fields {sorted(missing)}"
        for k, types in ref.items():
            if o[k] is None or not types:
                continue
            assert _jtype(o[k]) in types, f"{what}.{k}: {_jtype(o[k])} not in {types}"


@pytest.fixture(scope="module")
async def traffic(devnet, observer):
    """Make blocks with contract events, STX transfers, mempool and drop notifications."""
    async with StacksClient(devnet.rpc_url) as client:
        await _traffic(client)
    return observer


async def _traffic(client):
    s = Signer(new_key())
    await client.faucet(s.address, 10_000_000)
    await client.mine()
    first = s.transfer(DEPLOYER, 5, fee=2000)
    await client.broadcast(first)
    await client.broadcast(s.transfer(DEPLOYER, 6, fee=4000, nonce=first.auth.origin.nonce))  # replace-by-fee
    await client.mine()


def test_new_block_fields_and_types(traffic):
    ref_blocks = [b for p, b in _rows(NAKAMOTO) if p == "/new_block" and "signer_signature" in b]
    _check(_required(ref_blocks), traffic.blocks(), "/new_block")


def test_transaction_fields_and_types(traffic):
    ref = [t for p, b in _rows(NAKAMOTO) if p == "/new_block" for t in b["transactions"]]
    ours = [t for b in traffic.blocks() for t in b["transactions"]]
    _check(_required(ref), ours, "transactions[]")
    assert {t["status"] for t in ours} <= {"success", "abort_by_response", "abort_by_post_condition"}
    for t in ours:
        assert t["raw_tx"].startswith("0x") and t["raw_result"].startswith("0x") and t["txid"].startswith("0x")


def test_event_fields_and_types(traffic):
    ref_events: dict[str, list] = {}
    for f in sorted(OBS.rglob("*.tsv")):
        for p, b in _rows(f):
            if p == "/new_block":
                for e in b.get("events", []):
                    if e.get("committed", True):
                        ref_events.setdefault(e["type"], []).append(e)
    ours: dict[str, list] = {}
    for b in traffic.blocks():
        idx = [e["event_index"] for e in b["events"]]
        assert sorted(idx) == list(range(len(idx)))  # block-wide event_index
        for e in b["events"]:
            ours.setdefault(e["type"], []).append(e)
    assert {"contract_event", "stx_transfer_event"} <= set(ours)
    for t, evs in ours.items():
        assert t in ref_events, f"event type {t} not in recorded payloads"
        _check(_required(ref_events[t]), evs, f"event {t}")
        ref_body = _required([e[t] for e in ref_events[t]])
        _check(ref_body, [e[t] for e in evs], f"event {t} body")
        if t == "contract_event":
            assert all(e[t]["raw_value"].startswith("0x") for e in evs)
        if t == "stx_transfer_event":
            assert all(not e[t]["memo"].startswith("0x") for e in evs)


def test_burn_block_and_mempool_payloads(traffic):
    rows = list(_rows(NAKAMOTO))
    _check(_required([b for p, b in rows if p == "/new_burn_block"]), traffic.paths("/new_burn_block"), "/new_burn_block")
    _check(_required([b for p, b in rows if p == "/drop_mempool_tx"]), traffic.paths("/drop_mempool_tx"), "/drop_mempool_tx")
    ours = traffic.paths("/new_mempool_tx")
    assert ours and all(isinstance(x, list) and all(isinstance(h, str) and h.startswith("0x") for h in x) for x in ours)
    # each /new_burn_block arrives before the first /new_block that refers to it
    seen = set()
    for p, b in traffic.requests:
        if p == "/new_burn_block":
            seen.add(b["burn_block_hash"])
        elif p == "/new_block":
            assert b["burn_block_hash"] in seen
