"""Crockford-style base-32 ("c32") and c32check, the text form of Stacks addresses.

Follows stacks-network/c32check (``src/encoding.ts``, ``src/checksum.ts``) and
stacks-core ``stacks-common/src/address/c32.rs``.
"""

from __future__ import annotations

from stacks.errors import DecodeError
from stacks.hashing import sha256

C32_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_C32_INDEX = {c: i for i, c in enumerate(C32_ALPHABET)}
# Decoding is forgiving the same way the reference implementations are.
_NORMALISE = str.maketrans({"O": "0", "L": "1", "I": "1"})


def c32_encode(data: bytes) -> str:
    """Base-32 of the big-endian integer, with one ``0`` per leading zero byte."""
    leading = len(data) - len(data.lstrip(b"\x00"))
    number = int.from_bytes(data, "big")
    chars = []
    while number:
        number, digit = divmod(number, 32)
        chars.append(C32_ALPHABET[digit])
    return "0" * leading + "".join(reversed(chars))


def c32_decode(text: str) -> bytes:
    """Inverse of :func:`c32_encode`; raises :class:`DecodeError` on a bad character."""
    text = text.upper().translate(_NORMALISE)
    number = 0
    for i, char in enumerate(text):
        digit = _C32_INDEX.get(char)
        if digit is None:
            raise DecodeError(i, "a c32 character", repr(char))
        number = number * 32 + digit
    leading = len(text) - len(text.lstrip("0"))
    return b"\x00" * leading + number.to_bytes((number.bit_length() + 7) // 8, "big")


def _checksum(version: int, data: bytes) -> bytes:
    return sha256(sha256(bytes([version]) + data))[:4]


def c32check_encode(version: int, data: bytes) -> str:
    """Version character followed by c32 of ``data`` plus a 4-byte double-SHA-256 checksum."""
    if not 0 <= version < 32:
        raise ValueError(f"c32check version must be 0..31, got {version}")
    return C32_ALPHABET[version] + c32_encode(data + _checksum(version, data))


def c32check_decode(text: str) -> tuple[int, bytes]:
    """Return ``(version, data)``; raises :class:`DecodeError` on a bad checksum."""
    if len(text) < 2:
        raise DecodeError(0, "a c32check string of at least 2 characters")
    version_char = text[0].upper().translate(_NORMALISE)
    version = _C32_INDEX.get(version_char)
    if version is None:
        raise DecodeError(0, "a c32 version character", repr(text[0]))
    payload = c32_decode(text[1:])
    if len(payload) < 4:
        raise DecodeError(1, "at least 4 checksum bytes")
    data, checksum = payload[:-4], payload[-4:]
    if _checksum(version, data) != checksum:
        raise DecodeError(1, "a matching c32check checksum", text)
    return version, data


def c32_address(version: int, hash160: bytes) -> str:
    """``S`` + c32check of the 20-byte hash: ``SP…``, ``SM…``, ``ST…``, ``SN…``."""
    if len(hash160) != 20:
        raise ValueError(f"hash160 must be 20 bytes, got {len(hash160)}")
    return "S" + c32check_encode(version, hash160)


def c32_address_decode(address: str) -> tuple[int, bytes]:
    """Return ``(version, hash160)`` of a Stacks address."""
    if len(address) < 2 or address[0] not in "sS":
        raise DecodeError(0, "a Stacks address starting with 'S'", address)
    version, data = c32check_decode(address[1:])
    if len(data) != 20:
        raise DecodeError(1, "a 20-byte hash160", f"{address} holds {len(data)} bytes")
    return version, data


# c32 text costs two SHA-256s and a base-32 loop, and a chain repeats a handful of accounts, so each distinct
# address is encoded once per process: the one memo table of the package (emptied when full).
_ADDRESS_MEMO_LIMIT = 1 << 16
address_memo: dict[bytes, str] = {}


def memo_address(issuer: bytes) -> str:
    """:func:`c32_address` of the 21 wire bytes ``version ‖ hash160`` (version < 32), memoized."""
    address = address_memo.get(issuer)
    if address is None:
        address = c32_address(issuer[0], issuer[1:])
        if len(address_memo) >= _ADDRESS_MEMO_LIMIT:
            address_memo.clear()
        address_memo[issuer] = address
    return address
