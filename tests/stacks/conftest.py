"""Shared fixtures for tests/stacks: the Node generator's dependencies."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

JS_DIR = Path(__file__).parent / "js"


@pytest.fixture(scope="session")
def js_dir() -> Path:
    """``tests/stacks/js`` with ``node_modules`` installed from the lock file."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node/npm not installed")
    if not (JS_DIR / "node_modules" / "@stacks" / "transactions").is_dir():
        subprocess.run(["npm", "install", "--no-save", "--no-audit", "--no-fund"], cwd=JS_DIR, check=True, timeout=300)
    return JS_DIR
