"""Validate stacks-node observer payloads and turn them into row tuples for the raw tables.

Pure Python, no database. Anything structurally wrong raises :class:`PayloadError` (the request
goes to ``raw.dead_letters``); wire bytes our decoder cannot read keep their row, with the bytes
and a ``decode_error``. Rows are the named tuples of :mod:`indexer.rows`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from indexer.decode import DecodeFailure, TxInfo, clarity_json, json_text, transaction_info, txid_of
from indexer.rows import BlockRow, BurnBlockRow, TxRow

_TXID, _TX_INDEX = TxRow._fields.index("txid"), TxRow._fields.index("tx_index")


class PayloadError(ValueError):
    """A payload that can never be processed; ``reason`` is a short class for the dead-letter table."""

    def __init__(self, message: str, reason: str = "invalid_payload") -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(slots=True)
class ParsedBlock:
    row: BlockRow
    txs: list[tuple] = field(default_factory=list)  # TxRow fields (plain tuples on the hot path)
    events: list[tuple] = field(default_factory=list)  # EventRow fields

    @property
    def index_block_hash(self) -> bytes:
        return self.row.index_block_hash

    @property
    def block_height(self) -> int:
        return self.row.block_height

    @property
    def parent_index_block_hash(self) -> bytes:
        return self.row.parent_index_block_hash

    @property
    def nakamoto(self) -> bool:
        return self.row.nakamoto


@dataclass(slots=True)
class ParsedBurnBlock:
    row: BurnBlockRow


@dataclass(slots=True)
class ParsedMempool:
    txs: list[tuple[bytes, bytes]]  # (txid, raw_tx)


@dataclass(slots=True)
class ParsedDrop:
    txids: list[bytes]
    reason: str | None
    new_txid: bytes | None


Parsed = ParsedBlock | ParsedBurnBlock | ParsedMempool | ParsedDrop


# --- field helpers ----------------------------------------------------------------------------


def _hex(value: Any, name: str, length: int | None = None, optional: bool = False) -> bytes | None:
    if value is None:
        if optional:
            return None
        raise PayloadError(f"{name}: missing")
    if not isinstance(value, str):
        raise PayloadError(f"{name}: expected a hex string, got {type(value).__name__}")
    text = value[2:] if value[:2] in ("0x", "0X") else value
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise PayloadError(f"{name}: not valid hex ({len(text)} hex digits: {value[:24]!r}…)") from None
    if length is not None and len(raw) != length:
        raise PayloadError(f"{name}: expected {length} bytes, got {len(raw)}")
    return raw


def _int(value: Any, name: str, optional: bool = False) -> int | None:
    if value is None:
        if optional:
            return None
        raise PayloadError(f"{name}: missing")
    if type(value) is int:
        return value
    raise PayloadError(f"{name}: expected an integer, got {type(value).__name__} {str(value)[:40]!r}")


def _amount(value: Any, name: str, optional: bool = True) -> int | None:
    """u128 amounts: decimal strings (also accept JSON ints)."""
    if value is None:
        if optional:
            return None
        raise PayloadError(f"{name}: missing")
    if type(value) is int and value >= 0:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 39:
        return int(value)
    raise PayloadError(f"{name}: expected a decimal amount, got {str(value)[:40]!r}")


def _str(value: Any, name: str, optional: bool = True) -> str | None:
    if value is None:
        if optional:
            return None
        raise PayloadError(f"{name}: missing")
    if not isinstance(value, str):
        raise PayloadError(f"{name}: expected a string, got {type(value).__name__}")
    return value.replace("\x00", "\ufffd") if "\x00" in value else value


def _json(value: Any) -> str | None:
    return None if value is None else json_text(value)


def _absent(value: Any) -> Any:
    """Microblock fields: null and the legacy string "None" both mean absent."""
    return None if value is None or value == "None" else value


def _obj(value: Any, name: str) -> dict:
    if not isinstance(value, dict):
        raise PayloadError(f"{name}: expected an object, got {type(value).__name__}")
    return value


def _list(value: Any, name: str, optional: bool = True) -> list:
    if value is None and optional:
        return []
    if not isinstance(value, list):
        raise PayloadError(f"{name}: expected an array, got {type(value).__name__}")
    return value


# --- /new_block ----------------------------------------------------------------------------------


def parse_block(p: Any) -> ParsedBlock:
    p = _obj(p, "/new_block body")
    ibh = _hex(p.get("index_block_hash"), "index_block_hash", 32)
    height = _int(p.get("block_height"), "block_height")
    if height < 0:
        raise PayloadError("block_height: negative")
    parent = _hex(p.get("parent_index_block_hash"), "parent_index_block_hash", 32)
    if parent == ibh:
        raise PayloadError("parent_index_block_hash equals index_block_hash (a block cannot be its own parent)")
    block_hash = _hex(p.get("block_hash"), "block_hash", 32)
    nakamoto = p.get("signer_signature") is not None or p.get("signer_signature_hash") is not None
    burn_hash = _hex(p.get("burn_block_hash"), "burn_block_hash", 32, optional=True)
    burn_height = _int(p.get("burn_block_height"), "burn_block_height", optional=True)
    burn_time = _int(p.get("burn_block_time"), "burn_block_time", optional=True)
    block_time = _int(p.get("block_time"), "block_time", optional=True)
    tenure_height = _int(p.get("tenure_height"), "tenure_height", optional=True)
    raw_txs = _list(p.get("transactions"), "transactions")
    raw_events = _list(p.get("events"), "events")
    signer_signature = p.get("signer_signature")
    if signer_signature is not None:
        _list(signer_signature, "signer_signature")

    txs: list[tuple] = []
    tx_index_of: dict[bytes, int] = {}
    for i, t in enumerate(raw_txs):
        row = _parse_tx(_obj(t, f"transactions[{i}]"), i, ibh, height)
        tx_index_of[row[_TXID]] = row[_TX_INDEX]
        txs.append(row)

    events = _parse_events(raw_events, ibh, height, tx_index_of)

    row = BlockRow(
        index_block_hash=ibh, block_hash=block_hash, block_height=height, parent_index_block_hash=parent,
        parent_block_hash=_hex(p.get("parent_block_hash"), "parent_block_hash", 32, optional=True),
        parent_microblock_hash=_hex(_absent(p.get("parent_microblock")), "parent_microblock", 32, optional=True),
        parent_microblock_sequence=_int(_absent(p.get("parent_microblock_sequence")), "parent_microblock_sequence",
                                        optional=True),
        burn_block_height=burn_height, burn_block_hash=burn_hash, burn_block_time=burn_time,
        parent_burn_block_hash=_hex(p.get("parent_burn_block_hash"), "parent_burn_block_hash", 32, optional=True),
        parent_burn_block_height=_int(p.get("parent_burn_block_height"), "parent_burn_block_height", optional=True),
        parent_burn_block_time=_int(p.get("parent_burn_block_timestamp"), "parent_burn_block_timestamp",
                                    optional=True),
        miner_txid=_hex(p.get("miner_txid"), "miner_txid", 32, optional=True),
        consensus_hash=_hex(p.get("consensus_hash"), "consensus_hash", 20, optional=True),
        block_time=block_time,
        tenure_height=tenure_height if tenure_height is not None else height,
        nakamoto=nakamoto,
        signer_signature_hash=_hex(p.get("signer_signature_hash"), "signer_signature_hash", 32, optional=True),
        signer_bitvec=_str(p.get("signer_bitvec"), "signer_bitvec"),
        signer_signature=_json(signer_signature),
        miner_signature=_hex(p.get("miner_signature"), "miner_signature", optional=True),
        cycle_number=_int(p.get("cycle_number"), "cycle_number", optional=True),
        reward_set=_json(p.get("reward_set")),
        matured_miner_rewards=_json(p.get("matured_miner_rewards")),
        anchored_cost=_json(p.get("anchored_cost")),
        confirmed_microblocks_cost=_json(p.get("confirmed_microblocks_cost")),
        tx_count=len(txs),
        event_count=len(events),
    )
    return ParsedBlock(row, txs, events)


def _hex_fast(value: Any) -> bytes | None:
    """Hex with its "0x" prefix, without building an error message; None (also for empty bytes) sends the caller to
    :func:`_hex`, which accepts the rarer spellings or says what is wrong."""
    if type(value) is str and value[:2] == "0x":
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            return None
    return None


def _parse_tx(t: dict, i: int, ibh: bytes, height: int) -> tuple:
    # Field names for error messages are built only when a check fails: this runs once per transaction.
    get = t.get
    txid = _hex_fast(get("txid"))
    if txid is None or len(txid) != 32:
        txid = _hex(get("txid"), f"transactions[{i}].txid", 32)
    tx_index = get("tx_index")
    if type(tx_index) is not int:
        tx_index = _int(tx_index, f"transactions[{i}].tx_index", optional=True)
        if tx_index is None:
            tx_index = i
    status = get("status")
    if type(status) is not str or "\x00" in status:
        status = _str(status, f"transactions[{i}].status", optional=False)
    raw_tx = _hex_fast(get("raw_tx")) or _hex(get("raw_tx"), f"transactions[{i}].raw_tx")
    raw_result = get("raw_result")
    if raw_result is not None:
        raw_result = _hex(raw_result, f"transactions[{i}].raw_result")
    interface = get("contract_interface")
    if interface is None:
        interface = get("contract_abi")
    burn_op = get("burnchain_op")
    errors = []
    result = None
    if raw_result is not None:
        try:
            result = clarity_json(raw_result)
        except DecodeFailure as exc:
            errors.append(f"raw_result: {exc}")
    info = None
    tx_type = burn_op_type = sender = None
    if raw_tx == b"\x00":
        # A Bitcoin-side operation (SIP-007): txid is the Bitcoin txid; old nodes send no burnchain_op.
        tx_type = "burnchain_op"
        if isinstance(burn_op, dict) and burn_op:
            burn_op_type = next(iter(burn_op))
            body = burn_op[burn_op_type]
            if isinstance(body, dict) and isinstance(body.get("sender"), dict):
                sender = _str(body["sender"].get("address"), f"transactions[{i}].burnchain_op sender")
    else:
        if txid_of(raw_tx) != txid:
            raise PayloadError(f"transactions[{i}]: raw_tx does not hash to txid {get('txid')} "
                               "(truncated or corrupt)")
        try:
            info = transaction_info(raw_tx)
            tx_type, sender = info.tx_type, info.sender
        except DecodeFailure as exc:
            errors.append(str(exc))
    vm_error = get("vm_error")
    if vm_error is not None:
        vm_error = _str(vm_error, f"transactions[{i}].vm_error")
    mb_seq, mb_hash, mb_parent = get("microblock_sequence"), get("microblock_hash"), get("microblock_parent_hash")
    if mb_seq is not None or mb_hash is not None or mb_parent is not None:  # absent after epoch 2.x
        mb_seq = _int(_absent(mb_seq), f"transactions[{i}].microblock_sequence", optional=True)
        mb_hash = _hex(_absent(mb_hash), f"transactions[{i}].microblock_hash", 32, optional=True)
        mb_parent = _hex(_absent(mb_parent), f"transactions[{i}].microblock_parent_hash", 32, optional=True)
    if info is None:
        info = _NO_TX_INFO
    sponsor = info.sponsor
    return (  # TxRow, in its field order (a plain tuple: see _parse_events)
        ibh, txid, tx_index, height, tx_type, burn_op_type, sender,
        sponsor, None if info is _NO_TX_INFO else sponsor is not None, info.nonce, info.fee, info.sponsor_nonce,
        info.sponsor_fee, info.chain_id, info.anchor_mode, info.post_condition_mode,
        info.contract_id, info.function_name, info.function_args, info.recipient, info.amount,
        status, result, raw_result, raw_tx, vm_error,
        None if interface is None else json_text(interface),
        None if burn_op is None else json_text(burn_op),
        _json(get("execution_cost")),
        mb_seq, mb_hash, mb_parent,
        "; ".join(errors) or None,
    )


# The decoded columns of a transaction that has none (a burnchain op, or bytes the decoder cannot read).
_NO_TX_INFO = TxInfo(*(None,) * len(TxInfo.__dataclass_fields__))


def _event_index(e: Any) -> int:
    if isinstance(e, dict):
        v = e.get("event_index")
        if type(v) is int:
            return v
    raise PayloadError(f"event without an integer event_index: {str(e)[:80]!r}")


def _parse_events(raw_events: list, ibh: bytes, height: int, tx_index_of: dict[bytes, int]) -> list[tuple]:
    ordered = sorted(raw_events, key=_event_index)  # the node's array is unordered; event_index is block-wide
    out: list[tuple] = []
    append = out.append
    txids: dict[str, bytes] = {}  # every event of a transaction repeats its txid: check and convert it once
    last = None
    for e in ordered:
        idx = e["event_index"]
        if idx == last:
            raise PayloadError(f"events: duplicate event_index {idx}")
        last = idx
        t = e.get("txid")
        txid = txids.get(t) if type(t) is str else None
        if txid is None:
            txid = _hex(t, f"events[event_index={idx}].txid", 32)
            txids[t] = txid
        etype = e.get("type")
        if type(etype) is not str:
            raise PayloadError(f"events[event_index={idx}].type: expected a string")
        body = e.get(etype)
        if type(body) is not dict:
            raise PayloadError(f"events[event_index={idx}]: no {etype!r} object")
        committed = e.get("committed", True)
        if type(committed) is not bool:
            raise PayloadError(f"events[event_index={idx}].committed: expected a boolean")
        contract = topic = asset = sender = recipient = memo = value = raw_value = error = None
        amount = None
        if etype == "contract_event" or etype.startswith("nft_"):
            where = f"events[event_index={idx}]"
            raw_value = body.get("raw_value")
            if raw_value is not None:
                raw_value = _hex_fast(raw_value) or _hex(raw_value, f"{where}.raw_value")
            if raw_value is None:
                error = "no raw_value (the legacy `value` JSON is not trusted)"
            else:
                try:
                    value = clarity_json(raw_value)
                except DecodeFailure as exc:
                    error = str(exc)
            if etype == "contract_event":
                contract = body.get("contract_identifier")
                if type(contract) is not str or "\x00" in contract:
                    contract = _str(contract, f"{where}.contract_identifier", optional=False)
                topic = _str_fast(body.get("topic"), idx, "topic")
            else:
                asset = _str(body.get("asset_identifier"), f"{where}.asset_identifier", optional=False)
                sender = _str(body.get("sender"), f"{where}.sender")
                recipient = _str(body.get("recipient"), f"{where}.recipient")
        else:
            # the field names (for error messages) are only built when a check fails
            sender = _str_fast(body.get("sender"), idx, "sender")
            recipient = _str_fast(body.get("recipient"), idx, "recipient")
            if etype == "stx_lock_event":
                amount = _amount(body.get("locked_amount"), f"events[event_index={idx}].locked_amount")
                sender = _str_fast(body.get("locked_address"), idx, "locked_address")
                contract = _str_fast(body.get("contract_identifier"), idx, "contract_identifier")
            else:
                a = body.get("amount")
                amount = int(a) if type(a) is str and a.isascii() and a.isdigit() and len(a) <= 39 else _amount(
                    a, f"events[event_index={idx}].amount")
            asset = _str_fast(body.get("asset_identifier"), idx, "asset_identifier")
            memo = _str_fast(body.get("memo"), idx, "memo")
            value = json_text({k: v for k, v in body.items() if k != "value"} if "value" in body else body)
        if asset is not None and contract is None:
            contract = asset.split("::", 1)[0]
        # EventRow, in its field order, as a plain tuple: an instance of the named type would cost a Python-level
        # constructor per event and pickles about 3x slower on its way back from a decoder process.
        append((ibh, idx, txid, tx_index_of.get(txid), height, etype, contract, topic, asset, sender,
                recipient, amount, memo, value, raw_value, committed, error))
    return out


def _str_fast(value: Any, idx: int, name: str) -> str | None:
    """:func:`_str` (optional) for event fields, building the error's field name only on failure."""
    if value is None:
        return None
    if type(value) is str and "\x00" not in value:
        return value
    return _str(value, f"events[event_index={idx}].{name}")


# --- other paths --------------------------------------------------------------------------------


def parse_burn_block(p: Any) -> ParsedBurnBlock:
    p = _obj(p, "/new_burn_block body")
    h = _hex(p.get("burn_block_hash"), "burn_block_hash", 32)
    height = _int(p.get("burn_block_height"), "burn_block_height")
    return ParsedBurnBlock(BurnBlockRow(
        burn_block_hash=h, burn_block_height=height,
        parent_burn_block_hash=_hex(p.get("parent_burn_block_hash"), "parent_burn_block_hash", 32, optional=True),
        consensus_hash=_hex(p.get("consensus_hash"), "consensus_hash", 20, optional=True),
        burn_amount=_amount(p.get("burn_amount"), "burn_amount"),
        # absent (a backfilled burn block: the Hiro API does not serve them) stays NULL, not "none"
        reward_recipients=_json(_list(p.get("reward_recipients"), "reward_recipients", optional=False)
                                if p.get("reward_recipients") is not None else None),
        reward_slot_holders=_json(_list(p.get("reward_slot_holders"), "reward_slot_holders", optional=False)
                                  if p.get("reward_slot_holders") is not None else None),
        pox_transactions=_json(p.get("pox_transactions")),
    ))


def parse_mempool(p: Any) -> ParsedMempool:
    items = _list(p, "/new_mempool_tx body", optional=False)
    out = []
    for i, item in enumerate(items):
        raw = _hex(item, f"[{i}]")
        if not raw:
            raise PayloadError(f"[{i}]: empty transaction")
        out.append((txid_of(raw), raw))
    return ParsedMempool(out)


def parse_drop(p: Any) -> ParsedDrop:
    p = _obj(p, "/drop_mempool_tx body")
    txids = [_hex(t, "dropped_txids[]", 32) for t in _list(p.get("dropped_txids"), "dropped_txids")]
    return ParsedDrop(txids, _str(p.get("reason"), "reason"),
                      _hex(p.get("new_txid"), "new_txid", 32, optional=True))


try:  # msgspec (C) parses these hex-heavy bodies a little faster than the stdlib, with the same big integers
    from msgspec.json import Decoder as _Decoder

    _fast_loads = _Decoder().decode
except ImportError:  # pragma: no cover - optional speed-up
    _fast_loads = None


def _not_json_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_body(body: bytes | str) -> Any:
    """JSON from a request body; PayloadError('bad_json') otherwise.

    msgspec first (it keeps integers beyond 64 bits exact and refuses NaN). Whatever it refuses is parsed
    again by the stdlib, which also accepts lone surrogates, UTF-16/32 bytes and nesting deeper than msgspec
    allows, but not NaN/Infinity: those are not JSON and jsonb refuses them, so they are a ``bad_json``
    dead letter here rather than a refused batch later."""
    if _fast_loads is not None:
        try:
            return _fast_loads(body)
        except Exception:  # noqa: BLE001 - any refusal: the stdlib decides
            pass
    try:
        return json.loads(body, parse_constant=_not_json_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError(f"body is not JSON: {exc}", reason="bad_json") from None
