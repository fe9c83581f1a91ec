"""c32check addresses, versions, principals and keys."""

from __future__ import annotations

import fixture_data
import pytest

from stacks import address, keys
from stacks.clarity import ContractPrincipal, StandardPrincipal
from stacks.errors import DecodeError, SignatureError


@pytest.mark.skipif(not fixture_data.available(), reason="../shared/fixtures/stacks not present")
def test_c32_vectors():
    for case in fixture_data.vectors()["c32_address"]["cases"]:
        hash160 = bytes.fromhex(case["hash160"])
        assert address.c32_address(case["version"], hash160) == case["address"]
        assert address.c32_address_decode(case["address"]) == (case["version"], hash160)


def test_decode_is_forgiving_about_case_and_lookalikes_but_checks_checksum():
    canonical = "SP2J6ZY48GV1EZ5V2V5RB9MP66SW86PYKKNRV9EJ7"
    assert address.c32_address_decode(canonical.lower()) == address.c32_address_decode(canonical)
    with pytest.raises(DecodeError, match="checksum"):
        address.c32_address_decode(canonical[:-1] + "8")
    with pytest.raises(DecodeError):
        address.c32_address_decode("SP2J6ZY48GV1EZ5V2V5RB9MP66SW86PYKKNRV9EJ!")
    assert not address.is_valid_address("SP2J6ZY48GV1EZ5V2V5RB9MP66SW86PYKKNRV9EJ8")


def test_principals():
    contract = address.parse_principal("SP000000000000000000002Q6VF78.bns")
    assert contract == ContractPrincipal(22, bytes(20), "bns")
    assert str(contract) == "SP000000000000000000002Q6VF78.bns"
    assert address.parse_principal("ST000000000000000000002AMW42H") == StandardPrincipal(26, bytes(20))
    assert address.is_valid_principal("SP000000000000000000002Q6VF78.a-b_c")
    for bad in (
        "SP000000000000000000002Q6VF78.",
        "SP000000000000000000002Q6VF78.1x",
        "SP000000000000000000002Q6VF78.a.b",
    ):
        assert not address.is_valid_principal(bad), bad


def test_versions():
    assert address.address_version(mainnet=True) == 22
    assert address.address_version(mainnet=False, single_sig=False) == 21


def test_private_key_forms_follow_stacks_js():
    secret = "edf9aee84d9b7abc145504dde6726c64f369d37ee34ded868fabd876c26570bc"
    compressed = keys.parse_private_key(secret + "01")
    uncompressed = keys.parse_private_key("0x" + secret)
    assert compressed.compressed and len(compressed.public_key) == 33
    assert not uncompressed.compressed and len(uncompressed.public_key) == 65
    assert compressed.address(26) == address.address_from_public_key(compressed.public_key, 26)
    assert compressed.address(26) != uncompressed.address(26)
    assert compressed.to_hex() == secret + "01"
    for bad in ("00" * 32, secret + "02", "zz"):
        with pytest.raises(SignatureError):
            keys.parse_private_key(bad)


def test_sign_and_recover_digest():
    key = keys.parse_private_key("01" * 32 + "01")
    digest = bytes(range(32))
    signature = key.sign_digest(digest)
    assert signature == key.sign_digest(digest)  # RFC 6979: deterministic
    assert keys.recover_public_key(digest, signature, compressed=True) == key.public_key


def test_spending_condition_address_versions():
    """Only P2PKH spends from the single-sig version; P2WPKH (P2SH-wrapped) and the multi-sig modes use the
    multi-sig one, on either network; the memoized text equals the plain c32 encoding."""
    signer = bytes(range(20))
    for mode, mainnet, version in ((0x00, True, 22), (0x00, False, 26), (0x02, True, 20), (0x02, False, 21),
                                   (0x01, True, 20), (0x03, False, 21), (0x05, True, 20), (0x07, False, 21)):
        assert address.spending_condition_address(mode, signer, mainnet=mainnet) == address.c32_address(version, signer)
    with pytest.raises(ValueError, match="20-byte"):
        address.spending_condition_address(0x00, b"\x01" * 19, mainnet=True)
