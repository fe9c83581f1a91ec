"""``bithedge transforms serve`` as a real process for the transforms tests: start it on a free port and poll
its HTTP status."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable

import aiohttp

from bithedge.database import role_url
from tests.processes import free_port


async def start_serve(db: str, data_dir, log, **env: str) -> tuple[asyncio.subprocess.Process, str]:
    """The daemon as bithedge_transform on ``db``, stderr to ``log``; returns it and its base URL."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": role_url(db, "bithedge_transform"), "BITHEDGE_DATA_DIR": str(data_dir),
           "BITHEDGE_TRANSFORMS_PORT": str(port), "BITHEDGE_TRANSFORMS_POLL_S": "0.2", "BITHEDGE_LOG_FORMAT": "json",
           "PYTHONFAULTHANDLER": "1", **env}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bithedge", "transforms", "serve", env=env,
                                                stdout=asyncio.subprocess.DEVNULL, stderr=log)
    return proc, f"http://127.0.0.1:{port}"


async def wait_for(base: str, path: str, proc, ok: Callable[[int, dict], bool], what: str,
                   timeout: float = 180) -> None:
    """Until ``ok(status, json)`` holds for GET ``path``; fails if the process exits or ``timeout`` passes."""
    deadline = asyncio.get_running_loop().time() + timeout
    async with aiohttp.ClientSession() as s:
        while True:
            assert proc.returncode is None, "serve exited"
            try:
                async with s.get(f"{base}{path}") as r:
                    if ok(r.status, await r.json()):
                        return
            except aiohttp.ClientError:
                pass
            assert asyncio.get_running_loop().time() < deadline, what
            await asyncio.sleep(0.2)
