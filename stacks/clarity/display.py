"""Clarity's own printed form, as stacks-core's ``Display for Value`` writes it."""

from __future__ import annotations

from stacks.errors import EncodeError

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

_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\\": "\\\\", '"': '\\"', "'": "\\'"}


def _escape_ascii(char: str) -> str:
    # Rust's ascii::escape_default: named escapes, printable as is, the rest as \xNN.
    if char in _ESCAPES:
        return _ESCAPES[char]
    return char if " " <= char <= "~" else f"\\x{ord(char):02x}"


def to_repr(value: ClarityValue) -> str:
    """``u5``, ``-3``, ``0xbeef``, ``"text"``, ``u"text"``, ``'SP…``, ``(some x)``,
    ``(ok x)``, ``(list 1 2)``, ``{amount: u5, owner: 'ST…}``."""
    kind = type(value)
    if kind is UInt:
        return f"u{value.value}"
    if kind is Int:
        return str(value.value)
    if kind is Bool:
        return "true" if value.value else "false"
    if kind is Buffer:
        return "0x" + value.value.hex()
    if kind is StringAscii:
        return '"' + "".join(map(_escape_ascii, value.value)) + '"'
    if kind is StringUtf8:
        body = "".join(_escape_ascii(c) if c.isascii() else f"\\u{{{ord(c):x}}}" for c in value.value)
        return f'u"{body}"'
    if kind is StandardPrincipal or kind is ContractPrincipal:
        return f"'{value}"
    if kind is OptionalNone:
        return "none"
    if kind is OptionalSome:
        return f"(some {to_repr(value.value)})"
    if kind is ResponseOk:
        return f"(ok {to_repr(value.value)})"
    if kind is ResponseErr:
        return f"(err {to_repr(value.value)})"
    if kind is List:
        return "(list" + "".join(" " + to_repr(v) for v in value.items) + ")"
    if kind is Tuple:
        return "{" + ", ".join(f"{k}: {to_repr(v)}" for k, v in value.data.items()) + "}"
    raise EncodeError(f"not a Clarity value: {value!r}")
