"""Signed premium quotes (`contracts/README.md`, Quotes): the tuple the quote signer signs, its digest
exactly as the registry's `quote-hash` builds it, and the 65-byte signature order `secp256k1-recover?`
takes (r ‖ s ‖ recovery-id, "RSV")."""

from __future__ import annotations

from dataclasses import dataclass

from stacks import clarity
from stacks.hashing import sha256
from stacks.keys import PrivateKey
from stacks.principal import parse_principal
from stacks.transaction.model import CHAIN_ID_TESTNET

QUOTE_DOMAIN = "bithedge-quote-v2"


@dataclass(frozen=True)
class Quote:
    """The quote's terms (the `create-policy` arguments except the signature).

    ``strike`` and ``spot`` (the BTC price the quote was priced at) USD x 1e8, ``amount`` sats,
    ``expiry``/``issued_at``/``valid_until`` burn heights, ``premium`` (the whole premium the buyer
    pays) in base units of ``token``; ``buyer`` is the standard principal that sends `create-policy`."""

    quote_id: int
    buyer: str
    token: str
    buyer_tier: str
    pool_tier: str
    strike: int
    amount: int
    expiry: int
    premium: int
    issued_at: int
    spot: int
    valid_until: int


def quote_tuple(quote: Quote, registry: str, chain_id: int = CHAIN_ID_TESTNET) -> clarity.Tuple:
    """The Clarity tuple `quote-hash` serializes; ``registry`` is the registry's contract id and
    ``chain_id`` the network's (`chain-id`: testnet/devnet 0x80000000, mainnet 1)."""
    uint, ascii_ = clarity.UInt, clarity.StringAscii
    return clarity.Tuple({
        "domain": ascii_(QUOTE_DOMAIN), "chain-id": uint(chain_id), "registry": parse_principal(registry),
        "quote-id": uint(quote.quote_id), "buyer": parse_principal(quote.buyer), "token": ascii_(quote.token),
        "buyer-tier": ascii_(quote.buyer_tier), "pool-tier": ascii_(quote.pool_tier), "strike": uint(quote.strike),
        "amount": uint(quote.amount), "expiry": uint(quote.expiry), "premium": uint(quote.premium),
        "issued-at": uint(quote.issued_at), "spot": uint(quote.spot), "valid-until": uint(quote.valid_until),
    })


def quote_digest(quote: Quote, registry: str, chain_id: int = CHAIN_ID_TESTNET) -> bytes:
    """sha256 of the consensus serialization (SIP-005) of :func:`quote_tuple`: 32 bytes."""
    return sha256(clarity.encode(quote_tuple(quote, registry, chain_id)))


def vrs_to_rsv(signature: bytes) -> bytes:
    """``recid ‖ r ‖ s`` (what :meth:`stacks.keys.PrivateKey.sign_digest` returns) -> ``r ‖ s ‖ recid``."""
    if len(signature) != 65:
        raise ValueError(f"a recoverable signature is 65 bytes, got {len(signature)}")
    return signature[1:] + signature[:1]


def rsv_to_vrs(signature: bytes) -> bytes:
    """``r ‖ s ‖ recid`` (what the registry takes) -> ``recid ‖ r ‖ s``."""
    if len(signature) != 65:
        raise ValueError(f"a recoverable signature is 65 bytes, got {len(signature)}")
    return signature[64:] + signature[:64]


def sign_quote(quote: Quote, key: PrivateKey, registry: str, chain_id: int = CHAIN_ID_TESTNET) -> bytes:
    """The 65-byte RSV signature `create-policy` takes, by a key holding the `quote-signer` role."""
    return vrs_to_rsv(key.sign_digest(quote_digest(quote, registry, chain_id)))
