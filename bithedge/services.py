"""The one place where daemons are registered for ``bithedge up``.

A later component adds itself with one ``Service(...)`` entry in ``SERVICES``; the supervisor
starts each as a child process with ``DATABASE_URL`` pointing at the running database.
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


SERVICES: tuple[Service, ...] = ()
