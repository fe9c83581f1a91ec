"""SIP-018 signed structured data: the message hash, and verification by key recovery.

``hash = sha256("SIP018" ‖ sha256(cv(domain)) ‖ sha256(cv(message)))`` with ``cv`` the Clarity consensus
serialization (:func:`stacks.clarity.encode`, tuple keys in byte order as stacks-core writes them). The domain is a
tuple ``{name: string-ascii, version: string-ascii, chain-id: uint}`` (extra keys allowed, as stacks.js allows).

Verification recovers the public key (not merely checks one the caller supplies), refuses a recovery id above 3
and high-S signatures (with recover-only checks ``(r, n-s, v^1)`` would be a second valid signature), and derives
the address from the compressed key with the version byte of the network the domain's chain id names; an
expected address is compared as (version, hash160) so its version is checked apart from the chain id.
Signatures are RSV (``r‖s‖v``, what Leather, Xverse and stacks.js ``signStructuredData`` return); VRS is
accepted only when the bytes rule RSV out (byte 64 above 3 and byte 0 a recovery id). A signature over the
pre-ratification prefix ``0xC0`` is refused with its own message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from stacks import clarity
from stacks.address import AddressVersion
from stacks.c32 import c32_address, c32_address_decode
from stacks.errors import DecodeError, SignatureError
from stacks.hashing import hash160, sha256
from stacks.keys import recover_public_key, reformat_public_key

#: The ratified prefix, "SIP018" (stacksgov/sips commit 318bad31 replaced the draft's single byte 0xC0).
STRUCTURED_DATA_PREFIX = b"SIP018"
DRAFT_PREFIX = b"\xc0"
MAINNET_CHAIN_ID = 0x00000001
TESTNET_CHAIN_ID = 0x80000000  # devnet and mocknet use the testnet value too
_CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_HALF_ORDER = _CURVE_ORDER // 2

SignatureOrder = Literal["rsv", "vrs", "auto"]


def make_domain(name: str, version: str, chain_id: int) -> clarity.Tuple:
    """The SIP-018 domain tuple ``{name, version, chain-id}``."""
    return clarity.Tuple({"chain-id": clarity.UInt(chain_id), "name": clarity.StringAscii(name),
                          "version": clarity.StringAscii(version)})


def domain_chain_id(domain: clarity.ClarityValue) -> int:
    """The domain's chain id, after checking it has the three required fields with their types."""
    if not isinstance(domain, clarity.Tuple):
        raise SignatureError("SIP-018 domain must be a tuple")
    fields = domain.data
    if not isinstance(fields.get("name"), clarity.StringAscii):
        raise SignatureError("SIP-018 domain needs name: string-ascii")
    if not isinstance(fields.get("version"), clarity.StringAscii):
        raise SignatureError("SIP-018 domain needs version: string-ascii")
    chain_id = fields.get("chain-id")
    if not isinstance(chain_id, clarity.UInt):
        raise SignatureError("SIP-018 domain needs chain-id: uint")
    return chain_id.value


def _hashes(domain: clarity.ClarityValue, message: clarity.ClarityValue) -> bytes:
    domain_chain_id(domain)
    try:
        return sha256(clarity.encode(domain)) + sha256(clarity.encode(message))
    except ValueError as exc:
        raise SignatureError(f"SIP-018 value cannot be serialized: {exc}") from None


def message_hash(domain: clarity.ClarityValue, message: clarity.ClarityValue) -> bytes:
    """The 32-byte digest a wallet signs for ``stx_signStructuredMessage``."""
    return sha256(STRUCTURED_DATA_PREFIX + _hashes(domain, message))


def _recovers_with_draft_prefix(domain: clarity.ClarityValue, message: clarity.ClarityValue, rsv: bytes,
                                key_hash: bytes) -> bool:
    try:
        return hash160(recover(sha256(DRAFT_PREFIX + _hashes(domain, message)), rsv)) == key_hash
    except SignatureError:
        return False


def network_version(chain_id: int) -> AddressVersion:
    """Single-sig address version of the network a chain id names (22 ``SP`` mainnet, 26 ``ST`` testnet)."""
    if chain_id == MAINNET_CHAIN_ID:
        return AddressVersion.MAINNET_SINGLE_SIG
    if chain_id == TESTNET_CHAIN_ID:
        return AddressVersion.TESTNET_SINGLE_SIG
    raise SignatureError(f"unknown chain id {chain_id} (mainnet is 1, testnet/devnet 2147483648)")


def parse_hex(text: str | bytes, what: str) -> bytes:
    """Bytes from hex with or without ``0x`` (wallets send both), or raw bytes as given."""
    if isinstance(text, bytes | bytearray):
        return bytes(text)
    body = text[2:] if text[:2] in ("0x", "0X") else text
    try:
        return bytes.fromhex(body)
    except ValueError:
        raise SignatureError(f"{what} is not hex") from None


def to_rsv(signature: bytes, order: SignatureOrder = "auto") -> bytes:
    """The 65-byte signature in RSV order, after checking the recovery id and low S.

    ``auto`` reads RSV unless the bytes rule it out (byte 64 > 3 while byte 0 ≤ 3): about 1 signature in 64
    has both end bytes ≤ 3 and is read as RSV, the order the sign-in contract fixes.
    """
    if len(signature) != 65:
        raise SignatureError(f"signature must be 65 bytes (r‖s‖v), got {len(signature)}")
    if order == "auto":
        order = "vrs" if signature[64] > 3 and signature[0] <= 3 else "rsv"
    rsv = signature if order == "rsv" else signature[1:] + signature[:1]
    if rsv[64] > 3:
        raise SignatureError(f"recovery id must be 0..3, got {rsv[64]}")
    r, s = int.from_bytes(rsv[:32], "big"), int.from_bytes(rsv[32:64], "big")
    if not (0 < r < _CURVE_ORDER and 0 < s < _CURVE_ORDER):
        raise SignatureError("signature r or s is out of range")
    if s > _HALF_ORDER:
        raise SignatureError("high-S signature refused (signers produce low S; n-s is a malleated copy)")
    return rsv


def recover(digest: bytes, signature_rsv: bytes) -> bytes:
    """33-byte compressed public key that made ``signature_rsv`` (already checked by :func:`to_rsv`) over
    ``digest``."""
    return recover_public_key(digest, signature_rsv[64:] + signature_rsv[:64], compressed=True)


@dataclass(frozen=True)
class Verified:
    public_key: bytes  #: compressed, 33 bytes
    address: str  #: single-sig address of the domain's network
    chain_id: int


def verify(domain: clarity.ClarityValue, message: clarity.ClarityValue, signature: str | bytes, *,
           chain_id: int, expected_address: str | None = None, public_key: str | bytes | None = None,
           order: SignatureOrder = "auto") -> Verified:
    """Recover the signer of SIP-018 ``(domain, message)`` and check it.

    ``chain_id`` is the chain this server serves: the domain must name it (the wallet shows it but does not
    check it). ``expected_address`` (its version must be the single-sig version of that network, and its
    hash160 the recovered key's) and ``public_key`` (what the wallet returned beside the signature) are optional
    checks. Raises :class:`SignatureError` with a reason on any failure.
    """
    signed_chain = domain_chain_id(domain)
    if signed_chain != chain_id:
        raise SignatureError(f"domain chain-id is {signed_chain}, this server serves chain {chain_id}")
    version = network_version(chain_id)
    rsv = to_rsv(parse_hex(signature, "signature"), order)
    digest = message_hash(domain, message)
    recovered = recover(digest, rsv)
    key_hash = hash160(recovered)
    if public_key is not None:
        claimed = reformat_public_key(parse_hex(public_key, "public key"), compressed=True)
        if claimed != recovered:
            raise SignatureError("signature was not made by the public key sent with it")
    if expected_address is not None:
        try:
            want_version, want_hash = c32_address_decode(expected_address)
        except DecodeError as exc:
            raise SignatureError(f"expected address is not a Stacks address: {exc}") from None
        if want_version != version:
            raise SignatureError(f"address version {want_version} is not the single-sig version {int(version)} "
                                 f"of chain {chain_id}")
        if want_hash != key_hash:
            if _recovers_with_draft_prefix(domain, message, rsv, want_hash):
                raise SignatureError("signed with the draft SIP-018 prefix 0xC0; only the ratified 'SIP018' "
                                     "prefix is accepted")
            raise SignatureError("signature does not recover the expected address")
    return Verified(recovered, c32_address(version, key_hash), chain_id)
