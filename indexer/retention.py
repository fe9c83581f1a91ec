"""Retention of ``raw.observer_requests`` bodies (``BITHEDGE_INDEXER_BODY_RETENTION_DAYS``).

The verbatim bodies are most of the database's size. With a retention set, ``serve`` clears ``payload`` and
``body`` of requests older than that which the writer has committed (their rows are in the raw tables); the
row itself, its size, path, source and outcome stay. A stored request otherwise always keeps one of the two,
so "both NULL" marks a cleared one, and ``rebuild`` (which re-derives everything from the bodies) refuses to
start once any is cleared.
"""

from __future__ import annotations

import asyncpg

from indexer.sql import queries as Q

BATCH = 1000  # rows per statement, so the writer's lock is released between batches
INTERVAL_S = 3600.0


async def clear_old_bodies(conn: asyncpg.Connection, days: int, batch: int = BATCH) -> int:
    """Clear up to ``batch`` bodies older than ``days``; returns how many (fewer than ``batch``: done)."""
    status = await conn.execute(Q["clear_old_bodies"], days, batch)
    return int(status.split()[-1])
