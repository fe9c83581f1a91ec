"""The running app's database and settings, for the page modules (Dash imports them before they could be
handed anything). Set once by ``dashboards.app.create_app``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dashboards.db import Database


@dataclass
class Context:
    db: Database
    #: where ``bithedge transforms docs`` writes the dbt docs site (``index.html``, ``manifest.json``, …)
    docs_dir: Path | None = None


_current: Context | None = None


def set_context(ctx: Context) -> None:
    global _current
    _current = ctx


def db() -> Database:
    if _current is None:
        raise RuntimeError("the dashboards app is not created yet (dashboards.app.create_app)")
    return _current.db


def docs_dir() -> Path | None:
    return _current.docs_dir if _current else None
