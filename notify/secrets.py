"""Tokens, webhook secrets and signatures.

Session tokens and user API keys are 32 random bytes: a sha256 digest is enough at rest (argon2 would cost about
100 ms a request and buys nothing for high-entropy secrets); the prefix finds the row, ``compare_digest`` checks it.
Webhook secrets must be shown to the receiver's code later, so they are encrypted (AES-256-GCM, the channel id as
associated data: a ciphertext copied to another channel does not decrypt) under ``BITHEDGE_NOTIFY_SECRET_KEY``, or
under a key file created once in the data dir when that is unset.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

TOKEN_PREFIXES = {"session": "bhs", "api_key": "bhk"}
_PREFIX_CHARS = 12


class TokenError(ValueError):
    """A token that is malformed (the caller answers 401 without saying more)."""


def new_token(kind: str) -> tuple[str, str, bytes]:
    """``(token, lookup prefix, sha256 digest)``; only the last two are stored."""
    lookup = secrets.token_hex(_PREFIX_CHARS // 2)
    token = f"{TOKEN_PREFIXES[kind]}_{lookup}_{secrets.token_urlsafe(32)}"
    return token, lookup, digest(token)


def split_token(token: str) -> str:
    """The lookup prefix of a well-formed token."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] not in TOKEN_PREFIXES.values() or len(parts[1]) != _PREFIX_CHARS:
        raise TokenError("malformed token")
    return parts[1]


def digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def matches(text: str, stored: bytes) -> bool:
    return hmac.compare_digest(digest(text), bytes(stored))


def new_webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def sign_webhook(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-BitHedge-Signature`` value: ``v1=`` HMAC-SHA256 over ``"<timestamp>." ‖ body``."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def load_key(configured: str | None, data_dir: Path) -> bytes:
    """The 32-byte encryption key: the setting (base64) or ``<data dir>/notify/secret.key`` (made 0600 once)."""
    if configured:
        try:
            key = base64.b64decode(configured, validate=True)
        except ValueError:
            raise ValueError("BITHEDGE_NOTIFY_SECRET_KEY must be base64 of 32 bytes") from None
        if len(key) != 32:
            raise ValueError("BITHEDGE_NOTIFY_SECRET_KEY must be base64 of 32 bytes")
        return key
    path = data_dir / "notify" / "secret.key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return base64.b64decode(path.read_text().strip())
    with os.fdopen(fd, "w") as out:
        out.write(base64.b64encode(os.urandom(32)).decode())
    return base64.b64decode(path.read_text().strip())


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, plaintext: str, channel_id: int) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, plaintext.encode(), str(channel_id).encode())

    def open(self, sealed: bytes, channel_id: int) -> str:
        sealed = bytes(sealed)
        return self._aead.decrypt(sealed[:12], sealed[12:], str(channel_id).encode()).decode()
