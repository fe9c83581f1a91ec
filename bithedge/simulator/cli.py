"""``bithedge simulate``: market simulator against the devnet (or any node with the devnet keys)."""

from __future__ import annotations

import asyncio
import json
import signal

import click

from bithedge.protocol.deployment import DEVNET_DEPLOYER, Deployment


@click.command("simulate")
@click.option("--node", default=None, help="Node RPC URL (default: the local devnet).")
@click.option("--blocks", type=int, default=None, help="Run for N blocks, then print a summary (default: forever).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the market and the agents.")
@click.option("--mine", is_flag=True, help="Mine a block per step with POST /devnet/mine (devnet with --block-time 0).")
@click.option("--feed-port", type=int, default=None, help="Price feed port (default BITHEDGE_PRICE_FEED_PORT, 3800).")
@click.option("--no-feed", is_flag=True, help="Do not serve the exchange-like price feed.")
@click.option("--buyers", type=int, default=4, show_default=True, help="Extra generated buyers (funded by the faucet).")
@click.option("--activity", type=float, default=1.0, show_default=True, help="Scales how often agents act.")
@click.option("--crash-at", type=click.IntRange(min=0), default=None,
              help="Start an STX crash (both coins fall, STX faster) at this step.")
@click.option("--deployer", default=DEVNET_DEPLOYER, show_default=True, help="Address that deployed the contracts.")
@click.option("--api", default=None, metavar="URL",
              help="BitHedge API: buyers take its quotes, buyers and providers sign its transactions.")
def cli(node, blocks, seed, mine, feed_port, no_feed, buyers, activity, crash_at, deployer, api) -> None:
    """Simulate a market: prices, a price feed, providers, buyers, governance (the keeper publishes and settles)."""
    from bithedge.cli import settings_or_exit

    s = settings_or_exit()
    url = node or s.resolved_node_url
    from stacks.address import is_valid_address

    if not is_valid_address(deployer):
        raise click.BadParameter(f"{deployer!r} is not a Stacks address", param_hint="--deployer")
    options = dict(seed=seed, mine=mine, extra_buyers=buyers, activity=activity,
                   crash_at=crash_at, deployment=Deployment(deployer), api=api)
    summary = asyncio.run(_main(url, blocks, None if no_feed else (s.host, feed_port or s.price_feed_port), options))
    click.echo(json.dumps({"event": "summary", **summary}))


async def _main(url, blocks, feed_addr, options: dict) -> dict:
    from bithedge.simulator.agents import Simulator
    from bithedge.simulator.feed import serve
    from stacks.rpc import RpcError, StacksClient

    def log(line: str) -> None:
        click.echo(line, err=True)

    async with StacksClient(url, retries=8) as client:
        # wait for the node (under `bithedge up` the devnet may still be starting)
        for _ in range(600):
            try:
                await client.info()
                break
            except RpcError:
                await asyncio.sleep(1)
        sim = Simulator(client, log=log, **options)
        runner = await serve(sim.feed, *feed_addr) if feed_addr else None
        if feed_addr:
            log(f"price feed on http://{feed_addr[0]}:{feed_addr[1]}/prices")
        task = asyncio.create_task(sim.run(blocks))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        try:
            return await task
        except asyncio.CancelledError:
            return sim.summary()
        finally:
            if runner:
                await runner.cleanup()
