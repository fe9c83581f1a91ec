"""Typed settings, read once from the environment (prefix ``BITHEDGE_``) and an optional ``.env``.

Every field here is documented in the README's configuration table; keep the two in step.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The checkout this package was installed from (editable install); data lives under it by default.
REPO_ROOT = Path(__file__).resolve().parents[1]


class SettingsError(RuntimeError):
    """A setting has a bad value; the message names the variable and what is wrong."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BITHEDGE_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "BITHEDGE_DATABASE_URL"),
        description="External PostgreSQL URL; when set, no embedded server is started.",
    )
    data_dir: Path = Field(default=REPO_ROOT / ".bithedge", description="Where embedded data lives.")
    pg_port: int | None = Field(
        default=None, ge=1024, le=65535, description="Embedded PostgreSQL port; default: derived from data_dir."
    )
    pg_user: str = Field(default="nobody", description="Unprivileged OS user that runs PostgreSQL when root.")
    host: str = Field(default="127.0.0.1", description="Interface every service listens on.")
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["console", "json"] = "console"

    devnet_port: int = Field(default=20443, ge=1, le=65535)
    devnet_block_time_ms: int = Field(default=2000, ge=50)
    indexer_port: int = Field(default=3700, ge=1, le=65535)
    node_url: str | None = Field(default=None, description="Stacks node RPC; default: the local devnet.")
    indexer_api_url: str | None = Field(
        default=None, description="Hiro-style API for indexer backfill and gap filling; default: the node URL."
    )
    indexer_api_key: SecretStr | None = Field(
        default=None, description="API key sent as x-api-key to the Hiro-style API (never logged or stored)."
    )
    indexer_max_body_mb: int = Field(
        default=500, ge=1, le=4096, description="Largest observer request body the indexer accepts (MiB)."
    )
    indexer_ready_lag_blocks: int = Field(
        default=2, ge=0, description="Blocks the indexer may trail the node and still answer /ready with 200."
    )
    indexer_gap_fill: bool = Field(default=True, description="Whether `indexer serve` runs the gap reconciler.")
    indexer_gap_check_s: float = Field(default=10.0, gt=0, description="Seconds between gap reconciler rounds.")
    indexer_body_retention_days: int | None = Field(
        default=None, ge=1,
        description="Clear raw.observer_requests bodies older than this many days; default: keep forever.",
    )

    restart_backoff_max_s: float = Field(default=30.0, gt=0)
    shutdown_timeout_s: float = Field(default=10.0, gt=0)

    devnet_burn_ratio: int = Field(default=2, ge=2, le=1000, description="Devnet Stacks blocks per burn block.")
    price_feed_port: int = Field(
        default=3800, ge=1, le=65535, description="Simulator's exchange-like price feed (loopback)."
    )

    # transforms (transforms/): the dbt daemon
    transforms_port: int = Field(default=3900, ge=1, le=65535, description="The daemon's /health, /ready, /metrics.")
    transforms_debounce_ms: int = Field(
        default=100, ge=0, le=60_000, description="After a raw change, wait this long for more before building."
    )
    transforms_poll_s: float = Field(
        default=5.0, gt=0, le=3600, description="Fallback check of raw.chain_tip when no NOTIFY arrives."
    )
    transforms_threads: int = Field(default=2, ge=1, le=16, description="dbt threads.")
    transforms_retry_max_s: float = Field(default=60.0, gt=0, description="Longest wait before retrying a failed run.")
    transforms_deployer: str | None = Field(
        default=None, description="Deployer address of the BitHedge contracts; default: the devnet deployer."
    )
    transforms_reconcile_s: float = Field(
        default=300.0, ge=0, le=86_400, description="How often serve reconciles the marts with the chain (0: never)."
    )

    # keeper oracle (keeper/oracle/, bithedge/simulator/feed.py): price sources, aggregation, publishing rule
    keeper_sources: str = Field(
        default="coinbase,kraken,bitstamp,binance,okx,pyth",
        description="Price sources: `venue` or `venue=base-url`, comma-separated (venues: coinbase, kraken, "
                    "bitstamp, binance, okx, pyth, coingecko); a bare venue is the simulator's copy when "
                    "keeper_price_feed_url is set or node_url is not, else the venue's real API.",
    )
    keeper_price_feed_url: str | None = Field(
        default=None, description="Base URL of the simulator's venues; default: http://<host>:<price_feed_port>."
    )
    keeper_source_timeout_s: float = Field(default=2.0, gt=0, le=60, description="Per-source request timeout.")
    keeper_price_stale_s: float = Field(
        default=60.0, gt=0, description="A quote whose venue timestamp is older than this is dropped (seconds)."
    )
    keeper_price_band_bp: int = Field(
        default=200, ge=1, le=5000, description="Quotes further than this from the round's median are outliers."
    )
    keeper_min_sources: int = Field(
        default=3, ge=1, description="Quorum: at least this many usable sources (and a majority of those configured)."
    )
    keeper_usdt_depeg_bp: int = Field(
        default=100, ge=1, le=5000, description="USDT-quoted sources are dropped while |USDT/USD - 1| exceeds this."
    )
    keeper_deviation_bp: int = Field(
        default=50, ge=1, le=5000, description="Publish when the median moved this far from the on-chain price."
    )
    keeper_heartbeat_blocks: int = Field(
        default=2, ge=1, description="Publish when the on-chain price is this many burn blocks old."
    )
    price_feed_loopback_only: bool = Field(
        default=True, description="The simulator's price feed refuses a non-loopback host unless this is false."
    )

    # api (api/): the HTTP API
    api_port: int = Field(default=4100, ge=1, le=65535, description="The API's port (JSON under /v1, /docs, /metrics).")
    api_db_pool_size: int = Field(default=10, ge=1, le=200, description="Most database connections the API opens.")
    api_statement_timeout_ms: int = Field(
        default=5000, ge=100, le=600_000, description="Longest one API query may run before PostgreSQL cancels it."
    )
    api_rate_per_s: float = Field(
        default=50.0, gt=0, description="Requests per second one API key may make (a key's own limit overrides it)."
    )
    api_rate_burst_s: float = Field(
        default=2.0, gt=0, le=3600, description="Burst allowance, in seconds of a caller's rate."
    )
    api_anonymous_rate_per_s: float | None = Field(
        default=None, gt=0, description="Allow reads without a key at this rate per client address; default: off."
    )
    api_max_body_kb: int = Field(default=64, ge=1, le=65536, description="Largest request body the API accepts (KiB).")
    api_max_query_bytes: int = Field(
        default=2048, ge=64, le=65536, description="Longest query string the API accepts (bytes)."
    )
    api_cors_origins: str = Field(
        default="", description="Comma-separated origins allowed by CORS (`*`: any); default: CORS off."
    )
    api_stream_queue: int = Field(
        default=256, ge=1, le=100_000, description="Events queued per /v1/stream client; a client past it is dropped."
    )
    api_stream_token_ttl_s: int = Field(
        default=300, ge=10, le=86_400, description="Lifetime of a /v1/stream token (for EventSource)."
    )
    api_stream_secret: SecretStr | None = Field(
        default=None, description="Signs /v1/stream tokens; default: random per process (set it when several serve)."
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower(cls, v: object) -> object:
        return v.lower() if isinstance(v, str) else v

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("postgresql://", "postgres://")):
            raise ValueError("must start with postgresql:// (or postgres://)")
        return v or None

    @field_validator("indexer_api_url")
    @classmethod
    def _http_url(cls, v: str | None) -> str | None:
        if v and not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v or None

    @property
    def resolved_node_url(self) -> str:
        return self.node_url or f"http://{self.host}:{self.devnet_port}"


# Every SecretStr field: an invalid value is reported without echoing it.
_SECRET_FIELDS = {name for name, f in Settings.model_fields.items()
                  if f.annotation is SecretStr or SecretStr in get_args(f.annotation)}


def env_name(field: str) -> str:
    """The environment variable that sets ``field``: its alias when it has one (``DATABASE_URL``), else
    ``BITHEDGE_<FIELD>``."""
    alias = Settings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return f"{Settings.model_config['env_prefix']}{field.upper()}"


# pydantic names an aliased field by the alias it was read from.
_FIELD_OF_ALIAS = {str(alias): name for name, f in Settings.model_fields.items()
                   if isinstance(f.validation_alias, AliasChoices) for alias in f.validation_alias.choices}


def default(field: str) -> Any:
    """A setting's default as declared on ``Settings``: the one place defaults are written."""
    return Settings.model_fields[field].get_default(call_default_factory=True)


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning pydantic's error into one readable line per bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = _FIELD_OF_ALIAS.get(str(err["loc"][0]), str(err["loc"][0]))
            env = env_name(field)
            shown = "(hidden)" if field in _SECRET_FIELDS else repr(err.get("input"))
            lines.append(f"{env}={shown}: {err['msg']}")
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
