"""Users by wallet: SIP-018 sign-in challenges, sessions and user API keys, addresses, default subscriptions.

Sign-in: :func:`issue_challenge` stores a nonce-bearing SIP-018 message (domain ``{name, version, chain-id}`` from
settings; message ``{address, expires-at, issued-at, nonce, statement}``) and returns it for the wallet's
``stx_signStructuredMessage``; :func:`complete_signin` locks the challenge row, refuses it when used or expired,
verifies the signature by key recovery (:mod:`stacks.sip018`) against the challenged address, marks it used and
issues a token, all in one transaction, so a replayed or concurrent second use finds ``used_at`` set.
"""

from __future__ import annotations

import json
import secrets as _random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from notify import kinds
from notify.secrets import TokenError, matches, new_token, split_token
from stacks import clarity, sip018
from stacks.c32 import c32_address, c32_address_decode
from stacks.errors import DecodeError, SignatureError

STATEMENT = "Sign in to BitHedge notifications. This request costs nothing and moves no funds."


class AuthError(Exception):
    """Sign-in refused or token not valid: ``status`` is the HTTP status, the message safe to show."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class SigninConfig:
    chain_id: int
    domain_name: str
    domain_version: str
    challenge_ttl_s: int
    session_ttl_s: int


@dataclass(frozen=True)
class Principal:
    """Who a token authenticates."""

    user_id: int
    session_id: int
    kind: str
    is_admin: bool


def canonical_address(text: str, chain_id: int) -> str:
    """The address in canonical c32, after checking it is a single-sig address of the chain's network."""
    try:
        version, key_hash = c32_address_decode(text.strip())
    except (DecodeError, ValueError) as exc:
        raise AuthError(422, f"not a Stacks address: {exc}") from None
    want = sip018.network_version(chain_id)
    if version != want:
        raise AuthError(422, f"address version {version} is not the single-sig version {int(want)} of chain "
                             f"{chain_id}")
    return c32_address(version, key_hash)


async def issue_challenge(conn: asyncpg.Connection, cfg: SigninConfig, address: str,
                          link_user_id: int | None = None) -> dict:
    address = canonical_address(address, cfg.chain_id)
    nonce = _random.token_hex(16)
    now = datetime.now(UTC).replace(microsecond=0)
    expires = now + timedelta(seconds=cfg.challenge_ttl_s)
    domain = sip018.make_domain(cfg.domain_name, cfg.domain_version, cfg.chain_id)
    version, key_hash = c32_address_decode(address)
    message = clarity.Tuple({
        "address": clarity.StandardPrincipal(version, key_hash),
        "expires-at": clarity.UInt(int(expires.timestamp())),
        "issued-at": clarity.UInt(int(now.timestamp())),
        "nonce": clarity.StringAscii(nonce),
        "statement": clarity.StringAscii(STATEMENT),
    })
    domain_hex, message_hex = clarity.encode(domain).hex(), clarity.encode(message).hex()
    await conn.execute(
        "INSERT INTO notify.signin_challenges (nonce, address, chain_id, domain_hex, message_hex, link_user_id,"
        " issued_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        nonce, address, cfg.chain_id, domain_hex, message_hex, link_user_id, now, expires)
    return {"nonce": nonce, "address": address, "expires_at": expires.isoformat(),
            "domain": clarity.to_json(domain), "message": clarity.to_json(message),
            "domain_hex": "0x" + domain_hex, "message_hex": "0x" + message_hex,
            "hash": "0x" + sip018.message_hash(domain, message).hex()}


async def complete_signin(conn: asyncpg.Connection, cfg: SigninConfig, nonce: str, signature: str,
                          public_key: str | None = None) -> dict:
    """Verify a signed challenge; returns ``{token, user_id, address, expires_at, linked}`` (token shown once)."""
    async with conn.transaction():
        row = await conn.fetchrow(
            "SELECT address, chain_id, domain_hex, message_hex, link_user_id, expires_at, used_at"
            " FROM notify.signin_challenges WHERE nonce = $1 FOR UPDATE", nonce)
        if row is None:
            raise AuthError(401, "unknown sign-in message")
        if row["used_at"] is not None:
            raise AuthError(401, "sign-in message already used")
        if row["expires_at"] <= datetime.now(UTC):
            raise AuthError(401, "sign-in message expired")
        try:
            sip018.verify(clarity.decode(row["domain_hex"]), clarity.decode(row["message_hex"]), signature,
                          chain_id=row["chain_id"], expected_address=row["address"], public_key=public_key)
        except SignatureError as exc:
            raise AuthError(401, f"signature refused: {exc}") from None
        await conn.execute("UPDATE notify.signin_challenges SET used_at = now() WHERE nonce = $1", nonce)
        address = row["address"]
        owner = await conn.fetchval("SELECT user_id FROM notify.user_addresses WHERE address = $1", address)
        if row["link_user_id"] is not None:
            if owner is not None and owner != row["link_user_id"]:
                raise AuthError(409, "address already belongs to another user")
            await conn.execute("INSERT INTO notify.user_addresses (address, user_id) VALUES ($1, $2)"
                               " ON CONFLICT DO NOTHING", address, row["link_user_id"])
            return {"user_id": row["link_user_id"], "address": address, "linked": True}
        user_id = owner if owner is not None else await create_user(conn, address)
        token, expires = await create_token(conn, user_id, "session", cfg.session_ttl_s)
        return {"token": token, "user_id": user_id, "address": address, "expires_at": expires.isoformat(),
                "linked": False}


async def create_user(conn: asyncpg.Connection, address: str) -> int:
    """A new user owning ``address``, with an in-app channel and the default subscriptions on it."""
    user_id = await conn.fetchval("INSERT INTO notify.users DEFAULT VALUES RETURNING user_id")
    await conn.execute("INSERT INTO notify.user_addresses (address, user_id) VALUES ($1, $2)", address, user_id)
    channel_id = await conn.fetchval(
        "INSERT INTO notify.channels (user_id, kind, verified_at) VALUES ($1, 'in_app', now()) RETURNING channel_id",
        user_id)
    rows = []
    for kind in kinds.DEFAULT_KINDS:
        params, key = kinds.normalize(kind, {})
        rows.append((user_id, channel_id, kind, json.dumps(params), key))
    await conn.executemany(
        "INSERT INTO notify.subscriptions (user_id, channel_id, kind, params, param_key)"
        " VALUES ($1, $2, $3, $4::jsonb, $5)", rows)
    return user_id


async def create_token(conn: asyncpg.Connection, user_id: int, kind: str, ttl_s: int,
                       label: str | None = None) -> tuple[str, datetime]:
    token, lookup, digest = new_token(kind)
    expires = datetime.now(UTC) + timedelta(seconds=ttl_s)
    await conn.execute(
        "INSERT INTO notify.sessions (user_id, kind, label, prefix, digest, expires_at)"
        " VALUES ($1, $2, $3, $4, $5, $6)", user_id, kind, label, lookup, digest, expires)
    return token, expires


async def authenticate(conn: asyncpg.Connection, token: str) -> Principal:
    """The user behind a bearer token; :class:`AuthError` 401 for anything else (one message for all cases)."""
    refused = AuthError(401, "invalid or expired token")
    try:
        lookup = split_token(token)
    except TokenError:
        raise refused from None
    row = await conn.fetchrow(
        "UPDATE notify.sessions s SET last_used_at = now() FROM notify.users u"
        " WHERE s.prefix = $1 AND u.user_id = s.user_id AND s.revoked_at IS NULL AND s.expires_at > now()"
        " RETURNING s.session_id, s.user_id, s.kind, s.digest, u.is_admin", lookup)
    if row is None or not matches(token, row["digest"]):
        raise refused
    return Principal(row["user_id"], row["session_id"], row["kind"], row["is_admin"])


async def revoke(conn: asyncpg.Connection, user_id: int, session_id: int) -> bool:
    status = await conn.execute(
        "UPDATE notify.sessions SET revoked_at = now() WHERE session_id = $1 AND user_id = $2"
        " AND revoked_at IS NULL", session_id, user_id)
    return status.endswith(" 1")
