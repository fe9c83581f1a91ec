"""LISTEN on a channel of its own connection for as long as the task runs: reconnect with backoff when the
connection is lost, and let the caller catch up on what it may have missed while it was gone."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import asyncpg

from bithedge import logs

log = logs.get("pg_listen")

Callback = Callable[[object, int, str, str], None]  # asyncpg's (connection, pid, channel, payload)


async def listen_forever(db_url: str, channel: str, on_notify: Callback, listening: asyncio.Event,
                         on_connected: Callable[[], Awaitable[None]], *, max_backoff_s: float = 30.0) -> None:
    """Run until cancelled. ``listening`` is set while subscribed; ``on_connected`` runs after each (re)subscribe,
    so a notification sent while the connection was down is made up for by reading the state, not lost."""
    backoff = 1.0
    while True:
        conn = None
        try:
            conn = await asyncpg.connect(db_url)
            lost = asyncio.Event()
            conn.add_termination_listener(lambda _c, lost=lost: lost.set())
            await conn.add_listener(channel, on_notify)
            listening.set()
            backoff = 1.0
            await on_connected()
            await lost.wait()
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("listen_failed", channel=channel, error=str(exc), retry_s=backoff)
        finally:
            listening.clear()
            if conn is not None and not conn.is_closed():
                await conn.close()
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, max_backoff_s)
