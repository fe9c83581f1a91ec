"""``bithedge indexer``: serve, backfill, replay, rebuild, status."""

from __future__ import annotations

import asyncio
import json
import sys

import click

from bithedge import database
from bithedge.settings import Settings


def _settings() -> Settings:
    from bithedge.cli import settings_or_exit

    return settings_or_exit()


def _dsn(s: Settings) -> str:
    try:
        return database.database_url(s)
    except RuntimeError as exc:
        raise click.ClickException(f"{exc}; run `bithedge db start` (or set DATABASE_URL)") from None


def _run(coro):
    from indexer.ingest import WriterBusy
    from indexer.replay import BodiesCleared
    from stacks.rpc import HttpError, RpcError

    try:
        return asyncio.run(coro)
    except (WriterBusy, BodiesCleared) as exc:
        raise click.ClickException(str(exc)) from None
    except HttpError as exc:
        hint = " (check BITHEDGE_INDEXER_API_KEY)" if exc.status in (401, 403) else ""
        raise click.ClickException(f"the API refused the request: {exc}{hint}") from None
    except RpcError as exc:
        raise click.ClickException(f"the API cannot be reached: {exc}") from None
    except ConnectionRefusedError as exc:
        raise click.ClickException(
            f"connection refused ({exc}); is the database up (`bithedge db start`) and the API reachable?"
        ) from None
    except KeyboardInterrupt:
        click.echo("interrupted; committed work is kept and the next run resumes", err=True)
        sys.exit(130)


def _with_writer(dsn: str, work) -> None:
    """Run ``work(writer)`` with the single writer open for the whole command."""
    from indexer.ingest import Writer

    async def go() -> None:
        w = await Writer.open(dsn)
        try:
            await work(w)
        finally:
            await w.close()

    _run(go())


@click.group()
def cli() -> None:
    """Stream Stacks blocks and events into the raw tables (event observer, backfill, replay, rebuild)."""


@cli.command()
@click.option("--host", default=None, help="Interface to listen on (default: BITHEDGE_HOST).")
@click.option("--port", type=int, default=None, help="Port (default: BITHEDGE_INDEXER_PORT).")
@click.option("--node", "node_url", default=None, help="Node RPC for /ready and gap filling (default: BITHEDGE_NODE_URL).")
@click.option("--api", "api_url", default=None,
              help="Hiro-style API the gap reconciler fetches from (default: BITHEDGE_INDEXER_API_URL, else the "
                   "node URL).")
@click.option("--max-body-mb", type=click.IntRange(1, 4096), default=None,
              help="Largest request body in MiB (default: BITHEDGE_INDEXER_MAX_BODY_MB).")
@click.option("--ready-lag", type=click.IntRange(0), default=None,
              help="Blocks behind the node still 'ready' (default: BITHEDGE_INDEXER_READY_LAG_BLOCKS).")
@click.option("--gap-fill/--no-gap-fill", default=None, help="Run the gap reconciler (default: BITHEDGE_INDEXER_GAP_FILL).")
@click.option("--gap-check-s", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Seconds between gap reconciler rounds (default: BITHEDGE_INDEXER_GAP_CHECK_S).")
def serve(host, port, node_url, api_url, max_body_mb, ready_lag, gap_fill, gap_check_s) -> None:
    """Run the event-observer server until SIGINT/SIGTERM."""
    from indexer.server import ServerConfig
    from indexer.server import serve as run

    s = _settings()
    cfg = ServerConfig.from_settings(s, _dsn(s), host=host, port=port, node_url=node_url, api_url=api_url,
                                     max_body_bytes=max_body_mb and max_body_mb * 1024 * 1024,
                                     ready_lag_blocks=ready_lag, gap_fill=gap_fill, gap_check_s=gap_check_s)
    _run(run(cfg))


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--batch", "batch_requests", type=int, default=500, show_default=True, help="Requests per transaction.")
@click.option("--workers", type=int, default=1, show_default=True, help="Decoder processes (0: decode inline).")
@click.option("--no-progress", is_flag=True)
def replay(files, batch_requests, workers, no_progress) -> None:
    """Ingest stacks-blockchain-api event_observer_requests TSV exports (gzip allowed). Resumable."""
    from pathlib import Path

    from indexer.replay import replay_file

    async def work(w) -> None:
        for f in files:
            stats = await replay_file(w, Path(f), batch_requests=batch_requests, workers=workers,
                                      progress=not no_progress)
            click.echo(json.dumps(stats))

    _with_writer(_dsn(_settings()), work)


@cli.command()
@click.option("--restart", is_flag=True, help="Start over even if an interrupted rebuild could resume.")
@click.option("--no-progress", is_flag=True)
def rebuild(restart, no_progress) -> None:
    """Re-derive every raw table from raw.observer_requests, without a node. Resumable."""
    from indexer.replay import rebuild as run

    async def work(w) -> None:
        click.echo(json.dumps(await run(w, restart=restart, progress=not no_progress)))

    _with_writer(_dsn(_settings()), work)


@cli.command()
@click.option("--api", "api_url", default=None,
              help="Hiro-style API base URL (default: BITHEDGE_INDEXER_API_URL, else the node URL).")
@click.option("--from", "start", type=int, default=None, help="First height (default: resume, or 0).")
@click.option("--to", "end", type=int, default=None, help="Last height (default: the API's tip).")
@click.option("--no-progress", is_flag=True)
def backfill(api_url, start, end, no_progress) -> None:
    """Read blocks, transactions and events from the API into the raw tables. Resumable."""
    from indexer.backfill import backfill as run
    from indexer.backfill import client

    s = _settings()

    async def work(w) -> None:
        async with client(api_url or s.indexer_api_url or s.resolved_node_url,
                          s.indexer_api_key.get_secret_value() if s.indexer_api_key else None) as api:
            stats = await run(w, api, start=start, end=end, progress=not no_progress)
        click.echo(json.dumps(stats))

    _with_writer(_dsn(s), work)


@cli.command()
def status() -> None:
    """Print the indexer's state as JSON: tip, row counts, gaps, checkpoints, whether a writer runs."""
    import asyncpg

    from indexer.status import collect_status

    dsn = _dsn(_settings())

    async def go():
        conn = await asyncpg.connect(dsn)
        try:
            return await collect_status(conn)
        finally:
            await conn.close()

    click.echo(json.dumps(_run(go()), default=str, indent=2))

