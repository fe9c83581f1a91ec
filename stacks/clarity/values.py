"""Typed Python objects for Clarity values.

One small slotted dataclass per wire type (the names follow stacks-core's ``TypePrefix``).
Constructors do not validate, so the decoder stays fast; :func:`stacks.clarity.encode`
checks ranges, names and limits before anything goes on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass

from stacks.c32 import c32_address


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
class StandardPrincipal:
    """An account: c32 address version byte plus hash160."""

    version: int
    hash160: bytes

    @property
    def address(self) -> str:
        return c32_address(self.version, self.hash160)

    def __str__(self) -> str:
        return self.address


@dataclass(slots=True)
class ContractPrincipal:
    """A contract ``ADDR.name``: the deployer's version and hash160 plus the contract name."""

    version: int
    hash160: bytes
    name: str

    @property
    def issuer(self) -> StandardPrincipal:
        return StandardPrincipal(self.version, self.hash160)

    @property
    def address(self) -> str:
        return c32_address(self.version, self.hash160)

    def __str__(self) -> str:
        return f"{self.address}.{self.name}"


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


Principal = StandardPrincipal | ContractPrincipal

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
