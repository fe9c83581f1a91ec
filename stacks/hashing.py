"""Hash functions used by Stacks wire formats."""

from __future__ import annotations

import hashlib


def sha512_256(data: bytes) -> bytes:
    """SHA-512/256 (its own IV, not truncated SHA-512): txids and sighashes."""
    return hashlib.new("sha512_256", data).digest()


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def hash160(data: bytes) -> bytes:
    """RIPEMD-160 of SHA-256, the 20-byte hash inside every Stacks address."""
    return hashlib.new("ripemd160", hashlib.sha256(data).digest()).digest()
