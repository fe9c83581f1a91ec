"""Every adapter on the venues' recorded real replies (`../shared/fixtures/prices/`, read in place),
and on the bad replies a venue can send: each is refused with a reason, never a price."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from keeper.oracle.model import BadResponse, to_units
from keeper.oracle.venues import VENUES, Pair
from tests.conftest import SHARED

PRICES = SHARED / "fixtures" / "prices"
needs_fixtures = pytest.mark.skipif(not PRICES.exists(), reason=f"recorded price replies not found at {PRICES}")

BTC_USDT = {  # the pair each 2024-03-13 ccxt fixture was recorded for
    "coinbase": Pair("BTC", "BTC-USDT", "USDT"),
    "kraken": Pair("BTC", "XBTUSDT", "USDT"),
    "bitstamp": Pair("BTC", "btcusdt", "USDT"),
    "binance": Pair("BTC", "BTCUSDT", "USDT"),
    "okx": Pair("BTC", "BTC-USDT", "USDT"),
}


def fixture(path: str) -> str:
    return (PRICES / path).read_text()


@needs_fixtures
@pytest.mark.parametrize("venue, path, pair, price, observed_at", [
    ("coinbase", "coinbase/exchange-ticker-btc-usdt-ccxt-2024-03-13.json", BTC_USDT["coinbase"], "73367.8",
     1710328241.270099),
    ("kraken", "kraken/ticker-xbtusdt-ccxt-2024-03-13.json", BTC_USDT["kraken"], "73380.60000", None),
    ("kraken", "kraken/ticker-xbtusdt-2025-11-11.json", BTC_USDT["kraken"], "105899.40000", None),
    ("bitstamp", "bitstamp/v2-ticker-btcusdt-ccxt-2024-03-13.json", BTC_USDT["bitstamp"], "73285", 1710328241),
    ("bitstamp", "bitstamp/v1-ticker-btcusd-2013-10-14.json", VENUES["bitstamp"].pair("BTC"), "134.89", 1381787133),
    ("binance", "binance/ticker-24hr-btcusdt-2021-10-22.json", VENUES["binance"].pair("BTC"), "60755.18000000",
     1634944401.452),
    ("binance", "binance/ticker-24hr-btcusdt-ccxt-2024-03-13.json", VENUES["binance"].pair("BTC"), "73369.84000000",
     1710328245.391),
    ("okx", "okx/market-ticker-btc-usdt-ccxt-2024-03-13.json", VENUES["okx"].pair("BTC"), "73384.8", 1710328243.709),
    ("pyth", "pyth/hermes-latest-btc-usd-2024-02-19.json", VENUES["pyth"].pair("BTC"), "5190075917635e-8",
     1708363256),
    ("pyth", "pyth/hermes-latest-btc-usd-and-eth-btc-2024-05-03.json", VENUES["pyth"].pair("BTC"),
     "6140993501000e-8", 1714746101),
    ("pyth", "pyth/hermes-stream-event-btc-usd-2024-05-03.json", VENUES["pyth"].pair("BTC"), "6163260000000e-8",
     1714748300),
    ("coingecko", "coingecko/simple-price-bitcoin-usd-2025-07-02.json", VENUES["coingecko"].pair("BTC"), "106641",
     None),
])
def test_recorded_replies_parse(venue, path, pair, price, observed_at):
    r = VENUES[venue].parse(fixture(path), pair)
    assert r.raw == price
    assert r.price == (Decimal(price) if "e" not in price else Decimal(price.split("e")[0]).scaleb(-8))
    assert r.observed_at == pytest.approx(observed_at) if observed_at else r.observed_at is None
    assert isinstance(to_units(r.price), int) and to_units(r.price) > 0


@needs_fixtures
def test_pyth_price_is_mantissa_times_ten_to_expo_without_floats():
    r = VENUES["pyth"].parse(fixture("pyth/hermes-latest-btc-usd-2024-02-19.json"), VENUES["pyth"].pair("BTC"))
    assert to_units(r.price) == 5190075917635  # expo -8: the mantissa is already USD x 1e8


@needs_fixtures
def test_the_binance_24h_ticker_close_time_as_a_string_or_a_number_is_the_same_time():
    # ccxt stores object-member numbers as strings (closeTime "1710328245391"); the live ticker sends numbers
    doc = json.loads(fixture("binance/ticker-24hr-btcusdt-ccxt-2024-03-13.json"))
    pair = VENUES["binance"].pair("BTC")
    as_number = VENUES["binance"].parse(json.dumps({**doc, "closeTime": int(doc["closeTime"])}), pair)
    assert as_number == VENUES["binance"].parse(json.dumps(doc), pair)
    with pytest.raises(BadResponse, match="closeTime is NoneType"):
        VENUES["binance"].parse(json.dumps({**doc, "closeTime": None}), pair)


@needs_fixtures
@pytest.mark.parametrize("venue, path, pair, reason", [
    # Kraken names the pair in the result key: the 2024 reply is XBTUSDT, not the XBTUSD (XXBTZUSD) asked for
    ("kraken", "kraken/ticker-xbtusdt-ccxt-2024-03-13.json", "BTC", "reply is for 'XBTUSDT', not 'XBTUSD'"),
    ("binance", "binance/ticker-24hr-btcusdt-2021-10-22.json", "STX", "reply is for 'BTCUSDT', not 'STXUSDT'"),
    ("okx", "okx/market-ticker-btc-usdt-ccxt-2024-03-13.json", "STX", "reply is for 'BTC-USDT', not 'STX-USDT'"),
    ("pyth", "pyth/hermes-latest-btc-usd-2024-02-19.json", "STX", "reply has no feed ec7a775f…"),
    ("coingecko", "coingecko/simple-price-bitcoin-usd-2025-07-02.json", "STX", "reply has no blockstack/usd"),
    ("okx", "okx/error-401-invalid-access-key-2026-09-29.json", "BTC", "okx error: 50111 Invalid OK-ACCESS-KEY"),
])
def test_a_reply_for_another_pair_or_an_error_envelope_is_refused(venue, path, pair, reason):
    with pytest.raises(BadResponse) as exc:
        VENUES[venue].parse(fixture(path), VENUES[venue].pair(pair))
    assert str(exc.value).startswith(reason)


def _mutate(path: str, edit) -> str:
    doc = json.loads(fixture(path))
    edit(doc)
    return json.dumps(doc)


BAD = {  # venue -> (fixture, function setting its price field to a value)
    "coinbase": ("coinbase/exchange-ticker-btc-usdt-ccxt-2024-03-13.json", lambda d, v: d.__setitem__("price", v)),
    "kraken": ("kraken/ticker-xbtusdt-ccxt-2024-03-13.json", lambda d, v: d["result"]["XBTUSDT"]["c"].__setitem__(0, v)),
    "bitstamp": ("bitstamp/v2-ticker-btcusdt-ccxt-2024-03-13.json", lambda d, v: d.__setitem__("last", v)),
    "binance": ("binance/ticker-24hr-btcusdt-2021-10-22.json", lambda d, v: d.__setitem__("lastPrice", v)),
    "okx": ("okx/market-ticker-btc-usdt-ccxt-2024-03-13.json", lambda d, v: d["data"][0].__setitem__("last", v)),
    "pyth": ("pyth/hermes-latest-btc-usd-2024-02-19.json", lambda d, v: d["parsed"][0]["price"].__setitem__("price", v)),
    "coingecko": ("coingecko/simple-price-bitcoin-usd-2025-07-02.json", lambda d, v: d["bitcoin"].__setitem__("usd", v)),
}


def _pair(venue: str) -> Pair:
    return BTC_USDT.get(venue) or VENUES[venue].pair("BTC")


@needs_fixtures
@pytest.mark.parametrize("venue", sorted(BAD))
@pytest.mark.parametrize("value, reason", [
    ("NaN", "price is NaN"), ("0", "price 0 is not positive"), ("-5", "price -5 is not positive"),
    ("abc", "price 'abc' is not a number"), (None, "price is NoneType"), ("Infinity", "price is Infinity"),
])
def test_bad_prices_in_each_venue_shape_are_refused(venue, value, reason):
    path, setter = BAD[venue]
    body = _mutate(path, lambda d: setter(d, value))
    with pytest.raises(BadResponse, match=reason.replace("(", r"\(")):
        VENUES[venue].parse(body, _pair(venue))


@needs_fixtures
@pytest.mark.parametrize("venue", sorted(BAD))
def test_truncated_html_and_bare_nan_bodies_are_refused(venue):
    body = fixture(BAD[venue][0])
    cases = {
        body[: len(body) // 2]: "body is not JSON",
        "<html><head><title>502 Bad Gateway</title></head><body>cloudflare</body></html>": "an HTML page",
        "": "body is not JSON",
        body.replace('"73367.8"', "NaN").replace('"60755.18000000"', "NaN").replace('"106669.01000000"', "NaN")
        .replace('"73285"', "NaN").replace('"73380.60000"', "NaN").replace('"73384.8"', "NaN")
        .replace('"5190075917635"', "NaN").replace("106641", "NaN"): "non-numeric JSON constant NaN",
    }
    for text, reason in cases.items():
        with pytest.raises(BadResponse, match=reason):
            VENUES[venue].parse(text, _pair(venue))


def test_numbers_never_pass_through_float():
    # a JSON number keeps every digit: 0.1 + 0.2 style float error would show in the last place
    body = json.dumps({"bitcoin": {"usd": 1}}).replace("1}", "70123.123456789}")
    r = VENUES["coingecko"].parse(body, VENUES["coingecko"].pair("BTC"))
    assert r.price == Decimal("70123.123456789") and to_units(r.price) == 7012312345679


@needs_fixtures
@pytest.mark.parametrize("venue, path, edit, price", [
    ("binance", "binance/ticker-24hr-btcusdt-2021-10-22.json",
     lambda d: d.update(symbol="STXUSDT", lastPrice="0.62140000"), "0.62140000"),
    ("okx", "okx/market-ticker-btc-usdt-ccxt-2024-03-13.json",
     lambda d: d["data"][0].update(instId="STX-USDT", last="2.9871"), "2.9871"),
    ("kraken", "kraken/ticker-xbtusdt-2025-11-11.json",
     lambda d: d.update(result={"STXUSD": {**d["result"]["XBTUSDT"], "c": ["0.61230", "12.5"]}}), "0.61230"),
    ("coinbase", "coinbase/exchange-ticker-btc-usdt-ccxt-2024-03-13.json", lambda d: d.update(price="0.6125"),
     "0.6125"),
    ("pyth", "pyth/hermes-latest-btc-usd-2024-02-19.json", lambda d: d["parsed"][0].update(
        id=VENUES["pyth"].pair("STX").symbol, price={**d["parsed"][0]["price"], "price": "61230000", "conf": "31000"}), "61230000e-8"),
    ("coingecko", "coingecko/simple-price-bitcoin-usd-2025-07-02.json",
     lambda d: d.update(blockstack={"usd": 0.612345}), "0.612345"),
])
def test_stx_pairs_on_the_recorded_shapes(venue, path, edit, price):
    # no STX reply was ever recorded: the same endpoints' replies with the STX pair's name and a price
    r = VENUES[venue].parse(_mutate(path, edit), VENUES[venue].pair("STX"))
    assert r.raw == price and Decimal("0.6") < r.price < Decimal("3")


@needs_fixtures
def test_a_pyth_price_with_a_wide_confidence_interval_is_refused():
    path, pair = "pyth/hermes-latest-btc-usd-2024-02-19.json", VENUES["pyth"].pair("BTC")
    wide = _mutate(path, lambda d: d["parsed"][0]["price"].update(conf="60000000000"))  # ±600 USD of 51,900: 115 bp
    with pytest.raises(BadResponse, match="confidence ±116 bp is wider than 100 bp"):
        VENUES["pyth"].parse(wide, pair)
    assert VENUES["pyth"].parse(fixture(path), pair).price > 0  # the recorded one: ±5 bp
