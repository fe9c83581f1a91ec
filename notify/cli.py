"""``bithedge notify``: the delivery worker (serve)."""

from __future__ import annotations

import asyncio

import click

from bithedge import database
from bithedge.cli import service_db_url


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
    url = service_db_url(s, "bithedge_notify")
    cfg = config_from_settings(s, url)
    cfg.host = host or cfg.host
    cfg.port = port if port is not None else cfg.port
    asyncio.run(run(cfg))


@cli.command("admin")
@click.argument("address")
@click.option("--revoke", is_flag=True, help="Take admin away instead.")
def admin(address: str, revoke: bool) -> None:
    """Make the user who owns ADDRESS an admin (operator alerts), or --revoke it. Runs as the database owner."""
    import psycopg

    from bithedge.cli import settings_or_exit

    s = settings_or_exit()
    try:
        url = database.database_url(s)
    except RuntimeError as exc:
        raise click.ClickException(f"{exc}; run `bithedge db start` (or set DATABASE_URL)") from None
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "UPDATE notify.users u SET is_admin = %s FROM notify.user_addresses a"
            " WHERE a.user_id = u.user_id AND a.address = %s RETURNING u.user_id", (not revoke, address.strip())
        ).fetchone()
    if row is None:
        raise click.ClickException(f"no user has signed in with {address}")
    click.echo(f"user {row[0]} is {'no longer ' if revoke else ''}an admin")
