"""JSON forms of Clarity values for Postgres ``jsonb`` (see ``stacks/README.md``).

* **typed** (:func:`to_json` / :func:`from_json`): lossless, every node is
  ``{"type": ..., "value": ...}``; 128-bit integers are decimal strings, buffers are hex
  without ``0x``, principals are their c32 strings, tuples are objects.
* **plain** (:func:`to_plain`): the shape a SQL author expects, e.g. a print tuple
  ``{event: "x", amount: u5}`` becomes ``{"event": "x", "amount": "5"}``.  Lossy by design.
"""

from __future__ import annotations

from typing import Any

from stacks.c32 import address_memo, memo_address
from stacks.errors import DecodeError, EncodeError
from stacks.principal import parse_principal

from .codec import Bytes, decode_with, make_reader
from .values import (
    Bool,
    Buffer,
    ClarityValue,
    ContractPrincipal,
    Int,
    List,
    OptionalNone,
    OptionalSome,
    ResponseErr,
    ResponseOk,
    StandardPrincipal,
    StringAscii,
    StringUtf8,
    Tuple,
    UInt,
)

JSON = Any
_addresses_get = address_memo.get  # inline memo hit, skipping memo_address's call


def to_json(value: ClarityValue) -> JSON:
    """Typed, lossless JSON node (inverse of :func:`from_json`)."""
    kind = type(value)
    if kind is UInt:
        return {"type": "uint", "value": str(value.value)}
    if kind is Tuple:
        return {"type": "tuple", "value": {k: to_json(v) for k, v in value.data.items()}}
    if kind is StringAscii:
        return {"type": "string-ascii", "value": value.value}
    if kind is Buffer:
        return {"type": "buffer", "value": value.value.hex()}
    if kind is StandardPrincipal or kind is ContractPrincipal:
        return {"type": "principal", "value": str(value)}
    if kind is Int:
        return {"type": "int", "value": str(value.value)}
    if kind is Bool:
        return {"type": "bool", "value": value.value}
    if kind is StringUtf8:
        return {"type": "string-utf8", "value": value.value}
    if kind is OptionalNone:
        return {"type": "none"}
    if kind is OptionalSome:
        return {"type": "some", "value": to_json(value.value)}
    if kind is ResponseOk:
        return {"type": "ok", "value": to_json(value.value)}
    if kind is ResponseErr:
        return {"type": "err", "value": to_json(value.value)}
    if kind is List:
        return {"type": "list", "value": [to_json(v) for v in value.items]}
    raise EncodeError(f"not a Clarity value: {value!r}")


def to_plain(value: ClarityValue) -> JSON:
    """SQL-friendly JSON: tuples are objects, lists arrays, ``none`` is null, ``(some x)``
    is ``x``, responses are ``{"ok": x}`` / ``{"err": x}``, integers decimal strings,
    buffers ``0x``-hex, strings and principals plain strings."""
    kind = type(value)
    if kind is UInt or kind is Int:
        return str(value.value)
    if kind is Tuple:
        return {k: to_plain(v) for k, v in value.data.items()}
    if kind is StringAscii or kind is StringUtf8 or kind is Bool:
        return value.value
    if kind is Buffer:
        return "0x" + value.value.hex()
    if kind is StandardPrincipal or kind is ContractPrincipal:
        return str(value)
    if kind is OptionalNone:
        return None
    if kind is OptionalSome:
        return to_plain(value.value)
    if kind is ResponseOk:
        return {"ok": to_plain(value.value)}
    if kind is ResponseErr:
        return {"err": to_plain(value.value)}
    if kind is List:
        return [to_plain(v) for v in value.items]
    raise EncodeError(f"not a Clarity value: {value!r}")


def _principal_json(issuer: bytes) -> JSON:
    return {"type": "principal", "value": _addresses_get(issuer) or memo_address(issuer)}


def _contract_json(issuer: bytes, name: str) -> JSON:
    return {"type": "principal", "value": f"{_addresses_get(issuer) or memo_address(issuer)}.{name}"}


# The same single-pass decoder as `decode`, building JSON nodes instead of value objects.
_read_json = make_reader(
    uint=lambda n: {"type": "uint", "value": str(n)},
    int_=lambda n: {"type": "int", "value": str(n)},
    bool_=lambda b: {"type": "bool", "value": b},
    buffer=lambda raw: {"type": "buffer", "value": raw.hex()},
    string_ascii=lambda s: {"type": "string-ascii", "value": s},
    string_utf8=lambda s: {"type": "string-utf8", "value": s},
    standard=_principal_json,
    contract=_contract_json,
    none=lambda: {"type": "none"},
    some=lambda v: {"type": "some", "value": v},
    ok=lambda v: {"type": "ok", "value": v},
    err=lambda v: {"type": "err", "value": v},
    list_=lambda items: {"type": "list", "value": items},
    tuple_=lambda data: {"type": "tuple", "value": data},
)
_read_plain = make_reader(
    uint=str,
    int_=str,
    bool_=bool,
    buffer=lambda raw: "0x" + raw.hex(),
    string_ascii=str,
    string_utf8=str,
    standard=lambda issuer: _addresses_get(issuer) or memo_address(issuer),
    contract=lambda issuer, name: f"{_addresses_get(issuer) or memo_address(issuer)}.{name}",
    none=lambda: None,
    some=None,
    ok=lambda v: {"ok": v},
    err=lambda v: {"err": v},
    list_=None,
    tuple_=None,
)


def decode_to_json(data: Bytes) -> JSON:
    """Serialized bytes/hex straight to the typed form: ``to_json(decode(data))`` in one
    pass, with the same errors and limits (the indexer's hot path)."""
    return decode_with(_read_json, data)


def decode_to_plain(data: Bytes) -> JSON:
    """Serialized bytes/hex straight to the plain form: ``to_plain(decode(data))`` in one pass."""
    return decode_with(_read_plain, data)


def from_json(node: JSON) -> ClarityValue:
    """Rebuild a value from :func:`to_json` output; raises :class:`ValueError` if malformed."""
    try:
        kind = node["type"]
        if kind == "none":
            return OptionalNone()
        raw = node["value"]
        if kind in ("uint", "int"):
            if not isinstance(raw, str):
                raise ValueError("integers are decimal strings")
            return (UInt if kind == "uint" else Int)(int(raw, 10))
        if kind == "bool":
            if not isinstance(raw, bool):
                raise ValueError("bool value must be true/false")
            return Bool(raw)
        if kind == "buffer":
            return Buffer(bytes.fromhex(raw))
        if kind == "string-ascii":
            return StringAscii(_text(raw))
        if kind == "string-utf8":
            return StringUtf8(_text(raw))
        if kind == "principal":
            return parse_principal(_text(raw))
        if kind == "some":
            return OptionalSome(from_json(raw))
        if kind == "ok":
            return ResponseOk(from_json(raw))
        if kind == "err":
            return ResponseErr(from_json(raw))
        if kind == "list":
            if not isinstance(raw, list):
                raise ValueError("list value must be an array")
            return List([from_json(v) for v in raw])
        if kind == "tuple":
            if not isinstance(raw, dict):
                raise ValueError("tuple value must be an object")
            return Tuple({_text(k): from_json(v) for k, v in raw.items()})
    except (KeyError, TypeError, DecodeError) as exc:
        raise ValueError(f"malformed Clarity JSON node {str(node)[:80]}: {exc}") from None
    raise ValueError(f"unknown Clarity JSON type {kind!r}")


def _text(raw: object) -> str:
    if not isinstance(raw, str):
        raise ValueError(f"expected a JSON string, got {raw!r}")
    return raw
