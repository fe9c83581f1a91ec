"""The reconciler (``bithedge transforms reconcile``): the analytics views against the contracts' own state, read
through the node's read-only calls at the block the marts include.

The node's ``/v2/contracts/call-read`` reads at its tip (the devnet takes no tip parameter), so a comparison is
only sound while the chain stands still: read the node's tip, wait until the marts include exactly that block
(same height, same hash), read the marts in one snapshot and the contracts, then read the tip again; if it
moved, start over. Every run, good or not, is a row of ``transforms.reconcile_runs`` (migration 0007)."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import psycopg

from bithedge.protocol.deployment import Deployment
from stacks import clarity
from stacks.principal import parse_principal
from stacks.rpc import RpcError, StacksClient

TOKENS = ("STX", "sBTC")
ASSETS = ("BTC", "STX")
#: concurrent read-only calls (the devnet serializes them; a real node answers them in parallel)
CALLS_IN_FLIGHT = 8

#: what one entity looks like on either side: field (the contract's name) -> value
Fields = dict[str, Any]

#: mart column -> the contract field it must equal, per entity kind
POOL_FIELDS = {"assets": "assets", "shares": "shares", "locked": "locked", "unearned": "unearned",
               "pending_shares": "pending", "cum_premiums_received": "premiums", "cum_payouts": "payouts"}
POLICY_FIELDS = {
    "owner": "owner", "token": "token", "buyer_tier": "buyer-tier", "pool_tier": "pool-tier", "strike": "strike",
    "amount": "amount", "premium": "premium", "pool_premium": "pool-premium", "collateral": "collateral",
    "expiry": "expiry", "quote_id": "quote-id", "created_burn_height": "created-burn-height",
    "spot_at_creation": "spot-price", "collateral_price_at_creation": "collateral-price",
    "price_delay": "price-delay", "void_after": "void-after", "status_onchain": "status",
    # NULL in the mart until settlement, 0 in the contract
    "coalesce(settlement_price, 0)": "settlement-price",
    "coalesce(settlement_collateral_price, 0)": "settlement-collateral-price",
    "coalesce(payout, 0)": "payout", "coalesce(fund_cover, 0)": "fund-cover",
    "coalesce(settled_burn_height, 0)": "settled-burn-height",
}
TIER_FIELDS = {c: c.replace("_", "-") for c in (
    "collateral_ratio_bp", "premium_adjustment_bp", "max_utilization_bp", "max_exposure_policy_bp",
    "max_exposure_expiry_bp", "active")}
PROPOSAL_FIELDS = {"state": "state", "yes_power": "yes", "no_power": "no"}
TREASURY_FIELDS = {"balance": "balance", "fees_collected": "fees", "disbursed": "disbursed"}
#: the fund's deposits count both its sources (the contract keeps direct deposits and premium shares apart)
FUND_FIELDS = {"balance": "balance", "deposited": "deposited", "covered": "covers"}


class ReconcileError(Exception):
    """No comparison was possible (the marts did not reach the node's tip, or the chain kept moving)."""


@dataclass(frozen=True)
class Mismatch:
    entity: str  # "pool STX/balanced", "policy 12", "provider STX/balanced/ST…", "price BTC", …
    field: str  # the contract's field name; "exists" when one side lacks the entity
    mart: Any
    chain: Any

    def as_json(self) -> dict:
        return {"entity": self.entity, "field": self.field, "mart": _jsonable(self.mart),
                "chain": _jsonable(self.chain)}


@dataclass
class Result:
    started_at: datetime
    finished_at: datetime | None = None
    stacks_height: int | None = None
    burn_height: int | None = None
    block_hash: str | None = None
    attempts: int = 0
    checked: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.mismatches


@dataclass(frozen=True)
class Tip:
    height: int
    block_hash: str  # hex, no 0x
    burn_height: int


def _jsonable(v: Any) -> Any:
    return str(v) if isinstance(v, Decimal | int) and not isinstance(v, bool) else v


def _norm(v: Any) -> Any:
    """One form for both sides: integers (the mart's numeric, the contract's decimal strings), else as is."""
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, Decimal | int):
        return int(v)
    if isinstance(v, str) and v.isdigit():
        return int(v)
    return v


async def node_tip(client: StacksClient) -> Tip:
    info = await client.info()
    return Tip(int(info["stacks_tip_height"]), info["stacks_tip"].removeprefix("0x").lower(),
               int(info["burn_block_height"]))


def _marts_position(conn: psycopg.Connection) -> tuple[int | None, str | None]:
    """The height every mart includes and the hash of the canonical raw block there."""
    row = conn.execute(
        "SELECT f.marts_stacks_height, encode(b.block_hash, 'hex') FROM analytics.freshness f "
        "LEFT JOIN raw.blocks b ON b.canonical AND b.block_height = f.marts_stacks_height").fetchone()
    return (row[0], row[1]) if row else (None, None)


def _position(url: str) -> tuple[int | None, str | None]:
    with psycopg.connect(url, autocommit=True) as conn:
        return _marts_position(conn)


async def _caught_up(url: str, client: StacksClient, tip: Tip, deadline: float) -> bool:
    """Until the marts include ``tip`` (True); False as soon as the node's tip moves on (or the marts pass it)."""
    while True:
        height, block_hash = await asyncio.to_thread(_position, url)
        if (height, block_hash) == (tip.height, tip.block_hash):
            return True
        if (height is not None and height > tip.height) or await node_tip(client) != tip:
            return False
        if time.monotonic() > deadline:
            raise ReconcileError(f"the marts include Stacks height {height} (block {block_hash}), the node's "
                                 f"tip is {tip.height} ({tip.block_hash}): not caught up in time")
        await asyncio.sleep(0.2)


def read_marts(url: str) -> tuple[tuple[int | None, str | None], dict[str, Fields]]:
    """Every reconciled entity as the analytics views hold it, from one snapshot, with the marts' position."""
    out: dict[str, Fields] = {}

    def put(entity: str, columns: dict[str, str], row: tuple) -> None:
        out[entity] = {chain_name: _norm(v) for chain_name, v in zip(columns.values(), row, strict=True)}

    with psycopg.connect(url) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        position = _marts_position(conn)
        for token, tier, *vals in conn.execute(f"SELECT token, tier, {', '.join(POOL_FIELDS)} FROM analytics.pools"):
            put(f"pool {token}/{tier}", POOL_FIELDS, vals)
        for token, tier, provider, shares in conn.execute(
                "SELECT token, tier, provider, shares FROM analytics.providers"):
            out[f"provider {token}/{tier}/{provider}"] = {"shares": _norm(shares)}
        for policy_id, *vals in conn.execute(f"SELECT policy_id, {', '.join(POLICY_FIELDS)} FROM analytics.policies"):
            put(f"policy {policy_id}", POLICY_FIELDS, vals)
        for asset, price, height in conn.execute(
                "SELECT asset, latest_price, latest_burn_height FROM analytics.oracle_stats"):
            out[f"price {asset}"] = {"price": _norm(price), "height": _norm(height)}
        for key, *vals in conn.execute("SELECT key, value, min_value, max_value FROM analytics.parameters"):
            put(f"parameter {key}", {"v": "value", "lo": "min", "hi": "max"}, vals)
        for kind, tier, *vals in conn.execute(
                f"SELECT tier_kind, tier, {', '.join(TIER_FIELDS)} FROM analytics.tiers"):
            put(f"tier {kind}/{tier}", TIER_FIELDS, vals)
        for proposal_id, *vals in conn.execute(
                f"SELECT proposal_id, {', '.join(PROPOSAL_FIELDS)} FROM analytics.proposals"):
            put(f"proposal {proposal_id}", PROPOSAL_FIELDS, vals)
        for token, *vals in conn.execute(f"SELECT token, {', '.join(TREASURY_FIELDS)} FROM analytics.treasury"):
            put(f"treasury {token}", TREASURY_FIELDS, vals)
        for token, *vals in conn.execute(f"SELECT token, {', '.join(FUND_FIELDS)} FROM analytics.insurance_fund"):
            put(f"fund {token}", FUND_FIELDS, vals)
        for action, paused in conn.execute("SELECT action, paused FROM analytics.pauses"):
            out[f"pause {action}"] = {"paused": paused}
        # only a pending request exists in the contract (an executed or cancelled one is deleted)
        for token, tier, provider, shares, after in conn.execute(
                "SELECT token, tier, provider, shares, after_expiry FROM analytics.withdrawal_requests "
                "WHERE state = 'pending'"):
            out[f"request {token}/{tier}/{provider}"] = {"shares": _norm(shares), "after": _norm(after)}
    return position, out


async def read_chain(client: StacksClient, deployment: Deployment, marts: dict[str, Fields]) -> dict[str, Fields]:
    """The same entities from the contracts. Maps cannot be listed, so providers (and their withdrawal requests),
    parameters, tiers, pauses, treasury and fund tokens are the ones the marts know; pools are every token × known
    provider tier, policies and proposals every id up to the contract's last."""
    gate = asyncio.Semaphore(CALLS_IN_FLIGHT)
    A, U = clarity.StringAscii, clarity.UInt

    async def read(contract: str, fn: str, *args) -> Any:
        async with gate:
            return clarity.to_plain(await client.call_read(contract, fn, list(args)))

    out: dict[str, Fields] = {}

    async def one(entity: str, contract: str, fn: str, *args, pick=None) -> None:
        v = await read(contract, fn, *args)
        if v is not None:
            out[entity] = {k: _norm(x) for k, x in (pick(v) if pick else v).items()}

    def keys(kind: str) -> list[list[str]]:
        return [e.split(" ", 1)[1].split("/") for e in marts if e.startswith(kind + " ")]

    provider_tiers = {name for kind, name in keys("tier") if kind == "provider"} | {t for _, t in keys("pool")}
    last_policy = int(await read(deployment.registry, "get-last-policy-id"))
    last_proposal = int(await read(deployment.governance, "get-last-proposal-id"))
    jobs = [one(f"pool {t}/{tier}", deployment.vault, "get-pool", A(t), A(tier))
            for t in TOKENS for tier in sorted(provider_tiers)]
    jobs += [one(f"provider {t}/{tier}/{who}", deployment.vault, "get-shares", A(t), A(tier), parse_principal(who),
                 pick=lambda v: {"shares": v})
             for t, tier, who in keys("provider")]
    jobs += [one(f"policy {i}", deployment.registry, "get-policy", U(i)) for i in range(1, last_policy + 1)]
    jobs += [one(f"price {a}", deployment.oracle, "get-latest", A(a)) for a in ASSETS]
    jobs += [one(f"parameter {k}", deployment.parameters, "get-param-entry", A(k)) for (k,) in keys("parameter")]
    jobs += [one(f"tier {kind}/{name}", deployment.parameters, "get-tier", A(kind), A(name))
             for kind, name in keys("tier")]
    jobs += [one(f"proposal {i}", deployment.governance, "get-proposal", U(i)) for i in range(1, last_proposal + 1)]
    jobs += [one(f"treasury {t}", deployment.treasury, "get-totals", A(t)) for t, in keys("treasury")]
    jobs += [one(f"fund {t}", deployment.insurance_fund, "get-totals", A(t),
                 pick=lambda v: {**v, "deposited": int(v["deposits"]) + int(v["premiums"])}) for t, in keys("fund")]
    jobs += [one(f"pause {a}", deployment.parameters, "is-paused", A(a), pick=lambda v: {"paused": v})
             for a, in keys("pause")]
    # every provider the marts know may hold a request the marts miss
    jobs += [one(f"request {t}/{tier}/{who}", deployment.vault, "get-withdrawal-request", A(t), A(tier),
                 parse_principal(who)) for t, tier, who in keys("provider")]
    await asyncio.gather(*jobs)

    async def state(i: int) -> None:
        out[f"proposal {i}"]["state"] = await read(deployment.governance, "get-proposal-state", U(i))

    await asyncio.gather(*(state(i) for i in range(1, last_proposal + 1) if f"proposal {i}" in out))
    return out


def compare(marts: dict[str, Fields], chain: dict[str, Fields]) -> tuple[int, list[Mismatch]]:
    """(fields compared, mismatches): every field the mart holds of every entity either side has."""
    checked, mismatches = 0, []
    for entity in sorted(set(marts) | set(chain)):
        m, c = marts.get(entity), chain.get(entity)
        checked += 1
        if m is None or c is None:
            mismatches.append(Mismatch(entity, "exists", m is not None, c is not None))
            continue
        for name, value in m.items():
            checked += 1
            if value != c.get(name):
                mismatches.append(Mismatch(entity, name, value, c.get(name)))
    return checked, mismatches


async def reconcile(url: str, client: StacksClient, deployment: Deployment, *, wait_s: float = 60.0,
                    attempts: int = 5) -> Result:
    """Compare once the chain holds still (see the module doc): the marts get ``wait_s`` in all to include the
    node's tip; ``attempts`` comparisons may be spoilt by a new block. Raises :class:`ReconcileError` otherwise."""
    result = Result(started_at=datetime.now(UTC))
    deadline = time.monotonic() + wait_s
    while result.attempts < attempts:
        tip = await node_tip(client)
        if not await _caught_up(url, client, tip, deadline):
            continue
        result.attempts += 1
        (height, block_hash), marts = await asyncio.to_thread(read_marts, url)
        if (height, block_hash) != (tip.height, tip.block_hash):
            continue
        chain = await read_chain(client, deployment, marts)
        if await node_tip(client) != tip:
            continue
        result.stacks_height, result.burn_height, result.block_hash = tip.height, tip.burn_height, tip.block_hash
        result.checked, result.mismatches = compare(marts, chain)
        result.finished_at = datetime.now(UTC)
        return result
    raise ReconcileError(f"the chain moved during each of {attempts} comparisons")


def record(url: str, result: Result) -> int:
    """Append the run to transforms.reconcile_runs; returns its id."""
    with psycopg.connect(url) as conn:
        (run_id,) = conn.execute(
            "INSERT INTO transforms.reconcile_runs (started_at, finished_at, stacks_height, burn_height, block_hash, "
            "attempts, checked, mismatch_count, mismatches, error) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (result.started_at, result.finished_at or datetime.now(UTC), result.stacks_height,
             result.burn_height, result.block_hash, result.attempts, result.checked, len(result.mismatches),
             json.dumps([m.as_json() for m in result.mismatches]), result.error)).fetchone()
    return run_id


async def run(url: str, node_url: str, deployer: str | None = None, *, wait_s: float = 60.0) -> Result:
    """One recorded run against the node at ``node_url``: what the CLI and the daemon call. A run that could not
    compare comes back with ``error`` set (and is recorded so; a database that cannot take the row raises
    ``psycopg.Error``); the caller sets ``reconcile_mismatches`` from ``len(result.mismatches)``."""
    deployment = Deployment(deployer) if deployer else Deployment()
    started = datetime.now(UTC)
    async with StacksClient(node_url, retries=2) as client:
        try:
            result = await reconcile(url, client, deployment, wait_s=wait_s)
        except (ReconcileError, RpcError, psycopg.Error) as exc:  # e.g. no marts built yet, node down
            result = Result(started_at=started, error=str(exc) if isinstance(exc, ReconcileError)
                            else f"{type(exc).__name__}: {exc}")
    await asyncio.to_thread(record, url, result)
    return result
