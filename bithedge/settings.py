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

    # keeper (keeper/): signs oracle prices and settlements; keys are secrets (never logged, printed or stored)
    keeper_port: int = Field(default=4000, ge=1, le=65535, description="The keeper's /health, /ready, /metrics.")
    keeper_oracle_key: SecretStr | None = Field(
        default=None, description="Private key (hex) of the oracle-submitter account; default: devnet wallet_2."
    )
    keeper_oracle_key_file: Path | None = Field(
        default=None, description="File holding the oracle-submitter key (must be mode 0600); instead of the key."
    )
    keeper_settler_key: SecretStr | None = Field(
        default=None, description="Private key (hex) of the account that sends settlements; default: devnet wallet_1."
    )
    keeper_settler_key_file: Path | None = Field(
        default=None, description="File holding the settler key (must be mode 0600); instead of the key."
    )
    keeper_deployer: str | None = Field(
        default=None, description="Deployer address of the BitHedge contracts; default: the devnet deployer."
    )
    keeper_policy_source: Literal["analytics", "chain"] = Field(
        default="analytics", description="Where due expiries come from: analytics.expiries, or contract reads."
    )
    keeper_poll_s: float = Field(default=1.0, gt=0, le=60, description="How often the keeper looks for a new block.")
    keeper_max_in_flight: int = Field(
        default=20, ge=1, le=25, description="Unconfirmed transactions per signer (the node chains at most 25)."
    )
    keeper_fee: int = Field(default=3000, ge=1, description="First fee of a transaction (µSTX).")
    keeper_max_fee: int = Field(default=1_000_000, ge=1, description="Highest fee a bump may reach (µSTX).")
    keeper_max_spend_per_hour: int = Field(
        default=100_000_000, ge=1, description="Fees one signer may commit per hour, bumps included (µSTX)."
    )
    keeper_bump_after_blocks: int = Field(
        default=3, ge=1, description="Stacks blocks a transaction may stay pending before its fee is bumped."
    )
    keeper_stuck_blocks: int = Field(
        default=10, ge=1, description="Stacks blocks pending after which a transaction raises a tx-stuck alert."
    )
    keeper_reorg_depth: int = Field(
        default=10, ge=1, description="Stacks blocks within which a confirmed transaction is re-checked (reorgs)."
    )
    keeper_settle_lag_blocks: int = Field(
        default=6, ge=1, description="Burn blocks past an expiry after which unsettled policies raise an alert."
    )
    keeper_min_balance: int = Field(
        default=10_000_000, ge=0, description="Signer balance (µSTX) below which a balance-low alert is raised."
    )
    keeper_pyth_api_key: SecretStr | None = Field(
        default=None, description="Pyth Hermes API key, sent as 'Authorization: Bearer'; a secret, never logged."
    )
    keeper_confirm_source: Literal["analytics", "node"] = Field(
        default="analytics",
        description="Confirmations from analytics.contract_calls while the transforms are current, else the node.",
    )

    # api (api/): the HTTP API
    api_port: int = Field(default=4100, ge=1, le=65535, description="The API's port (JSON under /v1, /docs, /metrics).")
    api_db_pool_size: int = Field(default=10, ge=1, le=200, description="Database connections the API opens, all at start.")
    api_workers: int = Field(
        default=1, ge=1, le=64, description="API processes sharing its port (SO_REUSEPORT); each opens its own pools."
    )
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
    # notify (notify/): wallet sign-in, subscriptions and the delivery worker
    notify_port: int = Field(default=4200, ge=1, le=65535, description="The notify worker's /health, /ready, /metrics.")
    notify_secret_key: SecretStr | None = Field(
        default=None, description="Base64 of 32 bytes: encrypts webhook secrets; default: a key file in the data dir."
    )
    notify_chain_id: int = Field(
        default=2147483648, description="Chain id sign-in messages name (1 mainnet, 2147483648 testnet/devnet)."
    )
    notify_signin_domain: str = Field(default="BitHedge", max_length=64, description="SIP-018 domain name of sign-in.")
    notify_signin_version: str = Field(default="1", max_length=16, description="SIP-018 domain version of sign-in.")
    notify_challenge_ttl_s: int = Field(default=300, ge=10, le=3600, description="Seconds a sign-in message is valid.")
    notify_session_ttl_s: int = Field(default=604_800, ge=60, description="Seconds a session token is valid.")
    notify_confirmations: int = Field(
        default=1, ge=0, le=1000, description="Burn blocks a fact must be deep before it is notified (0: at once)."
    )
    notify_max_attempts: int = Field(default=8, ge=1, le=100, description="Delivery attempts before a delivery is dead.")
    notify_retry_base_s: float = Field(default=2.0, gt=0, description="First retry delay (doubles, with jitter).")
    notify_retry_max_s: float = Field(default=3600.0, gt=0, description="Longest retry delay.")
    notify_rate_limit_per_hour: int = Field(
        default=120, ge=1, description="Deliveries per user per hour; more wait for the next hour (never dropped)."
    )
    notify_digest_hour_utc: int = Field(default=8, ge=0, le=23, description="UTC hour the daily digests go out.")
    notify_allow_loopback: bool = Field(
        default=False, description="Allow webhooks to loopback/private addresses (development only)."
    )
    notify_webhook_timeout_s: float = Field(default=10.0, gt=0, le=60, description="Webhook request timeout.")
    notify_concurrency: int = Field(default=16, ge=1, le=256, description="Deliveries in flight at once.")
    notify_poll_s: float = Field(default=5.0, gt=0, description="Fallback poll when no NOTIFY wakes the worker.")
    notify_smtp_host: str | None = Field(default=None, description="SMTP server for email; unset: email is off.")
    notify_smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP port.")
    notify_smtp_starttls: bool = Field(default=True, description="Upgrade SMTP with STARTTLS before auth.")
    notify_smtp_user: str | None = Field(default=None, description="SMTP auth user (none: no auth).")
    notify_smtp_password: SecretStr | None = Field(default=None, description="SMTP auth password (never logged).")
    notify_smtp_from: str = Field(default="bithedge@localhost", description="From address of notification email.")
    notify_smtp_ca_file: str | None = Field(
        default=None, description="PEM CA bundle to verify the SMTP server's STARTTLS certificate (unset: system CAs).")

    # api quotes (api/quotes.py, api/transactions.py): the quote signer and quote life
    api_quote_signer_key: SecretStr | None = Field(
        default=None,
        description="Private key (hex) holding the quote-signer role; default: the devnet key, only on the devnet.",
    )
    api_quote_life_blocks: int = Field(
        default=3, ge=1, le=144, description="Burn blocks a quote stays valid (at most quote.max-life-blocks)."
    )
    simulator_api_key: SecretStr | None = Field(
        default=None, description="API key (scope quote) of `bithedge simulate --api`; default: one made in the database."
    )

    # dashboards (dashboards/): the Dash app
    dashboards_port: int = Field(default=8050, ge=1, le=65535, description="The dashboards' HTTP port.")
    dashboards_host: str | None = Field(
        default=None, description="Interface the dashboards listen on; default: BITHEDGE_HOST (loopback)."
    )
    dashboards_login: Literal["auto", "on", "off"] = Field(
        default="auto",
        description="Login with an API key (or an admin's notify session): auto = required on a non-loopback host.",
    )
    dashboards_secret_key: SecretStr | None = Field(
        default=None, description="Signs the dashboards' login-page note cookie; default: random per start. Sessions live in the database and survive restarts."
    )
    dashboards_session_ttl_s: int = Field(
        default=8 * 3600, ge=60, description="A dashboards login lasts at most this long (and no longer than its key)."
    )
    dashboards_cookie_secure: bool = Field(
        default=False, description="Mark the session cookie Secure (set when a TLS proxy fronts the dashboards)."
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
