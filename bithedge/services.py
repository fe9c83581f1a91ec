"""The one place where daemons are registered for ``bithedge up``.

A later component adds itself with one ``Service(...)`` entry in ``SERVICES``; the supervisor
starts each as a child process with ``DATABASE_URL`` pointing at the running database (as the
service's own role on the embedded server).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from bithedge.settings import Settings


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


SERVICES: tuple[Service, ...] = (
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
    # The devnet and the simulator stand in for a real chain: off when BITHEDGE_NODE_URL names one.
    Service(
        name="devnet",
        argv=lambda s: bithedge_cmd("devnet", "--port", str(s.devnet_port),
                                    "--observer", f"http://{s.host}:{s.indexer_port}"),
        url=lambda s: s.resolved_node_url,
        enabled=lambda s: s.node_url is None,
    ),
    Service(
        name="simulator",
        argv=lambda s: bithedge_cmd("simulate", "--oracle", "--settle"),
        url=lambda s: f"http://{s.host}:{s.price_feed_port}/prices",
        enabled=lambda s: s.node_url is None,
    ),
)
