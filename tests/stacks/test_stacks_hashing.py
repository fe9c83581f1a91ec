"""RIPEMD-160: the pure-Python fallback against the published vectors, and its selection."""

from __future__ import annotations

import hashlib

import pytest

from stacks import hashing

# Test vectors from the RIPEMD-160 page (Bosselaers), https://homes.esat.kuleuven.be/~bosselae/ripemd160.html
VECTORS = [
    (b"", "9c1185a5c5e9fc54612808977ee8f548b2258d31"),
    (b"a", "0bdc9d2d256b3ee9daae347be6f4dc835a467ffe"),
    (b"abc", "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc"),
    (b"message digest", "5d0689ef49d2fae572b881b123a85ffa21595f36"),
    (b"abcdefghijklmnopqrstuvwxyz", "f71c27109c692c1b56bbdceb5b9d2865b3708dbc"),
    (b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "12a053384a9c0c88e405a06c27dcf49ada62eb2b"),
    (
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        "b0e20b6e3116640286ed3a87a5713079b21f5189",
    ),
    (b"1234567890" * 8, "9b752e45573d4b39f4dbd3323cab82bf63326bfb"),
    (b"a" * 1_000_000, "52783243c1697bdbe16d37f97f68f08325dc1528"),
]


@pytest.mark.parametrize(
    ("message", "digest"), VECTORS, ids=lambda v: str(len(v)) if isinstance(v, bytes) else ""
)
def test_pure_ripemd160_matches_published_vectors(message, digest):
    assert hashing.ripemd160_pure(message).hex() == digest
    assert hashing.ripemd160(message).hex() == digest


@pytest.mark.parametrize("length", [55, 56, 63, 64, 65, 119, 120, 128])
def test_pure_ripemd160_padding_boundaries(length):
    message = bytes(range(256))[:length] if length <= 256 else b""
    assert hashing.ripemd160_pure(message) == hashing.ripemd160(message)
    try:
        assert hashing.ripemd160_pure(message) == hashlib.new("ripemd160", message).digest()
    except ValueError:
        pass  # this OpenSSL has no RIPEMD-160: the vectors above are the reference


def test_fallback_is_chosen_when_openssl_lacks_ripemd160(monkeypatch):
    real_new = hashlib.new

    def new_without_ripemd160(name, *args, **kwargs):
        if name.lower() == "ripemd160":
            raise ValueError("unsupported hash type ripemd160")
        return real_new(name, *args, **kwargs)

    monkeypatch.setattr(hashlib, "new", new_without_ripemd160)
    chosen = hashing._pick_ripemd160()
    assert chosen is hashing.ripemd160_pure
    monkeypatch.setattr(hashing, "ripemd160", chosen)
    # hash160 of the compressed generator point (a well-known Bitcoin/Stacks key hash)
    generator = bytes.fromhex("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
    assert hashing.hash160(generator).hex() == "751e76e8199196d454941c45d1b3a323f1433bd6"
