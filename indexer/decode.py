"""The indexer's only contact with ``stacks/``: Clarity bytes → typed JSON text, raw tx → flat columns.

Keeping this adapter small isolates the write path from the decoder's API shape. Every function
raises :class:`DecodeFailure` (never anything else) for bytes it cannot decode.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from stacks.c32 import c32_address as _c32_address_uncached
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


_ADDRESSES: dict[tuple[int, bytes], str] = {}  # (version, hash160) -> c32 address; a chain has few senders
_ADDRESSES_MAX = 200_000


def _c32_address(version: int, hash160: bytes) -> str:
    """``stacks.c32.c32_address``, memoized: c32check (a big-int base-32 loop and a double SHA-256) was the
    largest single cost of decoding a transaction, and the same accounts send and receive again and again."""
    key = (version, hash160)
    text = _ADDRESSES.get(key)
    if text is None:
        text = _c32_address_uncached(version, hash160)
        if len(_ADDRESSES) >= _ADDRESSES_MAX:
            _ADDRESSES.clear()
        _ADDRESSES[key] = text
    return text


def _principal_text(p) -> str:
    """``str(principal)`` through the memo (standard ``ADDR`` or contract ``ADDR.name``)."""
    version, hash160 = getattr(p, "version", None), getattr(p, "hash160", None)
    if type(version) is not int or type(hash160) is not bytes:
        return str(p)
    name = getattr(p, "name", None)
    address = _c32_address(version, hash160)
    return address if name is None else f"{address}.{name}"


def _address(cond, mainnet: bool) -> str:
    single = int(cond.hash_mode) in _SINGLE_SIG_HASH_MODES
    version = (22 if single else 20) if mainnet else (26 if single else 21)
    return _c32_address(version, cond.signer)


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
            info.contract_id = _principal_text(payload.contract)
            info.function_name = payload.function_name
            info.function_args = json_text([_clarity_to_json(a) for a in payload.args])
        elif ptype in (1, 6):
            info.contract_id = f"{info.sender}.{payload.name}"
        elif ptype == 0:
            info.recipient = _principal_text(payload.recipient)
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
