"""``bithedge notify``: the delivery worker (serve)."""

from __future__ import annotations

import asyncio

import click

from bithedge import database


@click.group()
def cli() -> None:
    """Notifications: scan analytics for facts, deliver webhook, email and in-app notifications."""


@cli.command("serve")
@click.option("--host", default=None, help="Interface for /health, /ready, /metrics (default: BITHEDGE_HOST).")
@click.option("--port", type=int, default=None, help="Port (default: BITHEDGE_NOTIFY_PORT).")
def serve(host: str | None, port: int | None) -> None:
    """Run the worker until SIGTERM/SIGINT; in-flight deliveries finish before it exits."""
    from bithedge.cli import settings_or_exit
    from notify.worker import config_from_settings
    from notify.worker import serve as run

    s = settings_or_exit()
    try:
        url = database.database_url(s)
    except RuntimeError as exc:
        raise click.ClickException(f"{exc}; run `bithedge db start` (or set DATABASE_URL)") from None
    url = url if s.database_url else database.role_url(url, "bithedge_notify")
    cfg = config_from_settings(s, url)
    cfg.host = host or cfg.host
    cfg.port = port if port is not None else cfg.port
    asyncio.run(run(cfg))
