"""The one place where daemons are registered for ``bithedge up``.

A later component adds itself with one ``Service(...)`` entry in ``SERVICES``; the supervisor
starts each as a child process with ``DATABASE_URL`` pointing at the running database (as the
service's own role on the embedded server).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from bithedge import chain_guard
from bithedge.chain_guard import RESET_COMMAND
from bithedge.devnet import EXIT_PROJECT_CHANGED, devnet_data_dir
from bithedge.settings import Settings

#: ``gate(settings, db_url, stopping)``: awaited after the service starts and before the next ones do; raising
#: stops ``bithedge up`` with the error's message.
Gate = Callable[[Settings, str, asyncio.Event], Awaitable[None]]


def bithedge_cmd(*args: str) -> list[str]:
    """argv that runs a ``bithedge`` subcommand with this interpreter (works without the console script)."""
    return [sys.executable, "-m", "bithedge", *args]


@dataclass(frozen=True)
class Service:
    name: str
    argv: Callable[[Settings], list[str]]
    #: What to show the user once everything is up (``None``: nothing to open).
    url: Callable[[Settings], str] | None = None
    enabled: Callable[[Settings], bool] = field(default=lambda s: True)
    #: The database role the daemon connects as on the embedded server (least privilege: the indexer
    #: writes ``raw`` and nothing else). ``None``: the admin URL. With ``DATABASE_URL`` every service gets
    #: that URL, as the operator configured it.
    db_role: str | None = None
    gate: Gate | None = None
    #: exit statuses that a restart cannot fix: ``bithedge up`` stops with the message instead of restarting
    fatal_exits: Mapping[int, Callable[[Settings], str]] = field(default_factory=dict)


async def _same_chain(settings: Settings, db_url: str, stopping: asyncio.Event) -> None:
    """The devnet's chain is the one raw.* holds (recorded on first start); see ``bithedge.chain_guard``."""
    chain = await chain_guard.devnet_chain(settings.resolved_node_url, stopping)
    if chain is not None:
        await asyncio.to_thread(chain_guard.check_and_record, db_url, chain)


def _devnet_changed(s: Settings) -> str:
    return (f"the devnet's chain in {devnet_data_dir(s)} was built from other contracts or settings. To start "
            f"over (deletes the devnet's chain and every row of raw.*): {RESET_COMMAND}")


def _api_option(s: Settings) -> list[str]:
    """The simulator's buyers and providers go through the API when `bithedge up` runs one."""
    return ["--api", f"http://{s.host}:{s.api_port}"] if any(svc.name == "api" for svc in SERVICES) else []


# The devnet goes first: its chain is checked against the database before the indexer writes anything (the
# devnet queues its payloads until the indexer is up).
SERVICES: tuple[Service, ...] = (
    # The devnet and the simulator stand in for a real chain: off when BITHEDGE_NODE_URL names one.
    Service(
        name="devnet",
        argv=lambda s: bithedge_cmd("devnet", "--port", str(s.devnet_port),
                                    "--observer", f"http://{s.host}:{s.indexer_port}"),
        url=lambda s: s.resolved_node_url,
        enabled=lambda s: s.node_url is None,
        gate=_same_chain,
        fatal_exits={EXIT_PROJECT_CHANGED: _devnet_changed},
    ),
    Service(
        name="indexer",
        argv=lambda s: bithedge_cmd("indexer", "serve"),
        url=lambda s: f"http://{s.host}:{s.indexer_port}/health",
        db_role="bithedge_indexer",
    ),
    Service(
        name="transforms",
        argv=lambda s: bithedge_cmd("transforms", "serve"),
        url=lambda s: f"http://{s.host}:{s.transforms_port}/ready",
        db_role="bithedge_transform",
    ),
    Service(
        name="keeper",
        argv=lambda s: bithedge_cmd("keeper", "run"),
        url=lambda s: f"http://{s.host}:{s.keeper_port}/ready",
        db_role="bithedge_keeper",
    ),
    Service(
        name="api",
        argv=lambda s: bithedge_cmd("api", "serve"),
        url=lambda s: f"http://{s.host}:{s.api_port}/docs",
        db_role="bithedge_api",
    ),
    Service(
        name="notify",
        argv=lambda s: bithedge_cmd("notify", "serve"),
        url=lambda s: f"http://{s.host}:{s.notify_port}/ready",
        db_role="bithedge_notify",
    ),
    Service(
        name="simulator",
        argv=lambda s: bithedge_cmd("simulate", *_api_option(s)),
        url=lambda s: f"http://{s.host}:{s.price_feed_port}/prices",
        enabled=lambda s: s.node_url is None,
    ),
    Service(
        name="dashboards",
        argv=lambda s: bithedge_cmd("dashboards", "serve"),
        url=lambda s: f"http://{s.dashboards_host or s.host}:{s.dashboards_port}/",
        db_role="bithedge_reader",
    ),
)
