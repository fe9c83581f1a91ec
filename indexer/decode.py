"""The indexer's only contact with ``stacks/``: Clarity bytes → typed JSON text, raw tx → flat columns.

Keeping this adapter small isolates the write path from the decoder's API shape. Every function
raises :class:`DecodeFailure` (never anything else) for bytes it cannot decode.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from stacks.address import spending_condition_address
from stacks.c32 import memo_address
from stacks.clarity import decode_to_json as _clarity_decode_to_json
from stacks.clarity import to_json as _clarity_to_json
from stacks.errors import StacksError
from stacks.transaction import PayloadType, decode_transaction

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


try:  # msgspec encodes our trees ~7x faster than the stdlib's C encoder, big integers exact
    from msgspec.json import Encoder as _Encoder

    _fast_dumps = _Encoder().encode
except ImportError:  # pragma: no cover - optional speed-up
    _fast_dumps = None


def _stdlib_text(obj: object) -> str:
    return "".join(_c_iterencode(obj, 0)) if _c_iterencode is not None else _dumps(obj)


def json_text(obj: object) -> str:
    """Compact JSON text that Postgres ``jsonb`` accepts (it refuses the ``\\u0000`` escape).

    msgspec first (same output for our trees: compact, non-ASCII kept, control characters escaped, integers
    of any size); what it refuses (lone surrogates, unknown types) goes through the stdlib encoder, as
    before. msgspec would write NaN/Infinity as null where the stdlib writes invalid JSON,
    but no input here holds them: request bodies are parsed by :func:`indexer.payloads.parse_body`, which
    refuses those constants, and the Clarity decoder makes no floats."""
    if _fast_dumps is not None:
        try:
            text = _fast_dumps(obj).decode()
        except (TypeError, ValueError):
            text = _stdlib_text(obj)
    else:
        text = _stdlib_text(obj)
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


# raw.transactions.tx_type of each payload type (the versioned and Nakamoto variants share a name).
_TX_TYPES = {
    PayloadType.TOKEN_TRANSFER: "token_transfer",
    PayloadType.SMART_CONTRACT: "smart_contract",
    PayloadType.CONTRACT_CALL: "contract_call",
    PayloadType.POISON_MICROBLOCK: "poison_microblock",
    PayloadType.COINBASE: "coinbase",
    PayloadType.COINBASE_TO_ALT_RECIPIENT: "coinbase",
    PayloadType.VERSIONED_SMART_CONTRACT: "smart_contract",
    PayloadType.TENURE_CHANGE: "tenure_change",
    PayloadType.NAKAMOTO_COINBASE: "coinbase",
}


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


def _principal_text(p) -> str:
    """``str(principal)`` through the address memo (standard ``ADDR`` or contract ``ADDR.name``)."""
    version, hash160 = getattr(p, "version", None), getattr(p, "hash160", None)
    if type(version) is not int or type(hash160) is not bytes:
        return str(p)
    name = getattr(p, "name", None)
    address = memo_address(bytes((version,)) + hash160)
    return address if name is None else f"{address}.{name}"


def _address(cond, mainnet: bool) -> str:
    return spending_condition_address(int(cond.hash_mode), cond.signer, mainnet=mainnet)


def transaction_info(raw_tx: bytes) -> TxInfo:
    """Decode a serialized transaction into the columns of ``raw.transactions``."""
    try:
        tx = decode_transaction(raw_tx)
        mainnet = bool(tx.is_mainnet)
        origin, sponsor = tx.auth.origin, tx.auth.sponsor
        payload = tx.payload
        ptype = payload.payload_type
        info = TxInfo(
            tx_type=_TX_TYPES.get(ptype, f"payload_{int(ptype)}"),
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
        if ptype == PayloadType.CONTRACT_CALL:
            info.contract_id = _principal_text(payload.contract)
            info.function_name = payload.function_name
            info.function_args = json_text([_clarity_to_json(a) for a in payload.args])
        elif ptype in (PayloadType.SMART_CONTRACT, PayloadType.VERSIONED_SMART_CONTRACT):
            info.contract_id = f"{info.sender}.{payload.name}"
        elif ptype == PayloadType.TOKEN_TRANSFER:
            info.recipient = _principal_text(payload.recipient)
            info.amount = payload.amount
        return info
    except (StacksError, ValueError, RecursionError, AttributeError, TypeError) as exc:
        raise DecodeFailure(f"transaction: {exc}") from None
