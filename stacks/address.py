"""Stacks addresses and principals.

Version bytes (stacks-core ``stacks-common/src/address/mod.rs``): 22 ``SP`` mainnet
single-sig, 20 ``SM`` mainnet multi-sig (and P2WPKH-P2SH single-sig), 26 ``ST`` testnet
single-sig, 21 ``SN`` testnet multi-sig.  Text form is c32check (:mod:`stacks.c32`).
"""

from __future__ import annotations

from enum import IntEnum

from stacks.c32 import (
    c32_address,
    c32_address_decode,
    c32check_decode,
    c32check_encode,
    memo_address,
)
from stacks.errors import DecodeError
from stacks.hashing import hash160
from stacks.principal import parse_principal

__all__ = [
    "AddressVersion",
    "address_from_public_key",
    "address_version",
    "c32_address",
    "c32_address_decode",
    "c32check_decode",
    "c32check_encode",
    "is_valid_address",
    "is_valid_principal",
    "parse_principal",
    "spending_condition_address",
]


class AddressVersion(IntEnum):
    MAINNET_SINGLE_SIG = 22
    MAINNET_MULTI_SIG = 20
    TESTNET_SINGLE_SIG = 26
    TESTNET_MULTI_SIG = 21


def address_version(*, mainnet: bool, single_sig: bool = True) -> AddressVersion:
    """Pick the version byte for a network and signer kind."""
    if mainnet:
        return AddressVersion.MAINNET_SINGLE_SIG if single_sig else AddressVersion.MAINNET_MULTI_SIG
    return AddressVersion.TESTNET_SINGLE_SIG if single_sig else AddressVersion.TESTNET_MULTI_SIG


# The spending-condition hash mode whose address has the single-sig version: only P2PKH. P2WPKH is a
# P2WPKH-in-P2SH script on Bitcoin, so its address (like the multi-sig modes') has the multi-sig version.
_P2PKH = 0x00


def spending_condition_address(hash_mode: int, signer: bytes, *, mainnet: bool) -> str:
    """The address a spending condition (``hash_mode``, 20-byte ``signer``) spends from, as stacks-core
    derives a transaction's sender or sponsor. Memoized per process (:func:`stacks.c32.memo_address`)."""
    if len(signer) != 20:
        raise ValueError(f"signer must be a 20-byte hash160, got {len(signer)} bytes")
    version = address_version(mainnet=mainnet, single_sig=hash_mode == _P2PKH)
    return memo_address(bytes((version,)) + signer)


def address_from_public_key(public_key: bytes, version: int = AddressVersion.MAINNET_SINGLE_SIG) -> str:
    """P2PKH address of a public key (33-byte compressed or 65-byte uncompressed)."""
    if len(public_key) not in (33, 65):
        raise ValueError(f"public key must be 33 or 65 bytes, got {len(public_key)}")
    return c32_address(version, hash160(public_key))


def is_valid_address(text: str) -> bool:
    """True for a standard-principal address with a correct checksum."""
    try:
        parse_principal(text)
    except DecodeError:
        return False
    return "." not in text


def is_valid_principal(text: str) -> bool:
    """True for a standard or contract principal string."""
    try:
        parse_principal(text)
    except DecodeError:
        return False
    return True
