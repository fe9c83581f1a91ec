"""``bithedge keeper``: ``run [--dry-run]`` (the daemon) and ``status`` (JSON from the keeper's tables)."""

from __future__ import annotations

import asyncio
import json
import signal
import time

import click

from bithedge import logs
from bithedge.cli import service_db_url
from bithedge.settings import Settings


def _settings() -> Settings:
    from bithedge.cli import settings_or_exit

    return settings_or_exit()


async def node_is_devnet(url: str) -> bool:
    """Whether the node is a BitHedge devnet (it serves ``/devnet/status``); waits while it is starting."""
    from stacks.rpc import HttpError, RpcError, StacksClient

    async with StacksClient(url, retries=1) as client:
        for _ in range(600):
            try:
                await client.info(retry=False)
            except RpcError:
                await asyncio.sleep(1)
                continue
            try:
                await client.devnet_status()
                return True
            except (HttpError, RpcError):
                return False
    raise click.ClickException(f"the node at {url} does not answer")


def build(s: Settings, *, devnet: bool, dry_run: bool = False):
    """The keeper of these settings (keys, price sources, rules); raises ClickException on a bad key."""
    import aiohttp

    from bithedge.protocol.deployment import Deployment
    from keeper.daemon import Keeper, KeeperConfig
    from keeper.keys import KeyConfigError, load_signers
    from keeper.oracle import OracleConfig, build_sources, collect_round
    from keeper.oracle.publish import PublishRules
    from keeper.txs import TxConfig

    try:
        signers = load_signers(s, devnet=devnet)
    except KeyConfigError as exc:
        raise click.ClickException(str(exc)) from None
    oracle = OracleConfig.from_settings(s)
    sources = build_sources(oracle)
    holder: dict = {}

    async def collect(asset: str):
        if holder.get("session") is None or holder["session"].closed:
            holder["session"] = aiohttp.ClientSession()
        return await collect_round(holder["session"], sources, asset, oracle, time.time())

    cfg = KeeperConfig(
        db_url=service_db_url(s, "bithedge_keeper"), node_url=s.resolved_node_url,
        deployment=Deployment(s.keeper_deployer or Deployment().deployer),
        host=s.host, port=s.keeper_port, poll_s=s.keeper_poll_s, policy_source=s.keeper_policy_source,
        confirm_source=s.keeper_confirm_source, settle_lag_blocks=s.keeper_settle_lag_blocks,
        tx=TxConfig(max_in_flight=s.keeper_max_in_flight, fee=s.keeper_fee, max_fee=s.keeper_max_fee,
                    max_spend_per_hour=s.keeper_max_spend_per_hour, bump_after_blocks=s.keeper_bump_after_blocks,
                    stuck_blocks=s.keeper_stuck_blocks, reorg_depth=s.keeper_reorg_depth,
                    min_balance=s.keeper_min_balance, dry_run=dry_run))
    keeper = Keeper(cfg, signers, collect=collect, rules=PublishRules.from_settings(s))
    return keeper, holder


@click.group("keeper")
def cli() -> None:
    """The keeper: publishes oracle prices and settles expired policies."""


@cli.command("run")
@click.option("--dry-run", is_flag=True, help="Decide and log; sign and send nothing.")
def run(dry_run: bool) -> None:
    """Run the keeper daemon until SIGTERM or Ctrl-C."""
    s = _settings()
    log = logs.get("keeper")

    async def main() -> None:
        keeper, holder = build(s, devnet=await node_is_devnet(s.resolved_node_url), dry_run=dry_run)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, keeper.stopping.set)
        await keeper.open()
        port = await keeper.start_http()
        log.info("keeper_started", port=port, dry_run=dry_run, node=s.resolved_node_url,
                 signers={role: str(sig) for role, sig in keeper.signers.items()})
        try:
            await keeper.run()
        finally:
            if holder.get("session"):
                await holder["session"].close()
            await keeper.close()
            log.info("keeper_stopped")

    asyncio.run(main())


STATUS_SQL = {
    "signers": "SELECT address, label, next_nonce, node_nonce, paused, paused_reason, balance, reconciled_at "
               "FROM keeper.signers ORDER BY label",
    "transactions": "SELECT status, kind, count(*) AS n, max(bumps) AS max_bumps FROM keeper.transactions "
                    "GROUP BY 1, 2 ORDER BY 1, 2",
    "intents": "SELECT kind, status, count(*) AS n, coalesce(sum(cardinality(policy_ids)), 0) AS policies "
               "FROM keeper.intents GROUP BY 1, 2 ORDER BY 1, 2",
    "open_alerts": "SELECT kind, subject, message, raised_at FROM keeper.alerts WHERE resolved_at IS NULL "
                   "ORDER BY raised_at",
    "last_rounds": "SELECT DISTINCT ON (asset) asset, at, burn_height, median, quorum, decision, published_price "
                   "FROM keeper.price_rounds ORDER BY asset, id DESC",
}


@cli.command("status")
def status() -> None:
    """Print the keeper's signers, transactions, intents, open alerts and last price rounds as JSON."""
    import asyncpg

    s = _settings()
    url = service_db_url(s, "bithedge_keeper")

    async def main() -> dict:
        conn = await asyncpg.connect(url)
        try:
            return {k: [dict(r) for r in await conn.fetch(q)] for k, q in STATUS_SQL.items()}
        finally:
            await conn.close()

    try:
        out = asyncio.run(main())
    except Exception as exc:  # noqa: BLE001 - one line, no traceback, for an operator's command
        raise click.ClickException(f"cannot read the keeper's tables: {exc}") from None
    click.echo(json.dumps(out, default=str, indent=2))
