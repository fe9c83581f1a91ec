"""``bithedge api``: serve the API and manage its keys."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import click

from bithedge import logs
from bithedge.cli import service_db_url
from bithedge.settings import Settings


def _settings() -> Settings:
    from bithedge.cli import settings_or_exit

    return settings_or_exit()


@click.group()
def cli() -> None:
    """The HTTP API: analytics reads, quotes, transactions, keys, live stream."""


@cli.command()
@click.option("--host", default=None, help="Interface (default BITHEDGE_HOST).")
@click.option("--port", type=int, default=None, help="Port (default BITHEDGE_API_PORT).")
@click.option("--workers", type=click.IntRange(min=1, max=64), default=None,
              help="Processes sharing the port (SO_REUSEPORT; default BITHEDGE_API_WORKERS).")
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the API until SIGINT/SIGTERM (docs at /docs)."""
    import gc

    import uvloop
    from aiohttp import web

    s = _settings()
    workers = s.api_workers if workers is None else workers
    if workers > 1:
        from api import workers as pool_of_workers

        metrics_dir = pool_of_workers.share_metrics()  # before create_app makes the metrics
    from api.app import create_app

    app = create_app(s, db_url=service_db_url(s, "bithedge_api"))
    host, port = host or s.host, s.api_port if port is None else port
    logs.get("api").info("api_started", docs=f"http://{host}:{port}/docs", workers=workers)
    # the app's start-up objects (models, schemas, the OpenAPI document) live as long as the process: out of
    # the collector's sight, a full collection no longer walks them in the middle of requests (and, forked,
    # their pages stay shared between the workers)
    gc.collect()
    gc.freeze()

    def run_one() -> None:
        # uvloop: the event loop is most of a cached or indexed read's CPU (sockets to clients and to PostgreSQL)
        web.run_app(app, host=host, port=port, access_log=None, print=None, loop=uvloop.new_event_loop(),
                    reuse_port=workers > 1)

    if workers == 1:
        run_one()
        return
    raise SystemExit(pool_of_workers.serve(run_one, workers, metrics_dir))


@cli.group()
def keys() -> None:
    """API keys: shown once at creation; the database keeps only a prefix and a SHA-256 digest."""


def _run(coro_fn):  # noqa: ANN001, ANN202 - one admin connection for one CLI action
    import asyncpg

    async def go():  # noqa: ANN202
        conn = await asyncpg.connect(service_db_url(_settings(), None))
        try:
            return await coro_fn(conn)
        finally:
            await conn.close()
    try:
        return asyncio.run(go())
    except (asyncpg.PostgresError, OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


@keys.command("create")
@click.option("--name", required=True, help="Who or what the key is for.")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(["read", "quote", "admin"]), default=("read",),
              show_default=True, help="Repeatable.")
@click.option("--expires-days", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Expire after this many days (default: never).")
@click.option("--rate", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Requests per second for this key (default: BITHEDGE_API_RATE_PER_S).")
def keys_create(name: str, scopes: tuple[str, ...], expires_days: float | None, rate: float | None) -> None:
    """Create a key and print it (the only time it is shown)."""
    from api import keys as store

    expires = datetime.now(UTC) + timedelta(days=expires_days) if expires_days else None
    new = _run(lambda conn: store.create(conn, name, list(scopes), expires_at=expires, rate_per_s=rate))
    click.echo(f"created key {new.prefix} ({', '.join(sorted(set(scopes)))}); store it now, it is not shown again:",
               err=True)
    click.echo(new.key)


@keys.command("list")
def keys_list() -> None:
    """List keys (prefix, name, scopes, state); never the keys themselves."""
    from api import keys as store

    rows = _run(store.list_keys)
    now = datetime.now(UTC)
    for r in rows:
        state = ("revoked" if r["revoked_at"] else "expired" if r["expires_at"] and r["expires_at"] <= now
                 else "active")
        click.echo("\t".join([r["prefix"], state, ",".join(r["scopes"]), r["name"],
                              f"rate={r['rate_per_s'] or 'default'}",
                              f"expires={r['expires_at'].isoformat() if r['expires_at'] else 'never'}",
                              f"last_used={r['last_used_at'].isoformat() if r['last_used_at'] else 'never'}"]))


@keys.command("revoke")
@click.argument("prefix")
def keys_revoke(prefix: str) -> None:
    """Revoke the key with PREFIX (the 12 hex characters after `bhk_`); refused on its next request."""
    from api import keys as store

    if not _run(lambda conn: store.revoke(conn, prefix)):
        raise click.ClickException(f"no active key with prefix {prefix}")
    click.echo(f"revoked {prefix}")
