"""The oracle's configuration: which sources, where they are, and the aggregation rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from pydantic import SecretStr

from keeper.oracle.venues import VENUES

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class SourceConfig:
    venue: str  # a key of `keeper.oracle.venues.VENUES`
    base_url: str  # e.g. "https://api.kraken.com", or the simulator's "http://127.0.0.1:3800/kraken"
    timeout_s: float = 2.0
    #: the venue's API key (only Pyth Hermes takes one); a SecretStr, so no repr or log shows it
    api_key: SecretStr | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.venue not in VENUES:
            raise ValueError(f"unknown price source {self.venue!r} (known: {', '.join(VENUES)})")
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"{self.venue}: base URL {self.base_url!r} must start with http:// or https://")
        if self.api_key is not None:
            if not VENUES[self.venue].takes_api_key:
                raise ValueError(f"{self.venue} takes no API key")
            if self.base_url.startswith("http://") and urlsplit(self.base_url).hostname not in _LOOPBACK:
                # a key sent over plain HTTP is a key given to every network hop
                raise ValueError(f"{self.venue}: an API key is sent only over https:// (or to loopback), "
                                 f"not to {self.base_url!r}")


@dataclass(frozen=True)
class OracleConfig:
    sources: tuple[SourceConfig, ...]
    stale_s: float = 60.0  # a quote whose venue time is older than this is dropped
    future_skew_s: float = 5.0  # a venue time further ahead of ours than this is dropped
    band_bp: int = 200  # outliers: further than this from the median
    min_sources: int = 3  # quorum: at least this many usable quotes, and a majority of those configured
    usdt_depeg_bp: int = 100  # USDT-quoted venues are dropped while |USDT/USD - 1| exceeds this
    max_body_bytes: int = 1 << 20  # a longer reply is cut and refused

    def __post_init__(self) -> None:
        if not self.sources:
            raise ValueError("no price sources configured")
        names = [s.venue for s in self.sources]
        if len(set(names)) != len(names):
            raise ValueError(f"a price source is listed twice: {', '.join(names)}")
        if self.band_bp <= 0 or self.min_sources < 1 or self.stale_s <= 0:
            raise ValueError("band_bp, min_sources and stale_s must be positive")

    @classmethod
    def from_settings(cls, settings) -> OracleConfig:
        """From `bithedge.settings`: `keeper_sources` lists `venue` or `venue=base-url` entries. A venue
        without a URL is the simulator's copy of it when `keeper_price_feed_url` is set or `node_url`
        is not (the local devnet), and the venue's real API otherwise."""
        simulated = bool(settings.keeper_price_feed_url) or not settings.node_url
        feed = settings.keeper_price_feed_url or f"http://{settings.host}:{settings.price_feed_port}"
        sources = []
        for entry in filter(None, (e.strip() for e in settings.keeper_sources.split(","))):
            venue, _, url = (part.strip() for part in entry.partition("="))
            if not url:
                known = VENUES.get(venue)
                real = known.real_base if known else ""
                url = f"{feed.rstrip('/')}/{venue}" if simulated else real
            key = settings.keeper_pyth_api_key if venue == "pyth" else None
            sources.append(SourceConfig(venue, url.rstrip("/"), settings.keeper_source_timeout_s, key))
        return cls(tuple(sources), stale_s=settings.keeper_price_stale_s, band_bp=settings.keeper_price_band_bp,
                   min_sources=settings.keeper_min_sources, usdt_depeg_bp=settings.keeper_usdt_depeg_bp)
