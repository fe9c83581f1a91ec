"""Seedable BTC and STX price paths: correlated geometric Brownian motion with Poisson jumps and a
volatility regime (calm / stressed, and a rare STX crash in which both coins fall for a while, STX
faster, so capped payouts fall short of what puts owe) and a USDT/USD rate, one step per simulated
block; plus the venues of an exchange-like feed (each with its own bias, noise, lag and rare outliers)
and their own APIs' view (quote currency, latency, outages, frozen quotes), with two aggregators."""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass, field, replace

ASSETS = ("BTC", "STX")


@dataclass(frozen=True, eq=False)
class Regime:
    name: str
    vol: dict[str, float]  # annualised volatility per asset
    jump_rate: float  # expected jumps per step
    jump_scale: float  # std of log jump size
    fall: dict[str, float] = field(default_factory=dict)  # log price drift per step, on top of the vol


CALM = Regime("calm", {"BTC": 0.45, "STX": 0.80}, 0.002, 0.03)
STRESSED = Regime("stressed", {"BTC": 1.10, "STX": 1.80}, 0.02, 0.06)
# Over its 30 steps BTC falls to about 0.22x and STX to about 0.09x, far below the stressed prices
# collateral is sized at (contracts/README.md, H-3), so capped payouts fall short and the insurance
# fund is asked to cover. The oracle's guard lets the on-chain prices follow only so fast.
STX_CRASH = Regime("stx-crash", {"BTC": 1.10, "STX": 1.80}, 0.02, 0.04, {"BTC": -0.05, "STX": -0.08})


@dataclass
class Market:
    seed: int = 0
    btc: float = 95_000.0
    stx: float = 1.50
    #: simulated seconds per step; a devnet block every ~2 s stands in for ~10 min of market time
    dt_seconds: float = 600.0
    drift: float = 0.0
    correlation: float = 0.6
    p_stress: float = 0.01  # calm -> stressed per step
    p_calm: float = 0.05  # stressed -> calm per step
    p_crash: float = 0.002  # calm -> STX crash per step
    crash_steps: int = 30  # a crash lasts this many steps, then the market is stressed
    crash_at: int | None = None  # force a crash to start at this step (tests, demos)
    rng: random.Random = field(init=False)
    regime: Regime = field(init=False, default=None)  # type: ignore[assignment]
    step_no: int = field(init=False, default=0)
    crash_left: int = field(init=False, default=0)
    crashes: int = field(init=False, default=0)  # crashes started so far
    #: USDT/USD, mean-reverting around 1 (a few bp); drawn from its own stream so BTC and STX paths stay
    #: what they were for a seed
    usdt: float = field(init=False, default=1.0)
    usdt_rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.usdt_rng = random.Random(self.seed + 104_729)
        self.regime = CALM

    @property
    def prices(self) -> dict[str, float]:
        return {"BTC": self.btc, "STX": self.stx}

    def step(self) -> dict[str, float]:
        r = self.rng
        if self.regime is STX_CRASH:
            self.crash_left -= 1
            if self.crash_left <= 0:
                self.regime = STRESSED
        elif self.step_no == self.crash_at or (self.regime is CALM and r.random() < self.p_crash):
            self.regime, self.crash_left = STX_CRASH, self.crash_steps
            self.crashes += 1
        elif self.regime is CALM and r.random() < self.p_stress:
            self.regime = STRESSED
        elif self.regime is STRESSED and r.random() < self.p_calm:
            self.regime = CALM
        dt = self.dt_seconds / (365 * 24 * 3600)
        z1 = r.gauss(0, 1)
        z2 = self.correlation * z1 + math.sqrt(1 - self.correlation**2) * r.gauss(0, 1)
        for asset, z in (("BTC", z1), ("STX", z2)):
            vol = self.regime.vol[asset]
            log_ret = (self.drift - 0.5 * vol * vol) * dt + vol * math.sqrt(dt) * z + self.regime.fall.get(asset, 0.0)
            if r.random() < self.regime.jump_rate:
                log_ret += r.gauss(-0.01, self.regime.jump_scale)
            if asset == "BTC":
                self.btc = max(1000.0, self.btc * math.exp(log_ret))
            else:
                self.stx = max(0.01, self.stx * math.exp(log_ret))
        self.usdt = 1 + 0.8 * (self.usdt - 1) + self.usdt_rng.gauss(0, 3 / 1e4)
        self.step_no += 1
        return self.prices

    def annual_vol(self, asset: str = "BTC") -> float:
        return self.regime.vol[asset]


@dataclass
class Venue:
    name: str
    bias_bp: float  # persistent premium/discount
    noise_bp: float  # per-quote noise
    lag_steps: int  # how stale its prices are
    outlier_p: float  # chance of a bad print
    history: deque = field(default_factory=lambda: deque(maxlen=64))
    # its own API (bithedge/simulator/feed.py): what it quotes in, how slow and how unreliable it is
    quote_ccy: str = "USD"  # "USDT": BTC and STX are quoted in USDT (converted at the market's USDT/USD)
    latency_ms: float = 50.0  # mean reply time; each tick draws one within ±50 % of it
    outage_p: float = 0.004  # chance per tick that an outage starts (rate limit, error page, hang, cut body)
    stale_p: float = 0.003  # chance per tick that its quotes freeze (the venue time stops with them)


VENUES = (
    Venue("coinbase", 2, 3, 0, 0.002, latency_ms=40),
    Venue("binance", -3, 4, 0, 0.003, quote_ccy="USDT", latency_ms=60),
    Venue("kraken", 5, 6, 1, 0.004, latency_ms=90),
    Venue("bitstamp", 0, 8, 2, 0.005, latency_ms=120),
    Venue("okx", -6, 10, 1, 0.01, quote_ccy="USDT", latency_ms=150),
)
#: Aggregators quote a lagged median of the exchanges, with little noise.
AGGREGATORS = (
    Venue("pyth", 0, 1, 0, 0.0, latency_ms=30),
    Venue("coingecko", 0, 2, 2, 0.0, latency_ms=200),
)
#: What an outage looks like from outside, drawn per outage.
OUTAGES = ("rate-limit", "error-page", "hang", "truncated")


@dataclass(frozen=True)
class Served:
    """One quote as a venue's own API serves it: the price in the venue's quote currency, its time."""

    price: float
    ts: float


@dataclass
class VenueState:
    quotes: dict[str, Served] = field(default_factory=dict)  # asset ("BTC", "STX", "USDT") -> quote
    latency_ms: float = 0.0
    outage: str | None = None  # one of OUTAGES while down
    outage_left: int = 0
    frozen_left: int = 0


class Feed:
    """Quotes of several venues derived from the market, with noise, lag and occasional outliers; and
    each venue's own API view of them (`venues`): in its quote currency, with latency, outages and
    frozen (stale) quotes, plus two aggregators. The API view draws from its own random stream, so it
    never changes the quotes (or the market) a seed produces."""

    def __init__(self, market: Market, venues=VENUES, seed: int | None = None, aggregators=AGGREGATORS,
                 outage_ticks: tuple[int, int] = (3, 12), stale_ticks: tuple[int, int] = (10, 40)) -> None:
        self.market = market
        self.venues = [replace(v, history=deque(maxlen=64)) for v in venues]
        self.aggregators = [replace(v, history=deque(maxlen=64)) for v in aggregators]
        base = market.seed if seed is None else seed
        self.rng = random.Random(base + 7919)
        self.api_rng = random.Random(base + 15_485_863)
        self.outage_ticks, self.stale_ticks = outage_ticks, stale_ticks
        self.quotes: dict[str, dict[str, dict]] = {}
        self.state: dict[str, VenueState] = {v.name: VenueState() for v in (*self.venues, *self.aggregators)}
        self.tick = 0

    def update(self, ts: float) -> dict:
        self.tick += 1
        true = self.market.prices
        for v in self.venues:
            v.history.append(dict(true))
            base = v.history[max(0, len(v.history) - 1 - v.lag_steps)]
            q = {}
            for asset in ASSETS:
                px = base[asset] * (1 + v.bias_bp / 1e4 + self.rng.gauss(0, v.noise_bp / 1e4))
                if self.rng.random() < v.outlier_p:
                    px *= self.rng.choice((0.9, 0.95, 1.05, 1.12))
                q[f"{asset}-USD"] = {"price": round(px, 8 if asset == "STX" else 2), "ts": ts - v.lag_steps}
            self.quotes[v.name] = q
        self._update_apis(ts)
        return self.snapshot()

    def _update_apis(self, ts: float) -> None:
        r, usdt = self.api_rng, self.market.usdt
        medians = {a: self.median(a) for a in ASSETS}
        for v in self.aggregators:
            v.history.append(dict(medians))
        for v, aggregated in [(v, False) for v in self.venues] + [(v, True) for v in self.aggregators]:
            st = self.state[v.name]
            st.latency_ms = v.latency_ms * (0.5 + r.random())
            if st.outage_left > 0:
                st.outage_left -= 1
                st.outage = st.outage if st.outage_left else None
            elif r.random() < v.outage_p:
                st.outage, st.outage_left = r.choice(OUTAGES), r.randint(*self.outage_ticks)
            if st.frozen_left > 0:
                st.frozen_left -= 1
                continue
            if st.quotes and r.random() < v.stale_p:
                st.frozen_left = r.randint(*self.stale_ticks)
                continue
            rate = usdt if v.quote_ccy == "USDT" else 1.0
            if aggregated:
                base = v.history[max(0, len(v.history) - 1 - v.lag_steps)]
                prices = {a: base[a] * (1 + v.bias_bp / 1e4 + r.gauss(0, v.noise_bp / 1e4)) for a in ASSETS}
            else:
                prices = {a: self.quotes[v.name][f"{a}-USD"]["price"] for a in ASSETS}
            st.quotes = {a: Served(p / rate, ts) for a, p in prices.items()}
            st.quotes["USDT"] = Served(usdt * (1 + r.gauss(0, 2 / 1e4)), ts)

    def snapshot(self) -> dict:
        return {"tick": self.tick, "venues": self.quotes}

    def median(self, asset: str) -> float:
        xs = sorted(q[f"{asset}-USD"]["price"] for q in self.quotes.values())
        if not xs:
            return self.market.prices[asset]
        n = len(xs)
        return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2
