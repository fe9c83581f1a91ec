"""Sighash chain, signing and verification (SIP-005 "Transaction Signing and Verifying").

stacks-core reference: ``stacks-codec/src/transaction.rs`` (``sign_begin``,
``make_sighash_presign``, ``make_sighash_postsign``, ``TransactionAuth::verify``)::

    initial  = sha512_256(tx with auth cleared, sponsor replaced by a sentinel)
    presign  = sha512_256(cur ‖ auth_flag ‖ fee u64 ‖ nonce u64)
    postsign = sha512_256(presign ‖ key_encoding ‖ signature65)

Each signer continues from the previous signer's postsign; order-independent multisig
(hash modes 0x05/0x07) signs the initial sighash every time; a sponsor starts from the
origin's final sighash with auth flag 0x05.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from stacks.errors import SignatureError
from stacks.hashing import hash160, sha256, sha512_256
from stacks.keys import PrivateKey, parse_private_key, recover_public_key, reformat_public_key

from .model import (
    EMPTY_SIGNATURE,
    SIGHASH_SPONSOR_SENTINEL,
    Authorization,
    AuthType,
    HashMode,
    KeyEncoding,
    MultiSigSpendingCondition,
    SingleSigSpendingCondition,
    SpendingCondition,
    Transaction,
)


def initial_sighash(tx: Transaction) -> bytes:
    """Txid of the transaction with every signature, nonce and fee blanked."""
    sponsor = None if tx.auth.sponsor is None else SIGHASH_SPONSOR_SENTINEL
    return sha512_256(tx.with_auth(Authorization(tx.auth.origin.cleared(), sponsor)).serialize())


def presign_sighash(current: bytes, auth_type: AuthType, fee: int, nonce: int) -> bytes:
    return sha512_256(current + bytes([auth_type]) + fee.to_bytes(8) + nonce.to_bytes(8))


def postsign_sighash(presign: bytes, key_encoding: KeyEncoding, signature: bytes) -> bytes:
    return sha512_256(presign + bytes([key_encoding]) + signature)


def _next_signature(
    current: bytes, auth_type: AuthType, condition: SpendingCondition, key_encoding: int, signature: bytes
) -> tuple[bytes, bytes]:
    """Recover the key behind one signature; return ``(public key, next sighash)``."""
    presign = presign_sighash(current, auth_type, condition.fee, condition.nonce)
    public_key = recover_public_key(presign, signature, compressed=key_encoding == KeyEncoding.COMPRESSED)
    return public_key, postsign_sighash(presign, key_encoding, signature)


def _multisig_script(required: int, public_keys: list[bytes]) -> bytes:
    """Bitcoin ``OP_m <keys> OP_n OP_CHECKMULTISIG`` redeem script."""
    if not 1 <= required <= 16 or not 1 <= len(public_keys) <= 16:
        raise SignatureError(f"unsupported multisig {required}-of-{len(public_keys)}")
    pushes = b"".join(bytes([len(key)]) + key for key in public_keys)
    return bytes([0x50 + required]) + pushes + bytes([0x50 + len(public_keys), 0xAE])


def _expected_signer(hash_mode: HashMode, public_keys: list[bytes], required: int) -> bytes:
    if hash_mode == HashMode.P2PKH:
        return hash160(public_keys[0])
    if hash_mode == HashMode.P2WPKH:
        return hash160(b"\x00\x14" + hash160(public_keys[0]))
    script = _multisig_script(required, public_keys)
    if hash_mode in (HashMode.P2SH, HashMode.P2SH_NON_SEQUENTIAL):
        return hash160(script)
    return hash160(b"\x00\x20" + sha256(script))


def verify_condition(
    condition: SpendingCondition, current: bytes, auth_type: AuthType
) -> tuple[list[bytes], bytes]:
    """Check one spending condition; return the signers' public keys and the next sighash."""
    if isinstance(condition, SingleSigSpendingCondition):
        if condition.hash_mode == HashMode.P2WPKH and condition.key_encoding != KeyEncoding.COMPRESSED:
            raise SignatureError("P2WPKH requires a compressed public key")
        public_key, following = _next_signature(
            current, auth_type, condition, condition.key_encoding, condition.signature
        )
        keys = [public_key]
    else:
        keys, following = _verify_multisig(condition, current, auth_type)
    required = 1 if isinstance(condition, SingleSigSpendingCondition) else condition.signatures_required
    if _expected_signer(condition.hash_mode, keys, required) != condition.signer:
        raise SignatureError(f"signer hash160 {condition.signer.hex()} does not match the recovered key(s)")
    return keys, following


def _verify_multisig(
    condition: MultiSigSpendingCondition, current: bytes, auth_type: AuthType
) -> tuple[list[bytes], bytes]:
    order_independent = condition.hash_mode in (HashMode.P2SH_NON_SEQUENTIAL, HashMode.P2WSH_NON_SEQUENTIAL)
    segwit = condition.hash_mode in (HashMode.P2WSH, HashMode.P2WSH_NON_SEQUENTIAL)
    start, keys, signatures = current, [], 0
    for field in condition.fields:
        if segwit and not field.compressed:
            raise SignatureError("P2WSH multisig requires compressed public keys")
        if not field.is_signature:
            keys.append(reformat_public_key(field.data, compressed=field.compressed))
            continue
        encoding = KeyEncoding.COMPRESSED if field.compressed else KeyEncoding.UNCOMPRESSED
        public_key, following = _next_signature(
            start if order_independent else current, auth_type, condition, encoding, field.data
        )
        keys.append(public_key)
        signatures += 1
        if not order_independent:
            current = following
    enough = signatures >= condition.signatures_required
    if not enough if order_independent else signatures != condition.signatures_required:
        raise SignatureError(
            f"multisig has {signatures} signatures, {condition.signatures_required} required"
        )
    return keys, start if order_independent else current


@dataclass(frozen=True)
class VerifiedAuth:
    """Public keys that signed, in field order; ``sponsor`` is ``None`` if not sponsored."""

    origin: list[bytes]
    sponsor: list[bytes] | None


def verify(tx: Transaction) -> VerifiedAuth:
    """Verify origin (and sponsor) signatures; raises :class:`SignatureError`."""
    origin_keys, sighash = verify_condition(tx.auth.origin, initial_sighash(tx), AuthType.STANDARD)
    if tx.auth.sponsor is None:
        return VerifiedAuth(origin_keys, None)
    sponsor_keys, _ = verify_condition(tx.auth.sponsor, sighash, AuthType.SPONSORED)
    return VerifiedAuth(origin_keys, sponsor_keys)


def recover_origin_public_key(tx: Transaction) -> bytes:
    """The key that signed a single-sig origin (verified against the signer hash)."""
    if not isinstance(tx.auth.origin, SingleSigSpendingCondition):
        raise SignatureError("origin is multisig; use verify()")
    return verify(tx).origin[0]


def _signed_condition(
    condition: SpendingCondition, current: bytes, auth_type: AuthType, key: PrivateKey
) -> SingleSigSpendingCondition:
    if not isinstance(condition, SingleSigSpendingCondition):
        raise SignatureError("only single-sig spending conditions can be signed here")
    encoding = KeyEncoding.COMPRESSED if key.compressed else KeyEncoding.UNCOMPRESSED
    if condition.key_encoding != encoding or condition.signer != (
        key.public_key_hash
        if condition.hash_mode == HashMode.P2PKH
        else _expected_signer(condition.hash_mode, [key.public_key], 1)
    ):
        raise SignatureError("private key does not match the spending condition's signer")
    presign = presign_sighash(current, auth_type, condition.fee, condition.nonce)
    return condition.with_signature(key.sign_digest(presign))


def sign(tx: Transaction, private_key: str | bytes | PrivateKey) -> Transaction:
    """Return ``tx`` with its single-sig origin signed by ``private_key``.

    Signing is deterministic (RFC 6979), so the same inputs give the same bytes as
    @stacks/transactions.  To replace a pending transaction, re-sign the same nonce with
    a higher fee: ``sign(with_fee(tx, new_fee), key)``.  A sponsored transaction's
    sponsor signature is cleared, because it covers the origin's signature.
    """
    key = parse_private_key(private_key)
    origin = _signed_condition(tx.auth.origin, initial_sighash(tx), AuthType.STANDARD, key)
    sponsor = tx.auth.sponsor
    if isinstance(sponsor, SingleSigSpendingCondition):
        sponsor = sponsor.with_signature(EMPTY_SIGNATURE)
    return tx.with_auth(Authorization(origin, sponsor))


def sign_sponsor(tx: Transaction, private_key: str | bytes | PrivateKey) -> Transaction:
    """Return a sponsored ``tx`` with its single-sig sponsor condition signed."""
    if tx.auth.sponsor is None:
        raise SignatureError("transaction is not sponsored")
    key = parse_private_key(private_key)
    _, origin_sighash = verify_condition(tx.auth.origin, initial_sighash(tx), AuthType.STANDARD)
    sponsor = _signed_condition(tx.auth.sponsor, origin_sighash, AuthType.SPONSORED, key)
    return tx.with_auth(Authorization(tx.auth.origin, sponsor))


def with_fee(tx: Transaction, fee: int) -> Transaction:
    """Same transaction with another origin fee (signature left stale: sign it again)."""
    return tx.with_auth(Authorization(replace(tx.auth.origin, fee=fee), tx.auth.sponsor))
