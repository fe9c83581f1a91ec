"""Principals (accounts and contracts), shared by Clarity values and transactions."""

from __future__ import annotations

from dataclasses import dataclass

from stacks.c32 import c32_address, c32_address_decode
from stacks.errors import DecodeError
from stacks.names import is_contract_name


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


Principal = StandardPrincipal | ContractPrincipal


def parse_principal(text: str) -> Principal:
    """Parse ``SP…`` or ``SP….contract-name`` into a Clarity principal value.

    Contract names follow the Clarity rule (``[a-zA-Z][a-zA-Z0-9_-]*``, at most 128
    bytes), which is what values on chain can hold; raises :class:`DecodeError`.
    """
    address, dot, name = text.partition(".")
    version, hash_bytes = c32_address_decode(address)
    if not dot:
        return StandardPrincipal(version, hash_bytes)
    if not name.isascii() or not is_contract_name(name.encode()):
        raise DecodeError(len(address) + 1, "a valid contract name", repr(name))
    return ContractPrincipal(version, hash_bytes, name)
