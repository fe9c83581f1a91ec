"""Signed premium quotes (`POST /v1/quotes`, api/README.md "Quotes and signing").

A quote is a promise the chain will honour, so before anything is signed every creation rule of
`bithedge-policy-registry.create-policy` (contracts/README.md, "Checks at creation", and the vault's pool caps)
is checked against the state in `analytics` at every price the quote may meet on chain; a broken rule is a
:class:`Refused` naming the rule and the contract's error code. Then the premium is priced
(`api/pricing.py`), a quote id is reserved from `api.quote_ids`, the tuple is signed exactly as contracts v2
defines it (`bithedge.protocol.quotes`), and the quote is stored in `api.quotes` before it is returned.

"now" is the indexer's canonical burn tip (`analytics.freshness.raw_burn_height`): the quote is issued at it and
valid for ``life_blocks`` burn blocks (at most `quote.max-life-blocks`); the duration rule holds over the whole
life (expiry − valid-until ≥ min duration, expiry − issued-at ≤ max duration).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field

from api import pricing
from api.problems import Problem
from api.routing import BodyModel, Ctx, RouteTable
from api.types import Sats, TokenAmount, UsdE8
from bithedge.protocol.deployment import DEVNET_DEPLOYER, Deployment
from bithedge.protocol.errors import RegistryError, VaultError
from bithedge.protocol.formulas import ClarityAbort, backing, pool_cap_error, premium_split
from bithedge.protocol.quotes import Quote, quote_digest, sign_quote
from bithedge.protocol.units import BP, TOKEN_ASSET, Role, Token
from bithedge.settings import REPO_ROOT, Settings
from stacks.address import AddressVersion, is_valid_address
from stacks.keys import PrivateKey, parse_private_key
from stacks.transaction import CHAIN_ID_MAINNET, CHAIN_ID_TESTNET

routes = RouteTable("quotes", "Signed premium quotes: every creation rule checked, priced, signed, stored")

#: the marts may trail the indexer's tip by this many burn blocks before quotes stop (their pool and policy
#: state would be too old to promise anything)
MAX_ANALYTICS_LAG_BURN_BLOCKS = 2
DEVNET_ACCOUNTS = REPO_ROOT / "contracts" / "settings" / "devnet-accounts.json"
#: distinct outstanding expiries a pool can hold (the vault's open-expiry list, u314)
MAX_OPEN_EXPIRIES = 200


def standard_principal(v: str) -> str:
    """``v`` when it is a standard principal with a valid checksum."""
    if not is_valid_address(v):
        raise ValueError("not a standard Stacks principal (bad c32 or checksum)")
    return v


def positive_uint(v: int) -> int:
    if v <= 0 or v >= 2**127:
        raise ValueError("must be a positive uint")
    return v


#: a standard principal (`ST…`/`SP…`, c32 checksum checked): the sender of a user's transaction
StandardAddress = Annotated[str, Field(min_length=28, max_length=42), AfterValidator(standard_principal)]
TierName = Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[a-z0-9-]+$")]
BurnHeight = Annotated[int, Field(gt=0, lt=2**63, description="Bitcoin burn height")]


class QuoteRequest(BodyModel):
    """What a buyer asks a premium for."""

    buyer: StandardAddress = Field(description="The standard principal that will send create-policy.")
    token: Token = Field(description="Collateral and premium token: `STX` or `sBTC`.")
    buyer_tier: TierName = Field(description="Buyer tier: `conservative`, `standard`, `flexible`.")
    pool_tier: TierName = Field(description="Provider tier of the pool (token × pool_tier).")
    strike: Annotated[UsdE8, AfterValidator(positive_uint)] = Field(description="Strike, USD×1e8 per BTC.")
    amount: Annotated[Sats, AfterValidator(positive_uint)] = Field(description="Protected amount, sats.")
    expiry: BurnHeight = Field(description="Expiry (burn height).")


class QuoteTerms(BaseModel):
    """`policy-terms` at the quote's prices (what create-policy would lock and bound), and the premium's split."""

    collateral_price: UsdE8 = Field(description="Latest price of the collateral token's feed.")
    max_payout: TokenAmount = Field(description="Fully covered payout down to the stress price / coverage floor.")
    collateral: TokenAmount = Field(description="Locked in the pool.")
    stress_price: UsdE8 = Field(description="Collateral price down to which the payout is fully covered.")
    coverage_floor: UsdE8 = Field(description="BTC price down to which an sBTC policy pays in full (0 for STX).")
    min_premium: TokenAmount
    max_premium: TokenAmount
    protocol_fee: TokenAmount = Field(description="Part of the premium to the treasury.")
    fund_share: TokenAmount = Field(description="Part of the premium to the insurance fund.")
    pool_premium: TokenAmount = Field(description="The pool's unearned premium until settlement.")


class PricingSummary(BaseModel):
    """The model and the inputs that set the premium (all of them are stored with the quote)."""

    name: str
    version: str
    volatility: float = Field(description="Annualized volatility used (realized BTC volatility, clamped).")
    volatility_window_blocks: int = Field(description="Realized-volatility window used (0: none, the floor).")
    utilization_after: float = Field(description="The pool's utilization of its backing with this policy.")
    utilization_loading_bp: float
    clamped: Literal["floor", "cap"] | None = Field(description="Set when the contract's bounds set the premium.")


class QuoteResponse(BaseModel):
    """A signed quote: pass its fields and `signature` to create-policy (or POST /v1/transactions/create-policy
    with its `quote_id`) before `valid_until`."""

    quote_id: int = Field(description="Unique quote id (once per registry).")
    buyer: str
    token: str
    buyer_tier: str
    pool_tier: str
    strike: UsdE8
    amount: Sats
    expiry: int = Field(description="Burn height.")
    premium: TokenAmount = Field(description="The whole premium the buyer pays.")
    issued_at: int = Field(description="Burn height the quote was priced at.")
    spot: UsdE8 = Field(description="BTC price the quote was priced at.")
    valid_until: int = Field(description="Last burn height at which create-policy accepts it.")
    signature: str = Field(description="65 bytes r ‖ s ‖ recovery-id, 0x hex: the create-policy argument.")
    digest: str = Field(description="sha256 of the quote tuple's consensus serialization (`quote-hash`), 0x hex.")
    signer: str = Field(description="Address of the quote-signer key.")
    registry: str = Field(description="The policy registry the signature is valid for.")
    chain_id: int
    terms: QuoteTerms
    model: PricingSummary


class Refused(Problem):
    """A contract rule the request would break, or why the service cannot answer now: problem+json with
    ``rule`` (the stable name clients match on) and ``code`` (the contract error the chain would return, e.g.
    ``"u410"``). 422 for a rule, 503 when the service cannot quote."""

    def __init__(self, rule: str, code: str | None, detail: str, status: int = 422,
                 title: str = "Request Refused") -> None:
        kind = "refused" if status < 500 else "unavailable"
        super().__init__(status, title if status < 500 else "Service Unavailable", detail,
                         type=f"urn:bithedge:{kind}", rule=rule, code=code)
        self.rule, self.code = rule, code


def _u(code: RegistryError | VaultError) -> str:
    return f"u{int(code)}"


@dataclass(frozen=True)
class Signer:
    """The quote-signer key (from a `SecretStr` setting) with where its signatures are valid."""

    key: PrivateKey
    registry: str
    chain_id: int
    address: str

    def __repr__(self) -> str:  # the key never reaches a log line through a repr
        return f"Signer(address={self.address!r}, registry={self.registry!r})"


# What every request reads: how current the analytics are (the cache key of the block state, and "now").
_FRESHNESS_SQL = "SELECT raw_burn_height, marts_stacks_height, built_at, marts_burn_height FROM analytics.freshness"

# The state of one analytics build that every quote shares; numbers come back as JSON numbers (exact for integers).
BLOCK_SQL = """
SELECT json_build_object(
  'params', (SELECT json_object_agg(key, value) FROM analytics.parameters),
  'tiers', (SELECT json_object_agg(tier_kind || ':' || tier, row_to_json(t)) FROM analytics.tiers t),
  'prices', (SELECT json_object_agg(asset, json_build_object('price', latest_price, 'height', latest_burn_height,
                                    'vol_144', realized_vol_144, 'vol_1008', realized_vol_1008))
             FROM analytics.oracle_stats),
  'pools', (SELECT json_object_agg(token || ':' || tier, json_build_object('assets', assets, 'shares', shares,
                                   'locked', locked, 'pending', pending_shares)) FROM analytics.pools),
  'paused', (SELECT paused FROM analytics.pauses WHERE action = 'create-policy'),
  'signer_role', EXISTS (SELECT 1 FROM analytics.roles WHERE who = $1 AND role = $2)
)
"""

# The request's own rows: the buyer's active policies, and the pool's at the quote's expiry.
_REQUEST_SQL = """
SELECT count(*) FILTER (WHERE owner = $1) AS owner_active,
       coalesce(sum(collateral) FILTER (WHERE token = $2 AND pool_tier = $3 AND expiry = $4), 0) AS expiry_locked,
       count(DISTINCT expiry) FILTER (WHERE token = $2 AND pool_tier = $3) AS open_expiries,
       coalesce(bool_or(token = $2 AND pool_tier = $3 AND expiry = $4), false) AS expiry_open
FROM analytics.policies
WHERE status_onchain = 'active' AND (owner = $1 OR (token = $2 AND pool_tier = $3))
"""

_INSERT_SQL = """
INSERT INTO api.quotes (quote_id, chain_id, registry, buyer, token, buyer_tier, pool_tier, strike, amount, expiry,
  premium, issued_at, spot, valid_until, collateral_price, max_payout, collateral, min_premium, max_premium, signer,
  digest, signature, model_name, model_version, pricing, requested_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23,
  $24, $25::jsonb, $26)
"""


def _param(params: dict, key: str) -> int:
    try:
        return int(params[key])
    except (KeyError, TypeError):
        raise Refused("analytics-not-ready", None, f"parameter {key} is not in analytics.parameters",
                      503) from None


class Quoter:
    """The quote service: the signer, the quote life, and the state every quote of one analytics build shares
    (parameters, tiers, prices, pools, the pause flag, the signer's role), read once per build. Every request
    still reads `analytics.freshness` (its "now", and whether the build changed) and its own policy rows."""

    def __init__(self, signer: Signer, life_blocks: int) -> None:
        self.signer, self.life_blocks = signer, life_blocks
        self._block: tuple[tuple, dict] | None = None

    async def read_state(self, conn: Any, req: QuoteRequest) -> dict:
        """The snapshot `check_and_price` takes (call inside one repeatable-read transaction)."""
        fresh = await conn.fetchrow(_FRESHNESS_SQL)
        if fresh is None:
            return {}
        key = (fresh["raw_burn_height"], fresh["marts_stacks_height"], fresh["built_at"])
        if self._block is None or self._block[0] != key:
            block = json.loads(await conn.fetchval(BLOCK_SQL, self.signer.address, Role.QUOTE_SIGNER.value))
            self._block = key, block
        block = self._block[1]
        mine = await conn.fetchrow(_REQUEST_SQL, req.buyer, req.token.value, req.pool_tier, req.expiry)
        return {
            "freshness": {"raw": fresh["raw_burn_height"], "marts": fresh["marts_burn_height"]},
            "params": block["params"], "prices": block["prices"], "paused": block["paused"],
            "signer_role": block["signer_role"],
            "buyer_tier": (block["tiers"] or {}).get(f"buyer:{req.buyer_tier}"),
            "pool_tier": (block["tiers"] or {}).get(f"provider:{req.pool_tier}"),
            "pool": (block["pools"] or {}).get(f"{req.token.value}:{req.pool_tier}"),
            **dict(mine),
        }

    async def issue(self, conn: Any, req: QuoteRequest, requested_by: str | None = None) -> QuoteResponse:
        """Checks, prices, reserves an id, signs and stores one quote (one transaction)."""
        signer = self.signer
        async with conn.transaction(isolation="repeatable_read"):
            state = await self.read_state(conn, req)
            draft, priced, extra = check_and_price(req, state, self.life_blocks)
            quote = replace(draft, quote_id=await conn.fetchval("SELECT nextval('api.quote_ids')"))
            digest = quote_digest(quote, signer.registry, signer.chain_id)
            signature = sign_quote(quote, signer.key, signer.registry, signer.chain_id)
            t = priced.terms
            await conn.execute(
                _INSERT_SQL, quote.quote_id, signer.chain_id, signer.registry, quote.buyer, quote.token,
                quote.buyer_tier, quote.pool_tier, quote.strike, quote.amount, quote.expiry, quote.premium,
                quote.issued_at, quote.spot, quote.valid_until, extra["coll_price"], t.max_payout, t.collateral,
                t.min_premium, t.max_premium, signer.address, digest, signature, pricing.MODEL_NAME,
                pricing.MODEL_VERSION, json.dumps(priced.record), requested_by)
        return response(quote, signature, digest, signer, priced, extra)


def check_and_price(req: QuoteRequest, state: dict, life_blocks: int) -> tuple[Quote, pricing.Priced, dict]:
    """Every creation rule, in the registry's order where it matters, then the premium. Returns the quote (id
    0: reserved later), the pricing and the parameters used."""
    fresh = state.get("freshness") or {}
    now, marts = fresh.get("raw"), fresh.get("marts")
    if now is None or marts is None or state.get("params") is None:
        raise Refused("analytics-not-ready", None, "the analytics views are not built yet", 503)
    if now - marts > MAX_ANALYTICS_LAG_BURN_BLOCKS:
        raise Refused("analytics-stale", None, f"the analytics trail the chain by {now - marts} burn blocks "
                                              f"(at most {MAX_ANALYTICS_LAG_BURN_BLOCKS})", 503)
    if not state.get("signer_role"):
        raise Refused("signer-not-authorized", _u(RegistryError.SIGNER_NOT_AUTHORIZED),
                      "the service's quote-signer key does not hold the quote-signer role", 503)
    p = state["params"]
    if state.get("paused"):
        raise Refused("create-policy-paused", _u(RegistryError.PAUSED), "create-policy is paused")
    btier = state.get("buyer_tier")
    if not btier or not btier.get("active"):
        raise Refused("buyer-tier", _u(RegistryError.TIER_INVALID),
                      f"buyer tier {req.buyer_tier!r} is unknown or inactive")
    ptier, pool = state.get("pool_tier"), state.get("pool")
    if pool is None:
        raise Refused("pool", _u(VaultError.NO_POOL), f"there is no pool ({req.token.value}, {req.pool_tier})")
    if not ptier or not ptier.get("active"):
        raise Refused("pool-tier", _u(VaultError.TIER_INACTIVE),
                      f"provider tier {req.pool_tier!r} is unknown or inactive")

    life = min(life_blocks, _param(p, "quote.max-life-blocks"))
    issued_at, valid_until = now, now + life
    prices = state.get("prices") or {}
    btc, coll = prices.get("BTC"), prices.get(TOKEN_ASSET[req.token].value)
    max_age = _param(p, "policy.max-price-age-blocks")
    for asset, rec in (("BTC", btc), (TOKEN_ASSET[req.token].value, coll)):
        if rec is None or now - rec["height"] > max_age:
            age = "no price" if rec is None else f"price {now - rec['height']} burn blocks old"
            raise Refused("price-freshness", _u(RegistryError.PRICE_STALE),
                          f"{asset}: {age} (policy.max-price-age-blocks = {max_age})")
    spot, coll_price = int(btc["price"]), int(coll["price"])

    lo_d, hi_d = _param(p, "policy.min-duration-blocks"), _param(p, "policy.max-duration-blocks")
    if req.expiry - valid_until < lo_d or req.expiry - issued_at > hi_d:
        raise Refused("duration", _u(RegistryError.BAD_DURATION),
                      f"expiry {req.expiry} must be at least {lo_d} burn blocks after the quote's last valid "
                      f"height {valid_until} and at most {hi_d} after {issued_at}")
    lo_a, hi_a = _param(p, "policy.min-amount-sats"), _param(p, "policy.max-amount-sats")
    if not lo_a <= req.amount <= hi_a:
        raise Refused("amount", _u(RegistryError.BAD_AMOUNT), f"amount must be {lo_a}–{hi_a} sats")
    slip = _param(p, "quote.max-slippage-bp")
    s_lo, s_hi = pricing.band(spot, slip)
    lo_k, hi_k = _param(p, "policy.min-strike-bp"), _param(p, "policy.max-strike-bp")
    if not (req.strike * BP >= s_hi * lo_k and req.strike * BP <= s_lo * hi_k):
        raise Refused("strike-band", _u(RegistryError.BAD_STRIKE),
                      f"strike must stay within {lo_k}–{hi_k} bp of the BTC price over its slippage band "
                      f"{s_lo}–{s_hi} (USD×1e8)")
    limit = _param(p, "policy.max-active-per-owner")
    if int(state["owner_active"]) >= limit:
        raise Refused("owner-limit", _u(RegistryError.OWNER_LIMIT),
                      f"{req.buyer} already has {state['owner_active']} active policies (limit {limit})")

    pool_backing = backing(int(pool["assets"]), int(pool["shares"]), int(pool["pending"]))
    inputs = pricing.PricingInputs(
        token=req.token.value, strike=req.strike, amount=req.amount, spot=spot, collateral_price=coll_price,
        blocks_to_expiry=req.expiry - issued_at,
        realized_vol_144=_float(btc.get("vol_144")), realized_vol_1008=_float(btc.get("vol_1008")),
        collateral_ratio_bp=int(btier["collateral_ratio_bp"]),
        premium_adjustment_bp=int(btier["premium_adjustment_bp"]),
        premium_min_bp=_param(p, "premium.min-bp"), premium_max_bp=_param(p, "premium.max-bp"),
        stress_bp=_param(p, "stress.sbtc-price-bp" if req.token == Token.SBTC else "stress.stx-price-bp"),
        fee_bp=_param(p, "fee.protocol-bp"), fund_bp=_param(p, "fund.premium-bp"), max_slippage_bp=slip,
        pool_locked=int(pool["locked"]), pool_backing=pool_backing,
        max_utilization_bp=int(ptier["max_utilization_bp"]),
    )
    try:
        priced = pricing.price(inputs)
    except pricing.Unpriceable as exc:
        code = _u(RegistryError.BAD_STRIKE) if exc.rule == "strike-band" else "u411/u412"
        raise Refused(exc.rule, code, str(exc)) from None
    except ClarityAbort:
        raise Refused("arithmetic", None, "the contract's arithmetic would overflow for these terms") from None

    if not state.get("expiry_open") and int(state["open_expiries"]) >= MAX_OPEN_EXPIRIES:
        raise Refused("pool-expiries", _u(VaultError.TOO_MANY_EXPIRIES),
                      f"the pool already has {MAX_OPEN_EXPIRIES} outstanding expiries; pick one of them")
    collateral = priced.low.collateral  # the most the chain may lock for it (lowest collateral price of the band)
    cap = pool_cap_error(collateral, pool_backing, int(pool["locked"]), int(state["expiry_locked"]),
                         int(ptier["max_exposure_policy_bp"]), int(ptier["max_utilization_bp"]),
                         int(ptier["max_exposure_expiry_bp"]))
    if cap is not None:
        rule = {VaultError.EXPOSURE_POLICY: "pool-exposure-policy", VaultError.UTILIZATION: "pool-utilization",
                VaultError.EXPOSURE_EXPIRY: "pool-exposure-expiry"}[cap]
        raise Refused(rule, _u(cap), f"collateral {collateral} breaks the pool's {rule.removeprefix('pool-')} "
                                     f"cap (backing {pool_backing}, locked {pool['locked']})")
    quote = Quote(0, req.buyer, req.token.value, req.buyer_tier, req.pool_tier, req.strike, req.amount, req.expiry,
                  priced.premium, issued_at=issued_at, spot=spot, valid_until=valid_until)
    return quote, priced, {"coll_price": coll_price, "fee_bp": inputs.fee_bp, "fund_bp": inputs.fund_bp}


def _float(v: object) -> float | None:
    return None if v is None else float(v)


def response(quote: Quote, signature: bytes, digest: bytes, signer: Signer, priced: pricing.Priced,
             extra: dict) -> QuoteResponse:
    split = premium_split(quote.premium, extra["fee_bp"], extra["fund_bp"])
    t, r = priced.terms, priced.record
    return QuoteResponse(
        quote_id=quote.quote_id, buyer=quote.buyer, token=quote.token, buyer_tier=quote.buyer_tier,
        pool_tier=quote.pool_tier, strike=quote.strike, amount=quote.amount, expiry=quote.expiry,
        premium=quote.premium, issued_at=quote.issued_at, spot=quote.spot, valid_until=quote.valid_until,
        signature="0x" + signature.hex(), digest="0x" + digest.hex(), signer=signer.address,
        registry=signer.registry, chain_id=signer.chain_id,
        terms=QuoteTerms(collateral_price=extra["coll_price"], max_payout=t.max_payout, collateral=t.collateral,
                         stress_price=t.stress_price, coverage_floor=t.coverage_floor, min_premium=t.min_premium,
                         max_premium=t.max_premium, protocol_fee=split.fee, fund_share=split.fund,
                         pool_premium=split.pool),
        model=PricingSummary(name=pricing.MODEL_NAME, version=pricing.MODEL_VERSION, volatility=r["volatility"],
                             volatility_window_blocks=r["volatility_window_blocks"],
                             utilization_after=r["utilization_after"],
                             utilization_loading_bp=r["utilization_loading_bp"], clamped=r["clamped"]),
    )


#: DEVNET ONLY: the public Clarinet devnet account whose key holds `quote-signer` after `devnet-setup.json`.
DEVNET_SIGNER_LABEL = "wallet_3"


class SignerNotConfigured(RuntimeError):
    """No quote-signer key for a network other than the local devnet."""


def signer_deployment(settings: Settings) -> tuple[Deployment, bool]:
    """(the contracts, mainnet?): from `BITHEDGE_TRANSFORMS_DEPLOYER`; the network follows the deployer's
    address (SP/SM: mainnet)."""
    deployment = Deployment(settings.transforms_deployer or DEVNET_DEPLOYER)
    return deployment, deployment.deployer.startswith(("SP", "SM"))


def signer_from_settings(settings: Settings) -> Signer:
    """The quote signer: `BITHEDGE_API_QUOTE_SIGNER_KEY`, or on the local devnet (no `BITHEDGE_NODE_URL`) the
    devnet's public `wallet_3` key (DEVNET ONLY)."""
    deployment, mainnet = signer_deployment(settings)
    if settings.api_quote_signer_key is not None:
        key = parse_private_key(settings.api_quote_signer_key.get_secret_value())
    elif settings.node_url is None and not mainnet:
        accounts = json.loads(DEVNET_ACCOUNTS.read_text())["accounts"]
        key = parse_private_key(next(a["privateKey"] for a in accounts if a["label"] == DEVNET_SIGNER_LABEL))
    else:
        raise SignerNotConfigured("BITHEDGE_API_QUOTE_SIGNER_KEY is required outside the local devnet")
    version = AddressVersion.MAINNET_SINGLE_SIG if mainnet else AddressVersion.TESTNET_SINGLE_SIG
    return Signer(key=key, registry=deployment.registry, chain_id=CHAIN_ID_MAINNET if mainnet else CHAIN_ID_TESTNET,
                  address=key.address(version))


# ---- HTTP ------------------------------------------------------------------------------------------------------
QUOTER = "quotes.quoter"


@routes.lifespan
async def _signer(app):  # noqa: ANN001, ANN202 - an aiohttp cleanup context
    """The signer is read from settings once; without one (a real node and no key) quotes answer 503."""
    from api.state import STATE

    state = app[STATE]
    try:
        state.extras[QUOTER] = Quoter(signer_from_settings(state.settings), state.settings.api_quote_life_blocks)
    except SignerNotConfigured as exc:
        state.extras[QUOTER] = exc
    yield


@routes.post("/v1/quotes", scope="quote", status=201, errors=(422, 503))
async def create_quote(ctx: Ctx, *, body: QuoteRequest) -> QuoteResponse:
    """A signed premium quote.

    Every creation rule of the policy registry is checked first, at every price the quote may meet on chain
    (BTC within `quote.max-slippage-bp`); a broken rule answers 422 with `rule` (e.g. `strike-band`, `duration`,
    `amount`, `price-freshness`, `owner-limit`, `pool-utilization`) and the contract's `code` (e.g. `u410`).
    The quote is stored before it is returned; its `quote_id` is never issued again."""
    quoter = ctx.state.extras.get(QUOTER)
    if not isinstance(quoter, Quoter):
        raise Refused("signer-not-configured", None, str(quoter or "no quote signer"), 503)
    async with ctx.db.acquire() as conn:
        quote = await quoter.issue(conn, body, requested_by=getattr(ctx.principal, "prefix", None))
    ctx.audit["quote_id"] = quote.quote_id
    return quote
