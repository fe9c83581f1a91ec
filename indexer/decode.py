"""The indexer's only contact with ``stacks/``: Clarity bytes → typed JSON text, raw tx → flat columns.

Keeping this adapter small isolates the write path from the decoder's API shape. Every function
raises :class:`DecodeFailure` (never anything else) for bytes it cannot decode.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from stacks.clarity import decode_to_json as _clarity_decode_to_json
from stacks.clarity import to_json as _clarity_to_json
from stacks.errors import StacksError

try:  # the package's public name, once it exports it
    from stacks.transaction import decode_transaction as _decode_transaction
except ImportError:  # pragma: no cover - older layout
    from stacks.transaction.decode import decode_transaction as _decode_transaction

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_dumps = _encoder.encode
try:  # one C encoder, built once: JSONEncoder.encode builds a new one (and a cycle-check dict) per call
    from json.encoder import c_make_encoder as _c_make_encoder
    from json.encoder import encode_basestring as _encode_basestring

    # markers=None: no cycle check; every object encoded here comes from json.loads or a decoder (trees).
    _c_iterencode = _c_make_encoder(None, _encoder.default, _encode_basestring, None, ":", ",", False, False,
                                    True) if _c_make_encoder is not None else None
except ImportError:  # pragma: no cover - a Python without the C accelerator
    _c_iterencode = None


class DecodeFailure(ValueError):
    """Bytes that are not a valid Clarity value / transaction; the message says where and why."""


def json_text(obj: object) -> str:
    """Compact JSON text that Postgres ``jsonb`` accepts (it refuses the ``\\u0000`` escape)."""
    text = "".join(_c_iterencode(obj, 0)) if _c_iterencode is not None else _dumps(obj)
    if "\\u0000" in text:
        text = text.replace("\\u0000", "\\ufffd")
    return text


def clarity_json(raw: bytes) -> str:
    """Typed, lossless JSON text (``stacks.clarity.to_json``) of one serialized Clarity value."""
    try:
        return json_text(_clarity_decode_to_json(raw))
    except (StacksError, ValueError, RecursionError) as exc:
        raise DecodeFailure(f"Clarity value: {exc}") from None


def txid_of(raw_tx: bytes) -> bytes:
    return hashlib.new("sha512_256", raw_tx).digest()


_TX_TYPES = {
    0: "token_transfer",
    1: "smart_contract",
    2: "contract_call",
    3: "poison_microblock",
    4: "coinbase",
    5: "coinbase",
    6: "smart_contract",
    7: "tenure_change",
    8: "coinbase",
}
# stacks-core: P2PKH and P2WPKH spend from a single-sig address version; the script-hash modes from multi-sig.
_SINGLE_SIG_HASH_MODES = {0x00}


@dataclass(slots=True)
class TxInfo:
    tx_type: str
    sender: str
    sponsor: str | None
    nonce: int
    fee: int
    sponsor_nonce: int | None
    sponsor_fee: int | None
    chain_id: int
    anchor_mode: int
    post_condition_mode: int
    contract_id: str | None = None
    function_name: str | None = None
    function_args: str | None = None  # JSON text: array of typed Clarity JSON
    recipient: str | None = None
    amount: int | None = None


def _address(cond, mainnet: bool) -> str:
    from stacks.c32 import c32_address

    single = int(cond.hash_mode) in _SINGLE_SIG_HASH_MODES
    version = (22 if single else 20) if mainnet else (26 if single else 21)
    return c32_address(version, cond.signer)


def transaction_info(raw_tx: bytes) -> TxInfo:
    """Decode a serialized transaction into the columns of ``raw.transactions``."""
    try:
        tx = _decode_transaction(raw_tx)
        mainnet = bool(tx.is_mainnet)
        origin, sponsor = tx.auth.origin, tx.auth.sponsor
        payload = tx.payload
        ptype = _payload_type(payload)
        info = TxInfo(
            tx_type=_TX_TYPES.get(ptype, f"payload_{ptype}"),
            sender=_address(origin, mainnet),
            sponsor=_address(sponsor, mainnet) if sponsor is not None else None,
            nonce=origin.nonce,
            fee=origin.fee,
            sponsor_nonce=sponsor.nonce if sponsor is not None else None,
            sponsor_fee=sponsor.fee if sponsor is not None else None,
            chain_id=tx.chain_id,
            anchor_mode=int(tx.anchor_mode),
            post_condition_mode=int(tx.post_condition_mode),
        )
        if ptype == 2:
            info.contract_id = str(payload.contract)
            info.function_name = payload.function_name
            info.function_args = json_text([_clarity_to_json(a) for a in payload.args])
        elif ptype in (1, 6):
            info.contract_id = f"{info.sender}.{payload.name}"
        elif ptype == 0:
            info.recipient = str(payload.recipient)
            info.amount = payload.amount
        return info
    except (StacksError, ValueError, RecursionError, AttributeError, TypeError) as exc:
        raise DecodeFailure(f"transaction: {exc}") from None


def _payload_type(payload) -> int:
    name = type(payload).__name__
    if name == "TokenTransferPayload":
        return 0
    if name == "SmartContractPayload":
        return 1 if payload.clarity_version is None else 6
    if name == "ContractCallPayload":
        return 2
    if name == "PoisonMicroblockPayload":
        return 3
    if name == "CoinbasePayload":
        return int(payload.payload_type)
    if name == "TenureChangePayload":
        return 7
    return getattr(payload, "payload_type", -1)
