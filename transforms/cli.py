"""``bithedge transforms``: build, test, docs and the freshness daemon (serve)."""

from __future__ import annotations

import asyncio
import time

import click

from bithedge.cli import service_db_url
from bithedge.settings import Settings


def _settings() -> Settings:
    from bithedge.cli import settings_or_exit

    return settings_or_exit()


def _dbt(s: Settings):
    from transforms.runner import Dbt

    return Dbt(service_db_url(s, "bithedge_transform"), work_dir=s.data_dir / "transforms",
               deployer=s.transforms_deployer, threads=s.transforms_threads)


def _report(out, url: str | None = None, started: float | None = None) -> None:
    import psycopg

    from transforms.runner import record_run

    if url is not None and started is not None:
        try:
            record_run(url, out, started)
        except psycopg.Error as exc:  # a build that failed before creating marts.build_runs
            click.echo(f"  (run not recorded: {exc})", err=True)
    counts: dict[str, int] = {}
    for status in out.statuses.values():
        counts[status] = counts.get(status, 0) + 1
    summary = " ".join(f"{k}={v}" for k, v in sorted(counts.items()))
    click.echo(f"{out.command}: {'ok' if out.success else 'FAILED'} in {out.duration_s:.2f}s ({summary})", err=True)
    for name in out.warnings:
        click.echo(f"  warn: {name}", err=True)
    for err in out.errors:
        click.echo(f"  error: {err}", err=True)
    if not out.success:
        raise SystemExit(1)


@click.group()
def cli() -> None:
    """dbt transforms: raw.* -> staging -> intermediate -> marts -> the analytics views."""


@cli.command()
@click.option("--full-refresh", is_flag=True, help="Re-derive every mart row from height 0 (in place: views stay).")
@click.option("--select", "-s", "select", multiple=True, help="dbt node selection (repeatable).")
def build(full_refresh: bool, select: tuple[str, ...]) -> None:
    """Build every model (views included) and run the tests."""
    s = _settings()
    dbt, started = _dbt(s), time.time()
    _report(dbt.deploy(full_refresh=full_refresh, select=select), dbt.url, started)


@cli.command()
@click.option("--select", "-s", "select", multiple=True, help="dbt node selection (repeatable).")
def test(select: tuple[str, ...]) -> None:
    """Run the dbt tests (warn-level failures are listed and do not fail the command)."""
    _report(_dbt(_settings()).test(select))


@cli.command()
def docs() -> None:
    """Generate the dbt docs site (catalog + manifest) under the data dir."""
    s = _settings()
    _report(_dbt(s).docs())
    click.echo(str(s.data_dir / "transforms" / "target"))


@cli.command()
@click.option("--host", default=None, help="Interface for /health, /ready, /metrics (default BITHEDGE_HOST).")
@click.option("--port", type=int, default=None, help="Port (default BITHEDGE_TRANSFORMS_PORT).")
def serve(host: str | None, port: int | None) -> None:
    """Keep the analytics current: rebuild the marts on every raw change until SIGINT/SIGTERM."""
    from transforms.daemon import DaemonConfig
    from transforms.daemon import serve as run

    s = _settings()
    cfg = DaemonConfig(
        url=service_db_url(s, "bithedge_transform"), work_dir=s.data_dir / "transforms", host=host or s.host,
        port=s.transforms_port if port is None else port, debounce_s=s.transforms_debounce_ms / 1000,
        poll_s=s.transforms_poll_s, retry_max_s=s.transforms_retry_max_s, threads=s.transforms_threads,
        deployer=s.transforms_deployer, node_url=s.resolved_node_url, reconcile_s=s.transforms_reconcile_s,
    )
    asyncio.run(run(cfg))


@cli.command()
@click.option("--wait", "wait_s", type=float, default=60.0, show_default=True,
              help="Seconds to wait for the marts to include the node's tip.")
def reconcile(wait_s: float) -> None:
    """Compare the analytics views with the contracts' state at the node's tip; exit 1 on any mismatch."""
    import psycopg

    from transforms.reconcile import run

    s = _settings()
    try:
        result = asyncio.run(run(service_db_url(s, "bithedge_transform"), s.resolved_node_url,
                                 s.transforms_deployer, wait_s=wait_s))
    except psycopg.Error as exc:
        raise click.ClickException(f"reconcile not recorded: {exc}") from None
    if result.error:
        raise click.ClickException(f"no comparison: {result.error}")
    for m in result.mismatches:
        click.echo(f"MISMATCH {m.entity} {m.field}: mart={m.mart!r} chain={m.chain!r}")
    click.echo(f"reconcile at Stacks height {result.stacks_height} (burn {result.burn_height}): {result.checked} "
               f"checked, {len(result.mismatches)} mismatches", err=True)
    if result.mismatches:
        raise SystemExit(1)
