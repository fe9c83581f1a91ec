"""An in-process keeper for the tests that drive the devnet with the simulator: it signs with the devnet oracle
and settler keys, reads due expiries from the contracts (no transforms needed) and its prices from the
simulator's in-process feed (each venue's quote judged by the keeper's own aggregation), and is stepped between
simulator steps, so its transactions land in the next mined block."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from decimal import Decimal

from bithedge.database import role_url
from bithedge.settings import Settings
from bithedge.simulator.market import Feed
from keeper.daemon import Keeper, KeeperConfig
from keeper.keys import load_signers
from keeper.oracle import OracleConfig, Round, SourceConfig, SourceQuote
from keeper.oracle.aggregate import judge
from keeper.oracle.model import to_units
from keeper.oracle.publish import PublishRules
from keeper.txs import TxConfig


def feed_collect(feed: Feed, band_bp: int = 200):
    """collect(asset) over the feed's venues: one quote per venue, judged like a real round."""

    async def collect(asset: str) -> Round:
        config = OracleConfig(tuple(SourceConfig(v, "http://127.0.0.1") for v in sorted(feed.quotes) or ["kraken"]),
                              band_bp=band_bp)
        quotes = [SourceQuote(venue, asset, f"{asset}-USD", to_units(Decimal(str(q[f"{asset}-USD"]["price"]))),
                              str(q[f"{asset}-USD"]["price"]), q[f"{asset}-USD"]["ts"], 0.0, "ok", None)
                  for venue, q in sorted(feed.quotes.items())]
        return judge(asset, quotes, len(quotes), config, time.time())

    return collect


def devnet_signers():
    return load_signers(Settings(keeper_oracle_key=None, keeper_oracle_key_file=None, keeper_settler_key=None,
                                 keeper_settler_key_file=None), devnet=True)


async def start_keeper(node_url: str, db_url: str, feed: Feed, *, rules: PublishRules | None = None,
                       tx: TxConfig | None = None, policy_source: str = "chain", collect=None) -> Keeper:
    """An opened keeper connected as bithedge_keeper; the caller steps it and awaits ``close()``."""
    cfg = KeeperConfig(db_url=role_url(db_url, "bithedge_keeper"), node_url=node_url, policy_source=policy_source,
                       tx=tx or TxConfig(min_balance=0))
    keeper = Keeper(cfg, devnet_signers(), collect=collect or feed_collect(feed), rules=rules or PublishRules())
    await keeper.open()
    return keeper


@contextlib.asynccontextmanager
async def keeper_for(sim, db_url: str, **kw) -> AsyncIterator[Keeper]:
    """A keeper beside ``sim`` (same node, prices from its feed), closed afterwards."""
    keeper = await start_keeper(sim.client.base_url, db_url, sim.feed, **kw)
    try:
        yield keeper
    finally:
        await keeper.close()
