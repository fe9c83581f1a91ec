"""The exchange-like price feed: ``GET /prices`` (all venues), ``GET /prices/{venue}``,
``GET /ticker?venue=…&symbol=BTC-USD``, ``GET /health``; and every venue's own ticker API under
``/{venue}`` with the real API's paths, query and reply shapes (so the keeper's adapters work
unchanged with the base URL ``http://<feed>/{venue}``), its latency, outages in that venue's error
shapes, and frozen quotes. Listens on loopback unless `price_feed_loopback_only` is off."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime

from aiohttp import web

from bithedge.simulator.market import Feed, Served

LOOPBACK = ("127.0.0.1", "localhost", "::1")
ERROR_PAGE = ("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway"
              "</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n")
NOT_FOUND_PAGE = "<!DOCTYPE html><html><head><title>404 Not Found</title></head><body>Not Found</body></html>"


def _json(doc: object, status: int = 200, **headers: str) -> web.Response:
    return web.Response(text=json.dumps(doc), status=status, content_type="application/json", headers=headers)


def _text(text: str, status: int) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/plain")


def _fmt(price: float, decimals: int) -> str:
    return f"{price:.{decimals}f}"


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ---- each venue: its symbols (what its API calls our assets) and its reply shapes ------------------------

def _coinbase(q: Served, symbol: str, d: int) -> object:
    p = q.price
    return {"ask": _fmt(p * 1.0001, d), "bid": _fmt(p * 0.9999, d), "volume": "1207.50668151",
            "trade_id": str(int(q.ts * 10)), "price": _fmt(p, d), "size": "0.00730812", "time": _iso(q.ts),
            "rfq_volume": "7.669923"}


def _kraken(q: Served, key: str, d: int) -> object:
    p = q.price
    return {"error": [], "result": {key: {
        "a": [_fmt(p * 1.0001, d), "1", "1.000"], "b": [_fmt(p * 0.9999, d), "1", "1.000"],
        "c": [_fmt(p, d), "0.00160710"], "v": ["165.16072288", "598.03698452"],
        "p": [_fmt(p * 0.999, d), _fmt(p * 0.998, d)], "t": [6405, 21103],
        "l": [_fmt(p * 0.98, d), _fmt(p * 0.97, d)], "h": [_fmt(p * 1.01, d), _fmt(p * 1.02, d)],
        "o": _fmt(p * 0.995, d)}}}


def _bitstamp(q: Served, _symbol: str, d: int) -> object:
    p = q.price
    return {"timestamp": str(int(q.ts)), "open": _fmt(p * 0.995, d), "high": _fmt(p * 1.01, d),
            "low": _fmt(p * 0.98, d), "last": _fmt(p, d), "volume": "135.29692054", "vwap": _fmt(p * 0.999, d),
            "bid": _fmt(p * 0.9999, d), "ask": _fmt(p * 1.0001, d), "side": "0", "open_24": _fmt(p * 0.99, d),
            "percent_change_24": "1.01"}


def _binance(q: Served, symbol: str, d: int) -> object:
    return {"symbol": symbol, "price": _fmt(q.price, d)}


def _binance_24hr(q: Served, symbol: str, d: int) -> object:
    """`/api/v3/ticker/24hr` for one symbol: the window closes at the quote's time (it stops with a frozen quote)."""
    p, close = q.price, int(q.ts * 1000)
    return {"symbol": symbol, "priceChange": _fmt(p * 0.01, d), "priceChangePercent": "1.010",
            "weightedAvgPrice": _fmt(p * 0.999, d), "prevClosePrice": _fmt(p * 0.99, d), "lastPrice": _fmt(p, d),
            "lastQty": "0.20083000", "bidPrice": _fmt(p * 0.9999, d), "bidQty": "0.34024000",
            "askPrice": _fmt(p * 1.0001, d), "askQty": "0.64537000", "openPrice": _fmt(p * 0.99, d),
            "highPrice": _fmt(p * 1.01, d), "lowPrice": _fmt(p * 0.98, d), "volume": "53076.84650000",
            "quoteVolume": "3289695271.67717710", "openTime": close - 86_400_000, "closeTime": close,
            "firstId": 1109901940, "lastId": 1111482582, "count": 1580643}


def _okx(q: Served, symbol: str, d: int) -> object:
    p, ts = q.price, str(int(q.ts * 1000))
    return {"code": "0", "msg": "", "data": [{
        "instType": "SPOT", "instId": symbol, "last": _fmt(p, d), "lastSz": "0.00007722",
        "askPx": _fmt(p * 1.0001, d), "askSz": "0.40193728", "bidPx": _fmt(p * 0.9999, d), "bidSz": "0.0655768",
        "open24h": _fmt(p * 0.99, d), "high24h": _fmt(p * 1.01, d), "low24h": _fmt(p * 0.98, d),
        "volCcy24h": "1519926359.597266598", "vol24h": "21266.19145051", "ts": ts,
        "sodUtc0": _fmt(p * 0.995, d), "sodUtc8": _fmt(p * 0.996, d)}]}


def _pyth_feed(q: Served, feed_id: str, tick: int) -> dict:
    price = {"price": str(round(q.price * 1e8)), "conf": str(round(q.price * 1e8 * 0.0004)), "expo": -8,
             "publish_time": int(q.ts)}
    return {"id": feed_id, "price": price, "ema_price": dict(price),
            "metadata": {"slot": tick, "proof_available_time": int(q.ts) + 1, "prev_publish_time": int(q.ts) - 1}}


PYTH_IDS = {"e62df6c8b4a85fe1a67db44dc12de5db330f7ac66b72dc658afedf0f4a415b43": "BTC",
            "ec7a775f46379b5e943c3526b1c8d54cd49749176b0b98e02dde68d1bd335c17": "STX",
            "2b89b9dc8fdf9f34709a5b106b472f0f39bb6ca9ce04b0fd7f2e971688e2e53b": "USDT"}
COINGECKO_IDS = {"bitcoin": "BTC", "blockstack": "STX", "tether": "USDT"}
DECIMALS = {"BTC": 2, "STX": 4, "USDT": 5}


def make_app(feed: Feed, hang_s: float = 10.0) -> web.Application:
    """``hang_s``: how long a hanging venue keeps a request open (beyond any sane client timeout)."""

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

    async def reply(name: str, render: Callable[[Served], object] | None, asset: str | None,
                    unknown: Callable[[], web.Response], limited: Callable[[], web.Response]) -> web.Response:
        """The venue's reply: after its latency, its outage if it is down, else the quote (or, for a
        pair it does not list, its unknown-pair reply)."""
        st = feed.state[name]
        await asyncio.sleep(st.latency_ms / 1000)
        if st.outage == "rate-limit":
            return limited()
        if st.outage == "error-page":
            return web.Response(text=ERROR_PAGE, status=502, content_type="text/html")
        if st.outage == "hang":
            await asyncio.sleep(hang_s)
            return web.Response(text=ERROR_PAGE.replace("502 Bad Gateway", "504 Gateway Time-out"), status=504,
                                content_type="text/html")
        if render is None or asset is None or asset not in st.quotes:
            return unknown()
        body = json.dumps(render(st.quotes[asset]))
        if st.outage == "truncated":  # a proxy cut the body: a complete HTTP reply, half a JSON document
            body = body[: len(body) // 2]
        return web.Response(text=body, content_type="application/json")

    async def coinbase(req: web.Request) -> web.Response:
        symbol = req.match_info["product"]
        asset = {"BTC-USD": "BTC", "STX-USD": "STX", "USDT-USD": "USDT"}.get(symbol)
        return await reply("coinbase", lambda q: _coinbase(q, symbol, DECIMALS[asset]), asset,
                           lambda: _json({"message": "NotFound"}, 404),
                           lambda: _json({"message": "Public rate limit exceeded"}, 429))

    async def kraken(req: web.Request) -> web.Response:
        names = {"XBTUSD": ("BTC", "XXBTZUSD"), "XXBTZUSD": ("BTC", "XXBTZUSD"), "STXUSD": ("STX", "STXUSD"),
                 "USDTUSD": ("USDT", "USDTZUSD"), "USDTZUSD": ("USDT", "USDTZUSD")}
        asset, key = names.get(req.query.get("pair", ""), (None, ""))
        return await reply("kraken", lambda q: _kraken(q, key, 5), asset,
                           lambda: _json({"error": ["EQuery:Unknown asset pair"]}),
                           lambda: _json({"error": ["EAPI:Rate limit exceeded"]}))

    async def bitstamp(req: web.Request) -> web.Response:
        symbol = req.match_info["pair"]
        asset = {"btcusd": "BTC", "usdtusd": "USDT"}.get(symbol)
        return await reply("bitstamp", lambda q: _bitstamp(q, symbol, 0 if asset == "BTC" else 5), asset,
                           lambda: web.Response(text=NOT_FOUND_PAGE, status=404, content_type="text/html"),
                           lambda: _json({"error": "Rate limit exceeded"}, 429))

    async def binance(req: web.Request) -> web.Response:
        symbol = req.query.get("symbol", "")
        render = _binance_24hr if req.path.endswith("/24hr") else _binance
        asset = {"BTCUSDT": "BTC", "STXUSDT": "STX"}.get(symbol)
        # past the weight limit Binance answers 429; an IP that keeps going is banned with 418
        banned = feed.state["binance"].outage_left > 6
        return await reply("binance", lambda q: render(q, symbol, 8), asset,
                           lambda: _json({"code": -1121, "msg": "Invalid symbol."}, 400),
                           lambda: _json({"code": -1003, "msg": "Way too many requests; IP banned."
                                          if banned else "Too many requests; current limit is 6000 request weight "
                                          "per 1 MINUTE."}, 418 if banned else 429, **{"Retry-After": "60"}))

    async def okx(req: web.Request) -> web.Response:
        symbol = req.query.get("instId", "")
        asset = {"BTC-USDT": "BTC", "STX-USDT": "STX"}.get(symbol)
        return await reply("okx", lambda q: _okx(q, symbol, 1 if asset == "BTC" else 4), asset,
                           lambda: _json({"code": "51001", "msg": "Instrument ID does not exist", "data": []}),
                           lambda: _json({"msg": "Too Many Requests", "code": "50011"}, 429))

    async def pyth(req: web.Request) -> web.Response:
        ids = [i.removeprefix("0x") for i in req.query.getall("ids[]", [])]
        missing = [i for i in ids if i not in PYTH_IDS]
        st = feed.state["pyth"]

        def render(_q: Served) -> object:
            return {"binary": {"encoding": "hex", "data": []},  # the simulator signs no Wormhole message
                    "parsed": [_pyth_feed(st.quotes[PYTH_IDS[i]], i, feed.tick) for i in ids]}

        ok = bool(ids) and not missing and all(PYTH_IDS[i] in st.quotes for i in ids)
        return await reply("pyth", render, PYTH_IDS[ids[0]] if ok else None,
                           lambda: _text(f"Price ids not found: {', '.join(missing or ids)}", 404),
                           lambda: _text("Too Many Requests", 429))

    async def coingecko(req: web.Request) -> web.Response:
        ids = [i for i in req.query.get("ids", "").split(",") if i in COINGECKO_IDS]
        want_usd = "usd" in req.query.get("vs_currencies", "").split(",")
        with_time = req.query.get("include_last_updated_at") == "true"
        st = feed.state["coingecko"]

        def render(_q: Served) -> object:
            out = {}
            for i in ids if want_usd else ():
                q = st.quotes[COINGECKO_IDS[i]]
                out[i] = {"usd": round(q.price, 2 if i == "bitcoin" else 6), **(
                    {"last_updated_at": int(q.ts)} if with_time else {})}
            return out

        return await reply("coingecko", render, "BTC", lambda: _json({}),
                           lambda: _json({"status": {"error_code": 429, "error_message": "You've exceeded the Rate "
                                                     "Limit. Please visit https://www.coingecko.com/en/api/pricing "
                                                     "to subscribe to our API plans for higher rate limits."}}, 429))

    app = web.Application()
    app.router.add_get("/prices", prices)
    app.router.add_get("/prices/{venue}", venue)
    app.router.add_get("/ticker", ticker)
    app.router.add_get("/health", health)
    app.router.add_get("/coinbase/products/{product}/ticker", coinbase)
    app.router.add_get("/kraken/0/public/Ticker", kraken)
    app.router.add_get("/bitstamp/api/v2/ticker/{pair}/", bitstamp)
    app.router.add_get("/binance/api/v3/ticker/price", binance)
    app.router.add_get("/binance/api/v3/ticker/24hr", binance)
    app.router.add_get("/okx/api/v5/market/ticker", okx)
    app.router.add_get("/pyth/v2/updates/price/latest", pyth)
    app.router.add_get("/coingecko/api/v3/simple/price", coingecko)
    return app


async def serve(feed: Feed, host: str, port: int, loopback_only: bool | None = None) -> web.AppRunner:
    """``loopback_only`` defaults to the `price_feed_loopback_only` setting."""
    if loopback_only is None:
        from bithedge.settings import get_settings

        loopback_only = get_settings().price_feed_loopback_only
    if loopback_only and host not in LOOPBACK:
        raise ValueError("the price feed only listens on loopback (set BITHEDGE_PRICE_FEED_LOOPBACK_ONLY=false "
                         "to serve it on another interface)")
    runner = web.AppRunner(make_app(feed), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
