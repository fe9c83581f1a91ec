"""Units and names the contracts use (`contracts/README.md`, Units): price and basis-point scales,
collateral tokens with their base-unit scale and oracle feed, oracle assets, tier kinds and names."""

from __future__ import annotations

from enum import StrEnum

#: Prices are USD x 1e8 per whole BTC or STX; BTC amounts are sats (1 BTC = 1e8 sats).
ONE8 = 100_000_000
#: Basis points: 10000 = 100 %.
BP = 10_000


class Asset(StrEnum):
    """Oracle feeds (USD x 1e8 per whole coin)."""

    BTC = "BTC"
    STX = "STX"


class Token(StrEnum):
    """Collateral tokens of the pools."""

    STX = "STX"
    SBTC = "sBTC"


#: Base units per whole token: micro-STX, sats.
TOKEN_SCALE: dict[Token, int] = {Token.STX: 1_000_000, Token.SBTC: 100_000_000}
#: The oracle feed that prices one whole token (sBTC is priced with BTC, 1:1 peg).
TOKEN_ASSET: dict[Token, Asset] = {Token.STX: Asset.STX, Token.SBTC: Asset.BTC}


def token_scale(token: str) -> int:
    """Base units per whole ``token`` (raises ValueError for an unknown token, like `token-info`)."""
    return TOKEN_SCALE[Token(token)]


def token_asset(token: str) -> Asset:
    """The oracle asset that prices ``token``."""
    return TOKEN_ASSET[Token(token)]


class TierKind(StrEnum):
    BUYER = "buyer"
    PROVIDER = "provider"


class BuyerTier(StrEnum):
    CONSERVATIVE = "conservative"
    STANDARD = "standard"
    FLEXIBLE = "flexible"


class ProviderTier(StrEnum):
    """Provider tiers; a pool is (token, provider tier)."""

    CONSERVATIVE = "conservative"
    BALANCED = "balanced"
    AGGRESSIVE = "aggressive"


BUYER_TIERS: tuple[str, ...] = tuple(t.value for t in BuyerTier)
PROVIDER_TIERS: tuple[str, ...] = tuple(t.value for t in ProviderTier)


class Role(StrEnum):
    """Roles of `bithedge-parameters` (checked against `contract-caller`)."""

    ADMIN = "admin"
    GOVERNANCE_EXECUTOR = "governance-executor"
    GUARDIAN = "guardian"  # may only pause
    ORACLE_SUBMITTER = "oracle-submitter"
    QUOTE_SIGNER = "quote-signer"


class PauseAction(StrEnum):
    """Actions `set-paused` can stop; withdrawals, settlement, voids and fund deposits never stop."""

    CREATE_POLICY = "create-policy"
    DEPOSIT = "deposit"
    PROPOSALS = "proposals"
