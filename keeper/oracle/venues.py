"""One adapter per price source: the request for a pair and the parse of the venue's real reply
(formats: the venues' docs and recorded responses). A parse either returns a `Reading` or raises
`BadResponse` with the reason; it never returns a price it did not check (positive, finite, the pair
asked for, a timestamp that parses)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from bithedge.protocol.units import BP
from keeper.oracle.model import BadResponse, decimal_price, parse_json, short


@dataclass(frozen=True)
class Pair:
    asset: str  # "BTC", "STX", "USDT"
    symbol: str  # what the request names
    quote_ccy: str  # "USD" or "USDT"
    aliases: tuple[str, ...] = ()  # other names the reply may use for it (Kraken's X/Z names)


@dataclass(frozen=True)
class Reading:
    raw: str  # the price text as sent
    price: Decimal  # in the pair's quote currency
    observed_at: float | None  # epoch seconds, None when the venue sends no time


class Venue:
    """Base of the adapters: the name, the real API base and the pairs it quotes."""

    name: str
    real_base: str
    pairs: tuple[Pair, ...]
    takes_api_key = False

    def pair(self, asset: str) -> Pair | None:
        return next((p for p in self.pairs if p.asset == asset), None)

    def request(self, pair: Pair) -> tuple[str, dict[str, str]]:
        """The path (below the base URL) and query of the ticker request."""
        raise NotImplementedError

    def auth_headers(self, api_key: str) -> dict[str, str]:
        """The request headers that carry ``api_key`` (venues with ``takes_api_key``)."""
        raise NotImplementedError

    def parse(self, body: str, pair: Pair) -> Reading:
        """The reading in a 200 reply; an error envelope (some venues send errors with a 200) is refused."""
        doc = _obj(parse_json(body), "reply")
        if err := self.error_text(doc):
            raise BadResponse(f"{self.name} error: {err}")
        return self.read(doc, pair)

    def read(self, doc: dict, pair: Pair) -> Reading:
        """The reading in a reply document that is not an error."""
        raise NotImplementedError

    def error_text(self, doc: Any) -> str | None:
        """The message of the venue's error body (a parsed JSON document), when it has that shape."""
        return None


def _obj(doc: Any, what: str) -> dict:
    if not isinstance(doc, dict):
        raise BadResponse(f"{what} is {type(doc).__name__}, not an object")
    return doc


def _field(doc: dict, key: str) -> Any:
    if key not in doc:
        raise BadResponse(f"no {key!r} in the reply")
    return doc[key]


def _reading(value: Any, observed_at: float | None) -> Reading:
    return Reading(str(value), decimal_price(value), observed_at)


def _epoch(value: Any, unit: int, what: str = "timestamp") -> float:
    """A unix time sent as a number or a digit string, in 1/unit seconds."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise BadResponse(f"{what} is {type(value).__name__}")
    try:
        seconds = Decimal(value) / unit
    except ArithmeticError:
        raise BadResponse(f"{what} {short(str(value))!r} is not a unix time") from None
    if not seconds.is_finite() or seconds <= 0:
        raise BadResponse(f"{what} {value!r} is not a unix time")
    return float(seconds)  # a time, never a price


def _iso(value: Any) -> float:
    if not isinstance(value, str):
        raise BadResponse(f"time is {type(value).__name__}, not an ISO-8601 string")
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise BadResponse(f"time {short(value)!r} is not ISO-8601") from None
    if t.tzinfo is None:
        raise BadResponse(f"time {value!r} has no time zone")
    return t.timestamp()


def _same_pair(got: Any, pair: Pair) -> None:
    if got != pair.symbol and got not in pair.aliases:
        raise BadResponse(f"reply is for {short(str(got))!r}, not {pair.symbol!r}")


class Coinbase(Venue):
    """Coinbase Exchange `GET /products/{id}/ticker`: strings, `time` ISO-8601 with microseconds."""

    name, real_base = "coinbase", "https://api.exchange.coinbase.com"
    pairs = (Pair("BTC", "BTC-USD", "USD"), Pair("STX", "STX-USD", "USD"), Pair("USDT", "USDT-USD", "USD"))

    def request(self, pair):
        return f"/products/{pair.symbol}/ticker", {}

    def read(self, doc, pair):
        return _reading(_field(doc, "price"), _iso(_field(doc, "time")))

    def error_text(self, doc):
        return short(str(doc["message"])) if isinstance(doc, dict) and "message" in doc else None


class Kraken(Venue):
    """Kraken `GET /0/public/Ticker?pair=`: `{"error": [...], "result": {PAIRKEY: {"c": [last, vol], ...}}}`,
    keyed by Kraken's own pair name (legacy X/Z names), and no timestamp."""

    name, real_base = "kraken", "https://api.kraken.com"
    pairs = (Pair("BTC", "XBTUSD", "USD", ("XXBTZUSD",)), Pair("STX", "STXUSD", "USD"),
             Pair("USDT", "USDTUSD", "USD", ("USDTZUSD",)))

    def request(self, pair):
        return "/0/public/Ticker", {"pair": pair.symbol}

    def read(self, doc, pair):
        result = _obj(_field(doc, "result"), "result")
        if len(result) != 1:
            raise BadResponse(f"result holds {len(result)} pairs, not 1")
        (key, ticker), = result.items()
        _same_pair(key, pair)
        last = _field(_obj(ticker, "ticker"), "c")
        if not isinstance(last, list) or not last:
            raise BadResponse("'c' is not [price, volume]")
        return _reading(last[0], None)

    def error_text(self, doc):
        errors = doc.get("error") if isinstance(doc, dict) else None
        return short("; ".join(map(str, errors))) if isinstance(errors, list) and errors else None


class Bitstamp(Venue):
    """Bitstamp `GET /api/v2/ticker/{pair}/`: strings, `timestamp` unix seconds; the reply names no pair."""

    name, real_base = "bitstamp", "https://www.bitstamp.net"
    pairs = (Pair("BTC", "btcusd", "USD"), Pair("USDT", "usdtusd", "USD"))

    def request(self, pair):
        return f"/api/v2/ticker/{pair.symbol}/", {}

    def read(self, doc, pair):
        return _reading(_field(doc, "last"), _epoch(_field(doc, "timestamp"), 1))

    def error_text(self, doc):
        if not isinstance(doc, dict):
            return None
        err = doc.get("error") or (doc.get("reason") if doc.get("status") == "error" else None)
        return short(str(err)) if err else None


class Binance(Venue):
    """Binance `GET /api/v3/ticker/24hr?symbol=` (weight 2, as ticker/price): `lastPrice` (string) and the rolling
    window's `closeTime` (ms), the only time Binance's tickers carry (ticker/price has none), so a frozen or cached
    reply shows as stale; errors `{"code": -1121, "msg": "Invalid symbol."}`, 429 / 418 over the request weight."""

    name, real_base = "binance", "https://data-api.binance.vision"
    pairs = (Pair("BTC", "BTCUSDT", "USDT"), Pair("STX", "STXUSDT", "USDT"))

    def request(self, pair):
        return "/api/v3/ticker/24hr", {"symbol": pair.symbol}

    def read(self, doc, pair):
        _same_pair(_field(doc, "symbol"), pair)
        return _reading(_field(doc, "lastPrice"), _epoch(_field(doc, "closeTime"), 1000, "closeTime"))

    def error_text(self, doc):
        if isinstance(doc, dict) and "code" in doc and "msg" in doc:
            return short(f"{doc['code']} {doc['msg']}")
        return None


class Okx(Venue):
    """OKX `GET /api/v5/market/ticker?instId=`: `{"code": "0", "msg": "", "data": [{instId, last, ts ms}]}`;
    an error has a non-"0" code and often no `data`."""

    name, real_base = "okx", "https://www.okx.com"
    pairs = (Pair("BTC", "BTC-USDT", "USDT"), Pair("STX", "STX-USDT", "USDT"))

    def request(self, pair):
        return "/api/v5/market/ticker", {"instId": pair.symbol}

    def read(self, doc, pair):
        data = _field(doc, "data")
        if not isinstance(data, list) or len(data) != 1:
            raise BadResponse("'data' is not a one-ticker list")
        t = _obj(data[0], "data[0]")
        _same_pair(_field(t, "instId"), pair)
        return _reading(_field(t, "last"), _epoch(_field(t, "ts"), 1000))

    def error_text(self, doc):
        if isinstance(doc, dict) and str(doc.get("code", "0")) != "0":
            return short(f"{doc.get('code')} {doc.get('msg', '')}".strip())
        return None


class Pyth(Venue):
    """Pyth Hermes `GET /v2/updates/price/latest?ids[]=`: `parsed[].price` = {price: str, conf: str,
    expo: int, publish_time: s}, id hex without 0x; errors are plain text (404 `Price ids not found`)."""

    name, real_base = "pyth", "https://hermes.pyth.network"
    #: public Hermes requires a key from 2026-08-18, as a Bearer token (fetch-price-updates.mdx)
    takes_api_key = True
    #: Pyth's publishers disagree more than this (conf, same exponent as the price): not a usable price
    MAX_CONF_BP = 100
    pairs = (Pair("BTC", "e62df6c8b4a85fe1a67db44dc12de5db330f7ac66b72dc658afedf0f4a415b43", "USD"),
             Pair("STX", "ec7a775f46379b5e943c3526b1c8d54cd49749176b0b98e02dde68d1bd335c17", "USD"),
             Pair("USDT", "2b89b9dc8fdf9f34709a5b106b472f0f39bb6ca9ce04b0fd7f2e971688e2e53b", "USD"))

    def request(self, pair):
        return "/v2/updates/price/latest", {"ids[]": pair.symbol, "parsed": "true"}

    def auth_headers(self, api_key):
        return {"Authorization": f"Bearer {api_key}"}

    def read(self, doc, pair):
        feeds = _field(doc, "parsed")
        if not isinstance(feeds, list):
            raise BadResponse("'parsed' is not a list")
        feed = next((f for f in feeds if isinstance(f, dict) and f.get("id") == pair.symbol), None)
        if feed is None:
            got = [f.get("id") for f in feeds if isinstance(f, dict)]
            raise BadResponse(f"reply has no feed {pair.symbol[:8]}… (got {short(str(got), 60)})")
        p = _obj(_field(feed, "price"), "price")
        mantissa, expo = _field(p, "price"), _field(p, "expo")
        if not isinstance(expo, int) or isinstance(expo, bool) or not -30 <= expo <= 30:
            raise BadResponse(f"expo {short(str(expo))!r} is not a small integer")
        value = decimal_price(mantissa)
        conf = decimal_price(_field(p, "conf"), "conf") if p.get("conf") not in ("0", 0) else Decimal(0)
        if conf * BP > value * self.MAX_CONF_BP:
            raise BadResponse(f"confidence ±{conf * BP / value:.0f} bp is wider than {self.MAX_CONF_BP} bp")
        return Reading(f"{mantissa}e{expo}", value.scaleb(expo), _epoch(_field(p, "publish_time"), 1, "publish_time"))


class CoinGecko(Venue):
    """CoinGecko `GET /api/v3/simple/price?ids=&vs_currencies=usd&include_last_updated_at=true`:
    `{id: {"usd": number, "last_updated_at": s}}`; STX is the id `blockstack`."""

    name, real_base = "coingecko", "https://api.coingecko.com"
    pairs = (Pair("BTC", "bitcoin", "USD"), Pair("STX", "blockstack", "USD"), Pair("USDT", "tether", "USD"))

    def request(self, pair):
        return "/api/v3/simple/price", {"ids": pair.symbol, "vs_currencies": "usd", "include_last_updated_at": "true"}

    def read(self, doc, pair):
        coin = doc.get(pair.symbol)
        if not isinstance(coin, dict) or "usd" not in coin:
            raise BadResponse(f"reply has no {pair.symbol}/usd (got {short(str(sorted(doc)), 60)})")
        at = coin.get("last_updated_at")
        return _reading(coin["usd"], None if at is None else _epoch(at, 1, "last_updated_at"))

    def error_text(self, doc):
        if not isinstance(doc, dict):
            return None
        status = doc.get("status")
        if isinstance(status, dict) and "error_message" in status:
            return short(f"{status.get('error_code', '')} {status['error_message']}".strip())
        return short(str(doc["error"])) if "error" in doc else None


#: Every adapter, by name.
VENUES: dict[str, Venue] = {v.name: v for v in (Coinbase(), Kraken(), Bitstamp(), Binance(), Okx(), Pyth(), CoinGecko())}
