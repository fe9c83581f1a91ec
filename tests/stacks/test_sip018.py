"""SIP-018 verification: the SIP's own vector, the refusals the sign-in relies on, and stacks.js both ways."""

from __future__ import annotations

import json
import random
import subprocess

import pytest

from stacks import clarity, sip018
from stacks.errors import SignatureError
from stacks.hashing import sha256
from stacks.keys import parse_private_key

# stacksgov/sips sip-018-signed-structured-data.md, "Test vectors" (CC0-1.0).
SIP_KEY = "753b7cc01a1a2e86221266a154af739463fce51219d97e4f856cd7200c3bd2a601"
SIP_PUBLIC = "0390a5cac7c33fda49f70bc1b0866fa0ba7a9440d9de647fecb8132ceb76a94dfa"
SIP_ADDRESS = "ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM"
SIP_MAINNET = "SP1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRCBGD7R"
SIP_DOMAIN_HASH = "2538b5dc06c5ae2f11549261d7ae174d9f77a55a92b00f330884695497be5065"
SIP_DATA_HASH = "5297eef9765c466d945ad1cb2c81b30b9fed6c165575dc9226e9edf78b8cd9e8"
SIP_HASH = "1bfdab6d4158313ce34073fbb8d6b0fc32c154d439def12247a0f44bb2225259"
SIP_RSV = ("8b94e45701d857c9f1d1d70e8b2ca076045dae4920fb0160be0642a68cd78de0"
           "72ab527b5c5277a593baeb2a8b657c216b99f7abb5d14af35b4bf12ba6460ba401")
DOMAIN = sip018.make_domain("Test App", "1.0.0", 1)
MESSAGE = clarity.StringAscii("Hello World")
ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def _sign(key, domain, message, prefix=sip018.STRUCTURED_DATA_PREFIX) -> bytes:
    digest = sha256(prefix + sha256(clarity.encode(domain)) + sha256(clarity.encode(message)))
    vrs = parse_private_key(key).sign_digest(digest)
    return vrs[1:] + vrs[:1]


def test_sip_vector_hashes_and_signature():
    assert clarity.encode(DOMAIN).hex().startswith("0c0000000308636861696e2d6964")  # chain-id first: byte order
    assert sha256(clarity.encode(DOMAIN)).hex() == SIP_DOMAIN_HASH
    assert sha256(clarity.encode(MESSAGE)).hex() == SIP_DATA_HASH
    assert sip018.message_hash(DOMAIN, MESSAGE).hex() == SIP_HASH
    assert _sign(SIP_KEY, DOMAIN, MESSAGE).hex() == SIP_RSV  # RFC 6979 reproduces the SIP's bytes


def test_sip_vector_recovers_key_and_checks_address_version_apart_from_chain():
    # The SIP's address is ST… (testnet) while its domain says chain-id u1 (mainnet): two independent inputs.
    got = sip018.verify(DOMAIN, MESSAGE, SIP_RSV, chain_id=1, public_key=SIP_PUBLIC, expected_address=SIP_MAINNET)
    assert got.public_key.hex() == SIP_PUBLIC and got.address == SIP_MAINNET
    with pytest.raises(SignatureError, match="version 26 is not the single-sig version 22"):
        sip018.verify(DOMAIN, MESSAGE, SIP_RSV, chain_id=1, expected_address=SIP_ADDRESS)
    with pytest.raises(SignatureError, match="domain chain-id is 1"):
        sip018.verify(DOMAIN, MESSAGE, SIP_RSV, chain_id=sip018.TESTNET_CHAIN_ID, expected_address=SIP_ADDRESS)


def test_both_orders_and_0x_accepted_where_unambiguous():
    vrs = SIP_RSV[-2:] + SIP_RSV[:-2]
    for sig in (SIP_RSV, "0x" + SIP_RSV, vrs, bytes.fromhex(vrs)):
        assert sip018.verify(DOMAIN, MESSAGE, sig, chain_id=1).address == SIP_MAINNET
    assert sip018.verify(DOMAIN, MESSAGE, vrs, chain_id=1, order="vrs").address == SIP_MAINNET
    with pytest.raises(SignatureError):
        sip018.verify(DOMAIN, MESSAGE, vrs, chain_id=1, order="rsv")


def test_ambiguous_signature_is_read_as_rsv():
    # First byte ≤ 3 and last byte ≤ 3: both orders parse; the API contract says RSV.
    rng = random.Random(5)
    for _ in range(2000):
        message = clarity.UInt(rng.randrange(2**64))
        rsv = _sign(SIP_KEY, DOMAIN, message)
        if rsv[0] <= 3:
            break
    else:
        pytest.fail("no ambiguous signature in 2000 tries")
    assert sip018.verify(DOMAIN, message, rsv, chain_id=1, expected_address=SIP_MAINNET)


def test_refusals():
    sig = bytes.fromhex(SIP_RSV)
    for bad_v in (4, 27, 0xFF):
        with pytest.raises(SignatureError, match="recovery id"):
            sip018.verify(DOMAIN, MESSAGE, sig[:64] + bytes([bad_v]), chain_id=1, order="rsv")
    # high S: (r, n - s, v ^ 1) recovers the same key, and is refused
    s = int.from_bytes(sig[32:64], "big")
    high = sig[:32] + (ORDER - s).to_bytes(32, "big") + bytes([sig[64] ^ 1])
    with pytest.raises(SignatureError, match="high-S"):
        sip018.verify(DOMAIN, MESSAGE, high, chain_id=1)
    with pytest.raises(SignatureError, match="65 bytes"):
        sip018.verify(DOMAIN, MESSAGE, sig[:64], chain_id=1)
    with pytest.raises(SignatureError, match="not hex"):
        sip018.verify(DOMAIN, MESSAGE, "zz" * 65, chain_id=1)
    with pytest.raises(SignatureError, match="out of range"):
        sip018.verify(DOMAIN, MESSAGE, bytes(64) + b"\x00", chain_id=1)
    with pytest.raises(SignatureError, match="does not recover the expected address"):
        sip018.verify(DOMAIN, clarity.StringAscii("Hello World!"), sig, chain_id=1, expected_address=SIP_MAINNET)
    with pytest.raises(SignatureError, match="public key sent with it"):
        sip018.verify(DOMAIN, MESSAGE, sig, chain_id=1, public_key=parse_private_key("01" * 32 + "01").public_key)


def test_draft_prefix_refused():
    draft = _sign(SIP_KEY, DOMAIN, MESSAGE, prefix=sip018.DRAFT_PREFIX)
    with pytest.raises(SignatureError, match="draft SIP-018 prefix"):
        sip018.verify(DOMAIN, MESSAGE, draft, chain_id=1, expected_address=SIP_MAINNET)


@pytest.mark.parametrize("domain", [
    clarity.Tuple({"name": clarity.StringAscii("x"), "version": clarity.StringAscii("1")}),
    clarity.Tuple({"chain-id": clarity.Int(1), "name": clarity.StringAscii("x"), "version": clarity.StringAscii("1")}),
    clarity.Tuple({"chain-id": clarity.UInt(1), "domain": clarity.StringAscii("x"), "version": clarity.StringAscii("1")}),
    clarity.StringAscii("Test App"),
])
def test_malformed_domain_refused(domain):
    with pytest.raises(SignatureError, match="domain"):
        sip018.message_hash(domain, MESSAGE)


def test_extra_domain_fields_allowed_and_keys_sorted_by_bytes():
    domain = clarity.Tuple({"version": clarity.StringAscii("1"), "name": clarity.StringAscii("x"),
                            "chain-id": clarity.UInt(1), "B": clarity.UInt(2), "a_b": clarity.UInt(3),
                            "a-b": clarity.UInt(4)})
    encoded = clarity.encode(domain)
    order = [name for name in ("B", "a-b", "a_b", "chain-id", "name", "version")]
    positions = [encoded.index(bytes([len(k)]) + k.encode()) for k in order]
    assert positions == sorted(positions)  # byte order: 'B' < 'a-b' < 'a_b' (localeCompare differs)
    sig = _sign(SIP_KEY, domain, MESSAGE)
    assert sip018.verify(domain, MESSAGE, sig, chain_id=1).address == SIP_MAINNET


def test_stacks_js_signatures_verify(js_dir):
    result = subprocess.run(["node", "sip018.mjs", "sign", "20261202", "40"], cwd=js_dir, capture_output=True,
                            text=True, check=True, timeout=120)
    cases = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(cases) == 40
    for case in cases:
        domain, message = clarity.decode(case["domain"]), clarity.decode(case["message"])
        assert sip018.message_hash(domain, message).hex() == case["hash"]
        chain = sip018.domain_chain_id(domain)
        expected = case["mainnet"] if chain == sip018.MAINNET_CHAIN_ID else case["testnet"]
        for signature in (case["signature"], case["hashSignature"]):  # signStructuredData, signMessageHashRsv
            got = sip018.verify(domain, message, signature, chain_id=chain, expected_address=expected,
                                public_key=case["publicKey"])
            assert got.public_key.hex() == case["publicKey"]


def test_stacks_js_recovers_python_signatures(js_dir):
    rng = random.Random(11)
    cases = []
    for i in range(30):
        key = rng.randbytes(32).hex() + "01"
        domain = sip018.make_domain(f"app-{i}", "2.0.0", sip018.TESTNET_CHAIN_ID)
        message = clarity.Tuple({"nonce": clarity.StringAscii(rng.randbytes(8).hex()), "n": clarity.UInt(i)})
        cases.append((key, domain, message, _sign(key, domain, message)))
    lines = [json.dumps({"domain": clarity.encode(d).hex(), "message": clarity.encode(m).hex(), "signature": s.hex(),
                         "publicKey": parse_private_key(k).public_key.hex()}) for k, d, m, s in cases]
    # a signature for another key: @stacks/encryption must refuse it
    k0, d0, m0, s0 = cases[0]
    lines.append(json.dumps({"domain": clarity.encode(d0).hex(), "message": clarity.encode(m0).hex(),
                             "signature": s0.hex(), "publicKey": parse_private_key(cases[1][0]).public_key.hex()}))
    result = subprocess.run(["node", "sip018.mjs", "verify"], cwd=js_dir, input="\n".join(lines),
                            capture_output=True, text=True, check=True, timeout=120)
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(answers) == len(cases) + 1
    for (key, domain, message, _), answer in zip(cases, answers[:-1], strict=True):
        assert answer["hash"] == sip018.message_hash(domain, message).hex()
        assert answer["publicKey"] == parse_private_key(key).public_key.hex()
        assert answer["encryptionVerifies"] is True  # @stacks/encryption's verifyMessageSignatureRsv
    assert answers[-1]["encryptionVerifies"] is False
