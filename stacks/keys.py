"""secp256k1 keys as Stacks uses them (via ``coincurve``).

Private keys come as 32 bytes, or 33 bytes ending in ``01`` meaning "use the compressed
public key" — the convention of @stacks/transactions, which we follow exactly: a bare
32-byte key signs with the *uncompressed* public key (key encoding 0x01), so its address
differs from the same key with the ``01`` suffix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from coincurve import PrivateKey as _CurvePrivateKey
from coincurve import PublicKey as _CurvePublicKey

from stacks.address import AddressVersion
from stacks.c32 import c32_address
from stacks.errors import SignatureError
from stacks.hashing import hash160


@dataclass(frozen=True)
class PrivateKey:
    """A signing key; build it with :func:`parse_private_key`."""

    secret: bytes
    compressed: bool
    _curve: _CurvePrivateKey = field(repr=False, compare=False)

    @cached_property
    def public_key(self) -> bytes:
        """33-byte compressed or 65-byte uncompressed SEC1 public key."""
        return self._curve.public_key.format(compressed=self.compressed)

    @cached_property
    def public_key_hash(self) -> bytes:
        return hash160(self.public_key)

    def address(self, version: int = AddressVersion.MAINNET_SINGLE_SIG) -> str:
        """P2PKH address for ``version`` (22 ``SP`` mainnet, 26 ``ST`` testnet)."""
        return c32_address(version, self.public_key_hash)

    def to_hex(self) -> str:
        return self.secret.hex() + ("01" if self.compressed else "")

    def sign_digest(self, digest: bytes) -> bytes:
        """Recoverable low-S ECDSA (RFC 6979) over a 32-byte digest, as ``recid ‖ r ‖ s``."""
        rsv = self._curve.sign_recoverable(digest, hasher=None)
        return rsv[64:] + rsv[:64]


def parse_private_key(key: str | bytes | PrivateKey) -> PrivateKey:
    """Accept hex (``0x`` optional) or raw bytes, 32 bytes or 33 bytes ending in ``01``."""
    if isinstance(key, PrivateKey):
        return key
    if isinstance(key, str):
        text = key[2:] if key[:2] in ("0x", "0X") else key
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raise SignatureError("private key is not hex") from None
    else:
        raw = bytes(key)
    if len(raw) == 33 and raw[32] == 0x01:
        secret, compressed = raw[:32], True
    elif len(raw) == 32:
        secret, compressed = raw, False
    else:
        raise SignatureError("private key must be 32 bytes, or 33 bytes ending in 01")
    try:
        curve = _CurvePrivateKey(secret)
    except ValueError as exc:
        raise SignatureError(f"not a valid secp256k1 private key: {exc}") from None
    return PrivateKey(secret, compressed, curve)


def recover_public_key(digest: bytes, signature_vrs: bytes, *, compressed: bool) -> bytes:
    """Public key that produced ``signature_vrs`` (65 bytes, recid first) over ``digest``."""
    if len(signature_vrs) != 65:
        raise SignatureError(f"signature must be 65 bytes, got {len(signature_vrs)}")
    try:
        public = _CurvePublicKey.from_signature_and_message(
            signature_vrs[1:] + signature_vrs[:1], digest, hasher=None
        )
    except (ValueError, TypeError) as exc:
        raise SignatureError(f"signature does not recover a public key: {exc}") from None
    return public.format(compressed=compressed)


def reformat_public_key(public_key: bytes, *, compressed: bool) -> bytes:
    """The same point as a 33-byte compressed or 65-byte uncompressed key."""
    try:
        return _CurvePublicKey(public_key).format(compressed=compressed)
    except (ValueError, TypeError) as exc:
        raise SignatureError(f"not a valid secp256k1 public key: {exc}") from None
