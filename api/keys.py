"""API keys: ``bhk_<prefix>_<secret>``, shown once; the database keeps the prefix (to find the row) and the
SHA-256 of the whole key (compared in constant time). Keys carry 256 random bits, so a fast digest is enough: a
slow password hash (argon2) would cost ~100 ms per request for no gain against guessing."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, get_args

import asyncpg

from api.routing import Scope

SCOPES: tuple[str, ...] = get_args(Scope)
KEY_PREFIX = "bhk_"


@dataclass(frozen=True)
class NewKey:
    id: int
    prefix: str
    #: the only time the full key exists outside the caller's hands
    key: str


def digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def split(key: str) -> tuple[str, str] | None:
    """``(prefix, secret)`` of a well-formed key, else ``None``."""
    if not key.startswith(KEY_PREFIX):
        return None
    prefix, sep, secret = key[len(KEY_PREFIX):].partition("_")
    if not sep or len(prefix) != 12 or not secret:
        return None
    return prefix, secret


def new_key() -> tuple[str, str]:
    prefix = secrets.token_hex(6)
    return prefix, f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"


def check_scopes(scopes: list[str]) -> list[str]:
    bad = [s for s in scopes if s not in SCOPES]
    if bad or not scopes:
        raise ValueError(f"scopes must be some of {', '.join(SCOPES)} (got {', '.join(scopes) or 'none'})")
    return sorted(set(scopes))


async def create(conn: asyncpg.Connection, name: str, scopes: list[str], *, expires_at: datetime | None = None,
                 rate_per_s: float | None = None, audit_as: str | None = "cli") -> NewKey:
    """A new key; ``audit_as`` names the actor of its audit row (``None``: the caller audits, as the API does)."""
    prefix, key = new_key()
    async with conn.transaction():
        key_id = await conn.fetchval(
            "INSERT INTO api.keys (prefix, digest, name, scopes, expires_at, rate_per_s) "
            "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            prefix, digest(key), name, check_scopes(scopes), expires_at, rate_per_s)
        if audit_as is not None:
            await audit(conn, key_id=None, actor=audit_as, action="key.create", status=None,
                        detail={"key_id": key_id, "prefix": prefix, "name": name, "scopes": scopes})
    return NewKey(key_id, prefix, key)


async def list_keys(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT id, prefix, name, scopes, rate_per_s, created_at, expires_at, revoked_at, last_used_at "
        "FROM api.keys ORDER BY id")


async def revoke(conn: asyncpg.Connection, prefix: str, *, audit_as: str | None = "cli") -> bool:
    async with conn.transaction():
        key_id = await conn.fetchval(
            "UPDATE api.keys SET revoked_at = now() WHERE prefix = $1 AND revoked_at IS NULL RETURNING id", prefix)
        if key_id is not None and audit_as is not None:
            await audit(conn, key_id=None, actor=audit_as, action="key.revoke", status=None,
                        detail={"key_id": key_id, "prefix": prefix})
    return key_id is not None


async def audit(conn: asyncpg.Connection | asyncpg.Pool, *, key_id: int | None, actor: str, action: str,
                status: int | None, detail: dict[str, Any], remote: str | None = None) -> None:
    await conn.execute(
        "INSERT INTO api.audit (key_id, actor, action, status, detail, remote) VALUES ($1, $2, $3, $4, $5, $6)",
        key_id, actor, action, status, json.dumps(detail, default=str), remote)
