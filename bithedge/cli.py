"""The ``bithedge`` command. Component commands (devnet, simulate, indexer, …) load lazily from their packages."""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from pathlib import Path

import click
import psycopg

from bithedge import database, logs
from bithedge.settings import Settings, SettingsError, get_settings

#: name -> "module:attribute" of a click command; listed only once the module exists.
COMPONENT_COMMANDS: dict[str, str] = {
    "devnet": "bithedge.devnet:cli",
    "simulate": "bithedge.simulator.cli:cli",
    "indexer": "indexer.cli:cli",
    "transforms": "transforms.cli:cli",
    "dashboards": "dashboards.cli:cli",
    "keeper": "keeper.cli:cli",
    "api": "api.cli:cli",
    "notify": "notify.cli:cli",
}


def _module_exists(path: str) -> bool:
    try:
        return importlib.util.find_spec(path.split(":")[0]) is not None
    except ModuleNotFoundError:
        return False


class _Root(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        lazy = [n for n, target in COMPONENT_COMMANDS.items() if _module_exists(target)]
        return sorted([*super().list_commands(ctx), *lazy])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in COMPONENT_COMMANDS and _module_exists(COMPONENT_COMMANDS[name]):
            module, attr = COMPONENT_COMMANDS[name].split(":")
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, name)


def settings_or_exit() -> Settings:
    try:
        return get_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def service_db_url(s: Settings, role: str | None) -> str:
    """The database a component's command connects to: as ``role`` on the embedded server (least privilege),
    DATABASE_URL as the operator gave it; ``role=None``: the admin URL."""
    try:
        url = database.database_url(s)
    except RuntimeError as exc:
        raise click.ClickException(f"{exc}; run `bithedge db start` (or set DATABASE_URL)") from None
    return url if s.database_url or role is None else database.role_url(url, role)


@click.group(cls=_Root)
def main() -> None:
    """BitHedge Analytics: indexer, transforms, keeper, API and dashboards for BitHedge on Stacks."""
    s = settings_or_exit()
    logs.configure(s.log_level, s.log_format)


@main.group()
def db() -> None:
    """The database: embedded PostgreSQL under the data dir, or DATABASE_URL when set."""


def _external_note(s: Settings) -> bool:
    if not database.uses_embedded(s):
        click.echo("DATABASE_URL is set: using that server, nothing to start or stop.", err=True)
        return True
    return False


@db.command("start")
def db_start() -> None:
    """Start the embedded server (initialising it on first use) and print its URL."""
    s = settings_or_exit()
    if _external_note(s):
        return
    try:
        click.echo(database.start(s))
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None


@db.command("stop")
def db_stop() -> None:
    """Stop the embedded server (its data is kept)."""
    s = settings_or_exit()
    if not _external_note(s):
        database.stop(s)
        click.echo("stopped")


@db.command("status")
def db_status() -> None:
    """Print the database status as JSON; exit 1 when the embedded server is not running."""
    s = settings_or_exit()
    if not database.uses_embedded(s):
        click.echo(json.dumps({"mode": "external", "url": s.database_url}))
        return
    pg = database.embedded(s)
    running = pg.is_running()
    info = {"mode": "embedded", "running": running, "data_dir": str(pg.data)}
    if pg.port_file.exists():
        info["url"] = pg.url()
    click.echo(json.dumps(info))
    sys.exit(0 if running else 1)


@db.command("url")
def db_url() -> None:
    """Print a postgresql:// URL for psql, dbt or a downstream app."""
    s = settings_or_exit()
    try:
        click.echo(database.database_url(s))
    except RuntimeError as exc:
        raise click.ClickException(f"{exc}; run `bithedge db start` first") from None


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 2**10:.1f} KiB"


@db.command("backup")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
def db_backup(file: Path | None) -> None:
    """Dump the database (pg_dump, custom format) to FILE (default: <data dir>/backups/bithedge-<UTC time>.dump)."""
    from bithedge import backup

    s = settings_or_exit()
    out = (file or backup.default_file(s.data_dir)).resolve()
    click.echo(f"backing up to {out}", err=True)
    try:
        size = backup.backup(database.start(s), out, echo=lambda line: click.echo(line, err=True))
    except (backup.BackupError, RuntimeError, psycopg.Error) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {out} ({_size(size)})", err=True)
    click.echo(str(out))


@db.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that is not empty (its current data is lost).")
def db_restore(file: Path, force: bool) -> None:
    """Restore a `bithedge db backup` FILE into the (empty) database, then apply newer migrations."""
    from bithedge import backup
    from bithedge.migrate import migrate

    s = settings_or_exit()
    click.echo(f"restoring {file} ({_size(file.stat().st_size) if file.is_file() else 'missing'})", err=True)
    try:
        url = database.start(s)
        versions = backup.restore(url, file, force=force, echo=lambda line: click.echo(line, err=True))
        newer = migrate(url)
    except (backup.BackupError, RuntimeError, psycopg.Error) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"restored {file} (migration {versions[-1]:04d}); {len(newer)} newer migrations applied", err=True)


@main.command("migrate")
def migrate_cmd() -> None:
    """Apply pending SQL migrations (starting the embedded database if needed)."""
    from bithedge.migrate import migrate

    s = settings_or_exit()
    applied = migrate(database.start(s))
    for m in applied:
        click.echo(f"applied {m.version:04d}_{m.name}")
    click.echo(f"{len(applied)} migrations applied; database is up to date")


@main.command("up")
@click.option("--reset-chain", is_flag=True,
              help="Start a new chain first: delete the devnet's chain and every row of raw.* (nothing else).")
def up(reset_chain: bool) -> None:
    """Start the database, apply migrations and run every service until Ctrl-C.

    The devnet starts first; when its chain is not the one the database holds (other contracts, or a new
    genesis), nothing else starts and `bithedge up --reset-chain` is the way to start over."""
    from bithedge import supervisor

    sys.exit(supervisor.run(settings_or_exit(), reset_chain=reset_chain))


if __name__ == "__main__":
    main()
