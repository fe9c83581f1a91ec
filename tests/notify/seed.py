"""Many users at once (tests and ``benchmarks/bench_notify.py``): each with a confirmed webhook channel to one
receiver and a price-crossing subscription, written as the API would leave them."""

from __future__ import annotations

import json

import asyncpg

from notify import kinds
from notify.secrets import SecretBox, new_webhook_secret
from stacks.c32 import c32_address
from stacks.hashing import hash160

LEVEL = 10_000_000_000_000  # USD×1e8: BTC at 100,000


def owner_address(user_id: int) -> str:
    """The devnet-style (ST…) address seeded user ``user_id`` owns."""
    return c32_address(26, hash160(user_id.to_bytes(8, "big")))


async def webhook_users(admin: asyncpg.Connection, count: int, url: str, key: bytes,
                        kind: str = "price_crossing") -> dict[int, str]:
    """``count`` users, each owning :func:`owner_address`, with a confirmed webhook channel subscribed to
    ``kind`` (``price_crossing``: BTC crossing :data:`LEVEL`); returns each channel's signing secret."""
    params, param_key = kinds.normalize(kind, {"asset": "BTC", "level": LEVEL} if kind == "price_crossing" else {})
    rows = await admin.fetch(
        """WITH u AS (INSERT INTO notify.users (display_name) SELECT 'seed-' || g FROM generate_series(1, $1) g
                      RETURNING user_id),
                c AS (INSERT INTO notify.channels (user_id, kind, target, verified_at)
                      SELECT user_id, 'webhook', $2 || '?user=' || user_id, now() FROM u RETURNING channel_id, user_id)
           INSERT INTO notify.subscriptions (user_id, channel_id, kind, params, param_key)
           SELECT user_id, channel_id, $5, $3::jsonb, $4 FROM c RETURNING channel_id, user_id""",
        count, url, json.dumps(params), param_key, kind)
    await admin.executemany("INSERT INTO notify.user_addresses (address, user_id) VALUES ($1, $2)",
                            [(owner_address(r["user_id"]), r["user_id"]) for r in rows])
    box = SecretBox(key)
    secrets = {r["channel_id"]: new_webhook_secret() for r in rows}
    await admin.executemany("UPDATE notify.channels SET secret_enc = $2 WHERE channel_id = $1",
                            [(cid, box.seal(secret, cid)) for cid, secret in secrets.items()])
    return secrets


async def price_crossing(admin: asyncpg.Connection, n: int) -> None:
    """The ``n``-th BTC price print, crossing :data:`LEVEL` (alternately up and down)."""
    above, below = LEVEL + 1_000_000, LEVEL - 1_000_000
    price, previous = (above, below) if n % 2 else (below, above)
    await admin.execute(
        "INSERT INTO analytics.oracle_prices (asset, price, previous_price, previous_height, burn_height, txid,"
        " event_index) VALUES ('BTC', $1, $2, 99, 100, $3, 0)", price, previous, f"0x{n:064x}")
