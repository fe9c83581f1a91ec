"""The exchange-like price feed on loopback: ``GET /prices`` (all venues), ``GET /prices/{venue}``,
``GET /ticker?venue=…&symbol=BTC-USD``, ``GET /health``. The keeper aggregates these."""

from __future__ import annotations

from aiohttp import web

from bithedge.simulator.market import Feed


def make_app(feed: Feed) -> web.Application:
    async def prices(_req: web.Request) -> web.Response:
        return web.json_response(feed.snapshot())

    async def venue(req: web.Request) -> web.Response:
        q = feed.quotes.get(req.match_info["venue"])
        if q is None:
            return web.json_response({"error": "unknown venue", "venues": sorted(feed.quotes)}, status=404)
        return web.json_response({"venue": req.match_info["venue"], "tick": feed.tick, "quotes": q})

    async def ticker(req: web.Request) -> web.Response:
        v, sym = req.query.get("venue"), req.query.get("symbol", "BTC-USD")
        q = feed.quotes.get(v or "", {}).get(sym)
        if q is None:
            return web.json_response({"error": "unknown venue or symbol"}, status=404)
        return web.json_response({"venue": v, "symbol": sym, **q})

    async def health(_req: web.Request) -> web.Response:
        return web.json_response({"ok": True, "tick": feed.tick})

    app = web.Application()
    app.router.add_get("/prices", prices)
    app.router.add_get("/prices/{venue}", venue)
    app.router.add_get("/ticker", ticker)
    app.router.add_get("/health", health)
    return app


async def serve(feed: Feed, host: str, port: int) -> web.AppRunner:
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("the price feed only listens on loopback")
    runner = web.AppRunner(make_app(feed), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
