"""The quote digest as the README spells the serialization, and the RSV signature order."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from bithedge.protocol.deployment import DEVNET
from bithedge.protocol.quotes import Quote, quote_digest, quote_tuple, rsv_to_vrs, sign_quote, vrs_to_rsv
from bithedge.protocol.vectors import devnet_quote_signer
from stacks import clarity
from stacks.keys import recover_public_key
from stacks.transaction.model import CHAIN_ID_MAINNET, CHAIN_ID_TESTNET

# the README's example tuple
EXAMPLE = Quote(1001, "ST3PF13W7Z0RRM42A8VZRVFQ75SV1K26RXEP8YGKJ", "STX", "standard", "balanced", 5_400_000_000_000,
                10_000_000, 1000, 8_100_000, 900, 6_000_000_000_000, 903)
README_ORDER = ["amount", "buyer", "buyer-tier", "chain-id", "domain", "expiry", "issued-at", "pool-tier", "premium",
                "quote-id", "registry", "spot", "strike", "token", "valid-until"]


def test_serialization_is_the_readme_layout():
    raw = clarity.encode(quote_tuple(EXAMPLE, DEVNET.registry))
    assert raw[:5] == b"\x0c" + (15).to_bytes(4, "big")
    assert bytes([6]) + b"domain" + b"\x0d" + (17).to_bytes(4, "big") + b"bithedge-quote-v2" in raw
    positions = [raw.index(bytes([len(k)]) + k.encode()) for k in README_ORDER]
    assert positions == sorted(positions)
    assert bytes([len("strike")]) + b"strike" + b"\x01" + (5_400_000_000_000).to_bytes(16, "big") in raw
    assert quote_digest(EXAMPLE, DEVNET.registry) == hashlib.sha256(raw).digest()


def test_chain_and_registry_separate_the_digest():
    base = quote_digest(EXAMPLE, DEVNET.registry, CHAIN_ID_TESTNET)
    assert quote_digest(EXAMPLE, DEVNET.registry, CHAIN_ID_MAINNET) != base
    assert quote_digest(replace(EXAMPLE, spot=EXAMPLE.spot + 1), DEVNET.registry) != base  # the spot is signed
    assert quote_digest(EXAMPLE, "ST2CY5V39NHDPWSXMW9QDT3HC3GD6Q6XX4CFRK9AG.bithedge-policy-registry") != base


def test_signature_is_rsv_and_recovers_the_signer():
    key = devnet_quote_signer()
    rsv = sign_quote(EXAMPLE, key, DEVNET.registry)
    assert len(rsv) == 65 and rsv[64] in (0, 1)
    vrs = rsv_to_vrs(rsv)
    assert vrs_to_rsv(vrs) == rsv and vrs == key.sign_digest(quote_digest(EXAMPLE, DEVNET.registry))
    assert recover_public_key(quote_digest(EXAMPLE, DEVNET.registry), vrs, compressed=True) == key.public_key
    assert int.from_bytes(rsv[32:64], "big") <= 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0  # low S
    with pytest.raises(ValueError, match="65 bytes"):
        vrs_to_rsv(rsv[:64])
