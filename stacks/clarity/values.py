"""Typed Python objects for Clarity values.

One small slotted dataclass per wire type (the names follow stacks-core's ``TypePrefix``).
Principals live in :mod:`stacks.principal` (shared with transactions). Constructors do not validate, so the decoder stays fast; :func:`stacks.clarity.encode`
checks ranges, names and limits before anything goes on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass

from stacks.principal import ContractPrincipal, Principal, StandardPrincipal


@dataclass(slots=True)
class Int:
    """Signed 128-bit integer, printed ``-5``."""

    value: int


@dataclass(slots=True)
class UInt:
    """Unsigned 128-bit integer, printed ``u5``."""

    value: int


@dataclass(slots=True)
class Bool:
    value: bool


@dataclass(slots=True)
class Buffer:
    """``(buff N)``, printed ``0xdeadbeef``."""

    value: bytes


@dataclass(slots=True)
class StringAscii:
    value: str


@dataclass(slots=True)
class StringUtf8:
    """UTF-8 string; its wire length counts bytes, not characters."""

    value: str


@dataclass(slots=True)
class OptionalNone:
    """``none``."""


@dataclass(slots=True)
class OptionalSome:
    value: ClarityValue


@dataclass(slots=True)
class ResponseOk:
    value: ClarityValue


@dataclass(slots=True)
class ResponseErr:
    value: ClarityValue


@dataclass(slots=True)
class List:
    items: list[ClarityValue]


@dataclass(slots=True)
class Tuple:
    """Clarity tuple; keys are kept in wire (byte-sorted) order when decoded."""

    data: dict[str, ClarityValue]


ClarityValue = (
    Int
    | UInt
    | Bool
    | Buffer
    | StringAscii
    | StringUtf8
    | StandardPrincipal
    | ContractPrincipal
    | OptionalNone
    | OptionalSome
    | ResponseOk
    | ResponseErr
    | List
    | Tuple
)

__all__ = [
    "Bool",
    "Buffer",
    "ClarityValue",
    "ContractPrincipal",
    "Int",
    "List",
    "OptionalNone",
    "OptionalSome",
    "Principal",
    "ResponseErr",
    "ResponseOk",
    "StandardPrincipal",
    "StringAscii",
    "StringUtf8",
    "Tuple",
    "UInt",
]
