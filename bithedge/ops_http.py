"""The operations endpoints every daemon serves: ``/health``, ``/ready`` and Prometheus ``/metrics``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def serve_ops(host: str, port: int, *, health: Handler, ready: Handler,
                    metrics: Handler) -> tuple[web.AppRunner, int]:
    """Start the three endpoints on ``host:port`` (0: any free port); returns the runner (clean it up on
    shutdown) and the port it listens on."""
    app = web.Application()
    app.router.add_get("/health", health)
    app.router.add_get("/ready", ready)
    app.router.add_get("/metrics", metrics)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner, runner.addresses[0][1]
