"""Scale data: an observer-request TSV of N policies on a synthetic chain, replayable by the real indexer.

    .venv/bin/python benchmarks/synth_policies.py --policies 10000 [--per-block 200] [--seed 1]

Every print event is built from its row in ``contracts/EVENTS.md`` (the catalog ``transforms.catalog`` parses:
same names, tuple keys and Clarity types; a field missing or extra raises) and serialized to SIP-005 hex as
the node's ``contract_event.raw_value``; contract ids come from ``bithedge.protocol.deployment``. The amounts
follow ``bithedge.protocol`` (policy terms, premium split, pool caps, shares, payouts, fund cover, settlement
price and void rules, the oracle guard), starting from the deploy seed of ``bithedge-parameters.clar``.
Beside its prints, each call carries the asset events the devnet delivers for it, at the same place among
the prints (the `stx-transfer?` or sBTC `transfer` of premiums, fees, fund shares, deposits, withdrawals,
payouts, covers and refunds; fees are not events), and its Clarity result (`(ok shares)`, `(ok policy-id)`,
a settlement's list of `(ok payout)` …) as ``raw_result``; ``tests/transforms/test_synth_matches_devnet.py``
holds both, and the marts, equal to a devnet run of the same calls.

The story, one Stacks block per burn block (10 minutes apart): roles, six pools and provider deposits; admin
lowers `settle.max-price-delay-blocks` and `settle.void-grace-blocks` to 6 so voids happen within a short
chain, and the `gov.*` delays to their off-mainnet minimums; BTC and STX prices every block (a random walk, one BTC crash of ~50 % that drives payouts past the
collateral so the insurance fund covers part, and one STX outage whose expiries can only be voided);
``--per-block`` policies a block until ``--policies`` exist, durations sized so at most ~50k are active at
once; each expiry settled in the block after its price is final (ITM/OTM), or voided; withdrawal requests
executed once their expiries settled; one governance proposal (`fee.protocol-bp`) voted and executed; one
pause and unpause. Every transaction is the contract call that emits its prints (function and arguments as the
contracts define them, from the account the event names as sender, with per-sender nonces), serialized as an
unsigned testnet transaction (the accounts have no keys; quote signatures are placeholders), so the indexer
decodes it and ``analytics.contract_calls`` holds the chain's calls.

:func:`cached` builds a file once under ``.bithedge/bench/`` keyed by its parameters (with a ``.json``
summary holding the generator's own final state, which the test compares with the marts)."""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bithedge.protocol import formulas as F  # noqa: E402
from bithedge.protocol import settlement as S  # noqa: E402
from bithedge.protocol.deployment import CONTRACT_NAMES, DEVNET, SBTC_TOKEN, Deployment  # noqa: E402
from bithedge.protocol.quotes import Quote  # noqa: E402
from bithedge.protocol.units import BUYER_TIERS, PROVIDER_TIERS, token_asset  # noqa: E402
from stacks import clarity  # noqa: E402
from stacks.c32 import c32_address, c32_address_decode  # noqa: E402
from stacks.principal import parse_principal  # noqa: E402
from stacks.transaction import (  # noqa: E402
    CHAIN_ID_TESTNET,
    AnchorMode,
    Authorization,
    ContractCallPayload,
    HashMode,
    KeyEncoding,
    PostConditionMode,
    SingleSigSpendingCondition,
    Transaction,
    TransactionVersion,
)
from transforms import catalog  # noqa: E402

#: bump when the generated chain changes, so cached files are rebuilt
VERSION = 4
BENCH_DIR = REPO / ".bithedge" / "bench"
BURN0 = 1000  # burn height of Stacks block 1
T0 = 1_760_000_000
MAX_ACTIVE = 50_000
#: governance rules the admin sets in the first block (the contract's minimum `gov.*` values off mainnet)
GOV = {"gov.voting-delay-blocks": 1, "gov.voting-period-blocks": 10, "gov.timelock-blocks": 1}
TOKENS = ("STX", "sBTC")
CONTRACTS = {n.removeprefix("bithedge-") for n in CONTRACT_NAMES}
SBTC_ASSET = f"{SBTC_TOKEN}::sbtc-token"
SPEC = catalog.parse(catalog.EVENTS_MD.read_text())


def h32(*parts: object) -> str:
    return "0x" + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def account(label: str) -> str:
    """A testnet single-sig address (devnet-only: no key exists for it)."""
    return c32_address(26, hashlib.new("ripemd160", hashlib.sha256(label.encode()).digest()).digest())


A, U = clarity.StringAscii, clarity.UInt
#: the per-call cap of `settle-expired`'s `policy-ids` list
SETTLE_BATCH = 50
FEE = 3_000  # µSTX per transaction


@dataclass
class Tx:
    """One contract call, the events it emits in the node's order (prints and asset transfers, each the body of
    an observer event without its txid and index) and its Clarity result."""

    sender: str
    contract: str  # the BitHedge contract's name
    function: str
    args: tuple
    events: list[dict]
    fee: int = FEE  # µSTX (the devnet's genesis steps pay 2,000)
    result: clarity.ClarityValue = field(default_factory=lambda: clarity.ResponseOk(clarity.Bool(True)))


def call(sender: str, contract: str, function: str, *args, events: list[dict], fee: int = FEE,
         result: clarity.ClarityValue | None = None) -> Tx:
    """``result`` None: `(ok true)`, what every BitHedge call returns that has nothing to report."""
    tx = Tx(sender, contract, function, args, events, fee)
    if result is not None:
        tx.result = result
    return tx


def ok_uint(n: int) -> clarity.ClarityValue:
    return clarity.ResponseOk(U(n))


_PRINCIPALS: dict[str, clarity.ClarityValue] = {}


def _principal(p: str):
    v = _PRINCIPALS.get(p)
    if v is None:
        v = _PRINCIPALS[p] = parse_principal(p)
    return v


_ENCODE = {
    "uint": clarity.UInt,
    "bool": clarity.Bool,
    "string-ascii": clarity.StringAscii,
    "principal": _principal,
    "optional": lambda v: clarity.OptionalNone() if v is None else clarity.OptionalSome(_principal(v)),
}


def print_value(contract: str, event: str, fields: dict) -> str:
    """The print tuple of ``event`` from ``contract`` as SIP-005 hex; ``fields`` must be exactly its catalog
    fields (EVENTS.md), each converted to the catalog's Clarity type."""
    spec = SPEC[contract][event]
    names = {f for f, _ in spec}
    if set(fields) != names:
        raise ValueError(f"{event}: missing {sorted(names - set(fields))}, extra {sorted(set(fields) - names)}")
    data = {"event": clarity.StringAscii(event)}
    for name, typ in spec:
        data[name] = _ENCODE[typ](fields[name])
    return "0x" + clarity.encode(clarity.Tuple(data)).hex()


@dataclass
class Pool:
    token: str
    tier: str
    assets: int = 0
    unearned: int = 0
    shares: int = 0
    locked: int = 0
    pending: int = 0
    generation: int = 0
    providers: Counter = field(default_factory=Counter)
    expiry_locked: Counter = field(default_factory=Counter)
    open_expiries: Counter = field(default_factory=Counter)  # expiry -> unsettled policies

    def totals(self) -> dict:
        return {"pool-assets": self.assets, "pool-unearned": self.unearned, "pool-shares": self.shares,
                "pool-locked": self.locked, "pool-pending-shares": self.pending}


@dataclass
class Policy:
    id: int
    owner: str
    pool: Pool
    buyer_tier: str
    strike: int
    amount: int
    expiry: int
    premium: int
    pool_premium: int
    collateral: int
    price_delay: int
    void_after: int
    status: str = "active"
    payout: int = 0
    fund_cover: int = 0


class Generator:
    def __init__(self, out, *, policies: int, per_block: int, seed: int, deployment: Deployment = DEVNET) -> None:
        self.out, self.n_policies, self.per_block = out, policies, per_block
        self.rng = random.Random(seed)
        self.d = deployment
        seed_state = catalog.deploy_seed(catalog.PARAMETERS_CLAR.read_text())
        self.params = {k: v for k, v, _, _ in seed_state["params"]}
        self.tiers = {(kind, name): f for kind, name, f in seed_state["tiers"]}
        self.admin = deployment.deployer
        self.oracle_key, self.signer, self.keeper = account("oracle"), account("quote-signer"), account("keeper")
        self.owners = [account(f"owner{i}") for i in range(max(200, 3 * MAX_ACTIVE // 50 if policies > 20_000
                                                               else policies // 10 + 50))]
        self.providers = [account(f"provider{i}") for i in range(60)]
        self.pools = {(t, tier): Pool(t, tier) for t in TOKENS for tier in PROVIDER_TIERS}
        self.owner_active: Counter = Counter()
        self.expiry_count: Counter = Counter()  # the registry's expiry index: policies per expiry, all pools
        self.prices = {"BTC": 9_000_000_000_000, "STX": 200_000_000}  # USD x 1e8
        self.history: dict[str, dict[int, int]] = {"BTC": {}, "STX": {}}  # height -> prev height
        self.price_at: dict[str, dict[int, int]] = {"BTC": {}, "STX": {}}
        self.latest: dict[str, int | None] = {"BTC": None, "STX": None}
        self.due: dict[int, list[Policy]] = defaultdict(list)  # expiry -> unsettled policies
        self.policies: list[Policy] = []
        self.requests: list[tuple[Pool, str, int, int]] = []  # pool, provider, shares, after-expiry
        self.fund = Counter()
        self.treasury = Counter()
        self.fees = Counter()
        mean = max(12, min(144, MAX_ACTIVE * 8 // 10 // per_block))
        self.durations = (6, 2 * mean - 6)
        blocks = policies // per_block + 1
        self.crash = (max(8, blocks // 2), 9)  # first block, length: BTC -9 % per block
        self.outage = (blocks + 10, 12)  # STX prices missing for 12 blocks, once every policy exists
        self.proposal_at = 4
        self.proposal: dict | None = None
        self.voters: list[str] = []
        self.block_start_power = 0
        self.req_id = 0
        self.stats = Counter()
        self.active = 0
        self.nonces: Counter = Counter()
        self.calls: Counter = Counter()  # contract calls by function
        self.hash160: dict[str, bytes] = {}
        self.first_block = 1  # the chain's first Stacks height (a devnet's chain starts at 0)
        self.burn_sent: int | None = None  # the last burn block written

    # ------------------------------------------------------------ output
    def write(self, path: str, payload: dict) -> None:
        self.req_id += 1
        self.out.write(f"{self.req_id}\t2026-01-01 00:00:00+00\t{path}\t{json.dumps(payload, separators=(',', ':'))}\n")

    def raw_tx(self, tx: Tx) -> bytes:
        """The call serialized as a testnet single-sig transaction from ``tx.sender`` with its next nonce. Unsigned
        (an empty signature): the generator's accounts have no keys, and the indexer reads the origin's hash, the
        nonce, the fee and the payload, not the signature."""
        signer = self.hash160.get(tx.sender)
        if signer is None:
            signer = self.hash160[tx.sender] = c32_address_decode(tx.sender)[1]
        nonce = self.nonces[tx.sender]
        self.nonces[tx.sender] += 1
        self.calls[tx.function] += 1
        contract = parse_principal(self.d.contract_id(f"bithedge-{tx.contract}"))
        return Transaction(
            version=TransactionVersion.TESTNET, chain_id=CHAIN_ID_TESTNET,
            auth=Authorization(SingleSigSpendingCondition(HashMode.P2PKH, signer, nonce, tx.fee, KeyEncoding.COMPRESSED)),
            anchor_mode=AnchorMode.ANY, post_condition_mode=PostConditionMode.ALLOW, post_conditions=(),
            payload=ContractCallPayload(contract, tx.function, tx.args),
        ).serialize()

    def block_hash(self, h: int) -> str:
        """The index block hash of Stacks block ``h`` (a subclass forks by naming later blocks otherwise)."""
        return h32("block", h)

    def emit_block(self, h: int, txs: list[Tx]) -> None:
        """Stacks block ``h`` at burn height ``self.burn``, after its burn block when that height is new (a chain
        scripted to the devnet's heights has two or more Stacks blocks per burn block)."""
        burn = self.burn
        if burn != self.burn_sent:
            self.burn_sent = burn
            self.write("/new_burn_block", {"burn_block_hash": h32("burn", burn), "burn_block_height": burn,
                                           "reward_recipients": [], "reward_slot_holders": [], "burn_amount": 0})
        ibh = self.block_hash(h)
        events, transactions = [], []
        for i, tx in enumerate(txs):
            raw = self.raw_tx(tx)
            txid = "0x" + hashlib.new("sha512_256", raw).hexdigest()
            transactions.append({"txid": txid, "tx_index": i, "status": "success",
                                 "raw_result": "0x" + clarity.encode(tx.result).hex(),
                                 "raw_tx": "0x" + raw.hex(), "contract_abi": None, "burnchain_op": None,
                                 "execution_cost": {"read_count": 0, "read_length": 0, "runtime": 0,
                                                    "write_count": 0, "write_length": 0},
                                 "microblock_sequence": None, "microblock_hash": None,
                                 "microblock_parent_hash": None})
            for body in tx.events:
                events.append({"txid": txid, "event_index": len(events), "committed": True, **body})
        self.stats["events"] += len(events)
        parent = self.block_hash(h - 1) if h > self.first_block else "0x" + "00" * 32
        self.write("/new_block", {
            "block_hash": h32("bh", ibh), "block_height": h, "index_block_hash": ibh,
            "parent_block_hash": h32("bh", parent) if h > self.first_block else parent, "parent_index_block_hash": parent,
            "parent_microblock": "0x" + "00" * 32, "parent_microblock_sequence": 0,
            "burn_block_hash": h32("burn", burn), "burn_block_height": burn, "burn_block_time": T0 + 600 * (burn - BURN0),
            "miner_txid": h32("miner", ibh), "matured_miner_rewards": [], "events": events,
            "transactions": transactions})

    def ev(self, contract: str, event: str, **fields) -> dict:
        """The `print` of ``event`` by ``contract`` in this block."""
        fields = {k.replace("_", "-"): v for k, v in fields.items()}
        fields.setdefault("burn-height", self.burn)
        fields.setdefault("stacks-height", self.h)
        name = contract if contract.startswith("bithedge-") else f"bithedge-{contract}"
        return {"type": "contract_event", "contract_event": {
            "contract_identifier": self.d.contract_id(name), "topic": "print",
            "raw_value": print_value(name, event, fields)}}

    def transfer(self, token: str, amount: int, sender: str, recipient: str) -> dict:
        """The asset event of moving ``amount`` of ``token`` (`stx-transfer?`, or the sBTC token's SIP-010
        `transfer` with no memo, which prints nothing); ``sender``/``recipient`` a principal or a BitHedge
        contract's name."""
        sender, recipient = (self.d.contract_id(f"bithedge-{p}") if p in CONTRACTS else p for p in (sender, recipient))
        if token == "STX":
            return {"type": "stx_transfer_event", "stx_transfer_event": {
                "amount": str(amount), "memo": "", "recipient": recipient, "sender": sender}}
        return {"type": "ft_transfer_event", "ft_transfer_event": {
            "amount": str(amount), "asset_identifier": SBTC_ASSET, "recipient": recipient, "sender": sender}}

    # ------------------------------------------------------------ actions
    def setup(self, txs) -> None:
        for who, role in ((self.oracle_key, "oracle-submitter"), (self.signer, "quote-signer"),
                          (self.keeper, "guardian")):
            txs.append(call(self.admin, "parameters", "grant-role", _principal(who), A(role), events=[
                self.ev("parameters", "role-granted", who=who, role=role, sender=self.admin)]))
        for key, value in {"settle.max-price-delay-blocks": 6, "settle.void-grace-blocks": 6, **GOV}.items():
            self.set_param(txs, self.admin, key, value)
        for pool in self.pools.values():
            txs.append(call(self.admin, "vault", "create-pool", A(pool.token), A(pool.tier), events=[
                self.ev("vault", "pool-created", token=pool.token, tier=pool.tier, sender=self.admin)]))
        scale = {"STX": 10**6, "sBTC": 10**8}
        for pool in self.pools.values():  # enough backing for the per-block flow at every tier's caps
            whole = (150_000_000 if pool.token == "STX" else 1_500) * self.per_block // 100
            for p in self.providers[:10]:
                self.deposit(txs, pool, p, whole * scale[pool.token] // 10)
        for t in TOKENS:
            amount = scale[t] * (1000 if t == "STX" else 1)
            self.fund[t] += amount
            txs.append(call(self.admin, "insurance-fund", "deposit", A(t), U(amount), result=ok_uint(amount), events=[
                self.transfer(t, amount, self.admin, "insurance-fund"),
                self.ev("insurance-fund", "fund-deposit", token=t, amount=amount, source="direct", policy_id=0,
                        depositor=self.admin, balance=self.fund[t])]))

    def set_param(self, txs, sender: str, key: str, value: int, fee: int = FEE) -> None:
        txs.append(call(sender, "parameters", "set-param", A(key), U(value), fee=fee, events=[
            self.ev("parameters", "param-updated", key=key, old_value=self.params[key], value=value, sender=sender)]))
        self.params[key] = value

    def set_tier_field(self, txs, sender: str, kind: str, name: str, fld: str, value: int) -> None:
        """`set-tier-field` (``active`` takes 0 or 1); the print carries the whole tier after the change."""
        tier = self.tiers[(kind, name)]
        tier[fld] = bool(value) if fld == "active" else value
        txs.append(call(sender, "parameters", "set-tier-field", A(kind), A(name), A(fld), U(value), events=[self.ev(
            "parameters", "tier-updated", tier_kind=kind, tier=name, field=fld,
            **{k.replace("-", "_"): v for k, v in tier.items()}, sender=sender)]))

    def deposit(self, txs, pool: Pool, provider: str, amount: int) -> None:
        shares = F.shares_for_deposit(amount, pool.assets, pool.unearned, pool.shares)
        pool.assets += amount
        pool.shares += shares
        pool.providers[provider] += shares
        txs.append(call(provider, "vault", "deposit", A(pool.token), A(pool.tier), U(amount), result=ok_uint(shares),
                        events=[self.transfer(pool.token, amount, provider, "vault"),
                                self.ev("vault", "pool-deposit", token=pool.token, tier=pool.tier, provider=provider,
                                        amount=amount, shares=shares, provider_shares=pool.providers[provider],
                                        **_t(pool))]))

    def submit_prices(self, txs) -> None:
        crash0, crash_len = self.crash
        for asset in ("BTC", "STX"):
            if asset == "STX" and self.outage[0] <= self.h < self.outage[0] + self.outage[1]:
                continue
            price = self.prices[asset]
            if asset == "BTC" and crash0 <= self.h < crash0 + crash_len:
                price = price * 91 // 100
            else:
                price = int(price * math.exp(self.rng.gauss(0.0005 if self.h > crash0 else 0, 0.006)))
            self.submit_price(txs, asset, price)

    def submit_price(self, txs, asset: str, price: int) -> int:
        """The oracle's `submit-price` of ``asset`` in this block, the first of the block (``updates`` 1), held
        to the guard's bounds around the latest price (so ``price`` is clamped, never refused); returns the
        price submitted."""
        ref_h = self.latest[asset]
        allowed = 0
        if ref_h is not None:
            allowed = F.allowed_deviation_bp(self.params["oracle.max-deviation-bp"],
                                             self.params["oracle.stale-after-blocks"],
                                             self.params["oracle.max-gap-deviation-bp"], self.burn - ref_h)
            lo, hi = F.guard_bounds(self.prices[asset], allowed)
            price = min(max(price, lo), hi)
        self.prices[asset] = price
        prev = self.price_at[asset].get(ref_h, 0) if ref_h is not None else 0
        txs.append(call(self.oracle_key, "oracle", "submit-price", A(asset), U(price), events=[
            self.ev("oracle", "price-submitted", asset=asset, price=price, previous_price=prev,
                    previous_height=ref_h or 0, reference_price=prev, reference_height=ref_h or 0,
                    allowed_bp=allowed, updates=1, replaced=False, guard_bypassed=ref_h is None,
                    submitter=self.oracle_key)]))
        self.history[asset][self.burn] = ref_h or 0
        self.price_at[asset][self.burn] = price
        self.latest[asset] = self.burn
        return price

    def settle_due(self, txs, only: tuple[int, ...] | None = None) -> None:
        """Settles (or voids) every past expiry, or those of ``only``."""
        for expiry in sorted(e for e in self.due if e < self.burn and (only is None or e in only)):
            group = self.due[expiry]
            delay = group[0].price_delay
            btc_h = S.settlement_height(self.history["BTC"], expiry, self.burn, delay)
            stx_h = S.settlement_height(self.history["STX"], expiry, self.burn, delay)
            rest = []
            by_pool: dict[tuple, list] = defaultdict(list)
            for p in group:
                asset = token_asset(p.pool.token).value
                col_h = btc_h if asset == "BTC" else stx_h
                if btc_h is not None and col_h is not None:
                    by_pool[(p.pool.token, p.pool.tier)].append(p)
                elif self.burn > p.void_after:
                    missing = "BTC" if btc_h is None else asset
                    hint = min((h for h in self.history[missing] if h >= expiry), default=0)
                    if S.no_settlement_price(expiry, hint, self.history[missing].get(hint), self.latest[missing],
                                             self.burn, p.price_delay):
                        heights = {"BTC": btc_h or 0, "STX": stx_h or 0, missing: hint}  # the missing one: its proof
                        txs.append(call(self.keeper, "policy-registry", "void-policy", U(p.id), U(heights["BTC"]),
                                        U(heights["STX"]), events=self.void(p, missing), result=ok_uint(p.pool_premium)))
                    else:
                        rest.append(p)
                else:
                    rest.append(p)
            for ps in by_pool.values():
                for i in range(0, len(ps), SETTLE_BATCH):
                    batch, events = ps[i:i + SETTLE_BATCH], []
                    for p in batch:
                        events.extend(self.settle(p, btc_h, btc_h if p.pool.token == "sBTC" else stx_h))
                    txs.append(call(self.keeper, "policy-registry", "settle-expired", U(expiry), U(btc_h),
                                    U(stx_h or 0), clarity.List([U(p.id) for p in batch]), events=events,
                                    result=clarity.ResponseOk(clarity.List([ok_uint(p.payout) for p in batch]))))
            if rest:
                self.due[expiry] = rest
            else:
                del self.due[expiry]

    def _close(self, p: Policy) -> None:
        pool = p.pool
        pool.locked -= p.collateral
        pool.expiry_locked[p.expiry] -= p.collateral
        pool.open_expiries[p.expiry] -= 1
        if not pool.open_expiries[p.expiry]:
            del pool.open_expiries[p.expiry]
        self.owner_active[p.owner] -= 1
        self.active -= 1

    def settle(self, p: Policy, btc_h: int, col_h: int) -> list:
        pool, token = p.pool, p.pool.token
        s_e = self.price_at["BTC"][btc_h]
        p_e = self.price_at[token_asset(token).value][col_h]
        terms = F.payout_terms(token, p.strike, p.amount, s_e, p_e, p.collateral)
        out = []
        cover = 0
        if terms.shortfall > 0 and self.fund[token] > 0:
            cover = F.fund_cover(terms.shortfall, self.fund[token])
            self.fund[token] -= cover
            out.append(self.transfer(token, cover, "insurance-fund", p.owner))
            out.append(self.ev("insurance-fund", "fund-cover", token=token, policy_id=p.id, recipient=p.owner,
                               shortfall=terms.shortfall, covered=cover, uncovered=terms.shortfall - cover,
                               balance=self.fund[token]))
        pool.unearned -= p.pool_premium
        pool.assets += p.pool_premium - terms.payout
        if terms.payout:  # release-collateral pays nothing out for a zero payout
            out.append(self.transfer(token, terms.payout, "vault", p.owner))
        self._close(p)
        out.extend(self.wipe_if_worthless(pool))
        p.status = "settled-itm" if terms.payout > 0 else "settled-otm"
        p.payout, p.fund_cover = terms.payout, cover
        self.stats[p.status] += 1
        self.stats["fund-cover"] += cover > 0
        out.append(self.ev("policy-registry", "policy-settled", policy_id=p.id, owner=p.owner, token=token,
                           tier=pool.tier, buyer_tier=p.buyer_tier, status=p.status, strike=p.strike,
                           amount=p.amount, expiry=p.expiry, premium=p.premium, pool_premium=p.pool_premium,
                           collateral=p.collateral, uncapped_payout=terms.uncapped, payout=terms.payout,
                           shortfall=terms.shortfall, fund_cover=cover, released=p.collateral - terms.payout,
                           settlement_price=s_e, settlement_price_height=btc_h, collateral_price=p_e,
                           collateral_price_height=col_h, expiry_locked=pool.expiry_locked[p.expiry],
                           owner_active=self.owner_active[p.owner], settler=self.keeper, **_t(pool)))
        return out

    def wipe_if_worthless(self, pool: Pool) -> list:
        """The vault's generation rule at the end of `release-collateral`: a pool left with more than 1e6 shares
        per base unit of assets starts a new generation (its shares and pending shares 0, every position and
        withdrawal request of the old one void) and prints `pool-wiped` before the registry's event."""
        if not F.starts_new_generation(pool.assets, pool.shares):
            return []
        voided = pool.shares
        pool.shares = pool.pending = 0
        pool.generation += 1
        pool.providers.clear()
        self.requests = [r for r in self.requests if r[0] is not pool]
        self.stats["wipes"] += 1
        return [self.ev("vault", "pool-wiped", token=pool.token, tier=pool.tier, voided_shares=voided,
                        generation=pool.generation, pool_assets=pool.assets)]

    def void(self, p: Policy, missing: str) -> list:
        pool = p.pool
        pool.unearned -= p.pool_premium
        self._close(p)
        refund = [self.transfer(pool.token, p.pool_premium, "vault", p.owner)] if p.pool_premium else []
        wiped = self.wipe_if_worthless(pool)
        p.status = "voided"
        self.stats["voided"] += 1
        return [*refund, *wiped, self.ev("policy-registry", "policy-voided", policy_id=p.id, owner=p.owner, token=pool.token,
                       tier=pool.tier, buyer_tier=p.buyer_tier, expiry=p.expiry, premium=p.premium,
                       refund=p.pool_premium, collateral=p.collateral, void_after=p.void_after,
                       missing_asset=missing, expiry_locked=pool.expiry_locked[p.expiry],
                       owner_active=self.owner_active[p.owner], sender=self.keeper, **_t(pool))]

    def create_policies(self, txs) -> None:
        rng, params = self.rng, self.params
        want = min(self.per_block, self.n_policies - len(self.policies))
        for _ in range(want * 3):
            if want <= 0:
                break
            token = "STX" if rng.random() < 0.7 else "sBTC"
            asset = token_asset(token).value
            if self.latest[asset] is None or self.burn - self.latest[asset] > params["policy.max-price-age-blocks"]:
                continue  # no fresh collateral price (the STX outage)
            pool = self.pools[(token, rng.choice(PROVIDER_TIERS))]
            buyer_tier = rng.choice(BUYER_TIERS)
            pt = self.tiers[("provider", pool.tier)]
            spot, price = self.prices["BTC"], self.prices[asset]
            strike = spot * rng.randint(8_500, 10_800) // 10_000
            amount = rng.randint(10_000, 20_000_000)
            if not F.strike_in_bounds(strike, spot, params["policy.min-strike-bp"], params["policy.max-strike-bp"]):
                continue
            terms = self.terms(token, buyer_tier, strike, amount)
            premium = terms.min_premium + (terms.max_premium - terms.min_premium) * rng.randint(1, 60) // 1000
            expiry = self.burn + rng.randint(*self.durations)
            owner = rng.choice(self.owners)
            if (not F.premium_in_bounds(premium, terms) or terms.collateral == 0
                    or self.owner_active[owner] >= params["policy.max-active-per-owner"]
                    or F.pool_cap_error(terms.collateral, F.backing(pool.assets, pool.shares, pool.pending),
                                        pool.locked, pool.expiry_locked[expiry], pt["max-exposure-policy-bp"],
                                        pt["max-utilization-bp"], pt["max-exposure-expiry-bp"]) is not None):
                continue
            self.open_policy(txs, pool, owner, buyer_tier, strike, amount, expiry, premium, terms, spot, price)
            want -= 1

    def terms(self, token: str, buyer_tier: str, strike: int, amount: int):
        """`policy-terms` at the latest prices, the buyer tier and the parameters, as `create-policy` takes them."""
        params, bt = self.params, self.tiers[("buyer", buyer_tier)]
        stress = params["stress.stx-price-bp" if token == "STX" else "stress.sbtc-price-bp"]
        return F.policy_terms(token, strike, amount, self.prices["BTC"], self.prices[token_asset(token).value],
                              bt["collateral-ratio-bp"], bt["premium-adjustment-bp"], params["premium.min-bp"],
                              params["premium.max-bp"], stress)

    def open_policy(self, txs, pool: Pool, owner: str, buyer_tier: str, strike: int, amount: int, expiry: int,
                    premium: int, terms, spot: int, price: int) -> Policy:
        """`create-policy` of terms the caller checked (bounds, caps, premium): the premium split, the lock and
        the prints, at the latest prices ``spot`` (BTC) and ``price`` (the collateral's)."""
        params = self.params
        token, asset = pool.token, token_asset(pool.token).value
        split = F.premium_split(premium, params["fee.protocol-bp"], params["fund.premium-bp"])
        pid = len(self.policies) + 1
        delay = params["settle.max-price-delay-blocks"]
        p = Policy(pid, owner, pool, buyer_tier, strike, amount, expiry, premium, split.pool, terms.collateral,
                   delay, S.void_after(expiry, delay, params["settle.void-grace-blocks"]))
        self.policies.append(p)
        self.due[expiry].append(p)
        tx: list[tuple[str, str]] = []
        if split.fee:
            self.treasury[token] += split.fee
            self.fees[token] += split.fee
            tx.append(self.transfer(token, split.fee, owner, "treasury"))
            tx.append(self.ev("treasury", "fee-collected", token=token, amount=split.fee, policy_id=pid,
                              payer=owner, balance=self.treasury[token], fees=self.fees[token]))
        if split.fund:
            self.fund[token] += split.fund
            tx.append(self.transfer(token, split.fund, owner, "insurance-fund"))
            tx.append(self.ev("insurance-fund", "fund-deposit", token=token, amount=split.fund,
                              source="premium", policy_id=pid, depositor=owner, balance=self.fund[token]))
        tx.append(self.transfer(token, split.pool, owner, "vault"))  # lock-collateral takes the pool's share
        pool.unearned += split.pool
        pool.locked += terms.collateral
        pool.expiry_locked[expiry] += terms.collateral
        self.expiry_count[expiry] += 1
        pool.open_expiries[expiry] += 1
        self.owner_active[owner] += 1
        self.active += 1
        tx.append(self.ev(
            "policy-registry", "policy-created", policy_id=pid, owner=owner, quote_id=pid, signer=self.signer,
            token=token, tier=pool.tier, buyer_tier=buyer_tier, strike=strike, amount=amount, expiry=expiry,
            premium=premium, protocol_fee=split.fee, fund_share=split.fund, pool_premium=split.pool,
            collateral=terms.collateral, max_payout=terms.max_payout, stress_price=terms.stress_price,
            coverage_floor=terms.coverage_floor, spot_price=spot, spot_price_height=self.latest["BTC"],
            quote_spot=spot, issued_at=self.burn, collateral_price=price,
            collateral_price_height=self.latest[asset], price_delay=delay, void_after=p.void_after,
            expiry_locked=pool.expiry_locked[expiry], expiry_count=self.expiry_count[expiry],
            owner_active=self.owner_active[owner], **_t(pool)))
        quote = Quote(pid, owner, token, buyer_tier, pool.tier, strike, amount, expiry, premium, self.burn, spot,
                      self.burn + params["quote.max-life-blocks"])
        txs.append(call(owner, "policy-registry", "create-policy", U(pid), A(token), A(buyer_tier), A(pool.tier),
                        U(strike), U(amount), U(expiry), U(premium), U(quote.issued_at), U(spot),
                        U(quote.valid_until), clarity.Buffer(self.quote_signature(quote)), events=tx,
                        result=ok_uint(pid)))
        return p

    def quote_signature(self, quote: Quote) -> bytes:
        """A placeholder: the generator's quote signer has no key (a devnet mirror signs for real)."""
        return hashlib.sha512(f"quote|{quote.quote_id}".encode()).digest()[:65]

    def withdrawals(self, txs) -> None:
        rng = self.rng
        flowing = len(self.policies) < self.n_policies
        if flowing and rng.random() < 0.3:  # a provider asks for part of its shares
            pool = self.pools[(rng.choice(TOKENS), rng.choice(PROVIDER_TIERS))]
            who = rng.choice(self.providers[:10])
            free = pool.providers[who] - sum(s for q, w, s, _ in self.requests if q is pool and w == who)
            shares = free * rng.randint(1, 5) // 100
            if shares > 0 and not any(q is pool and w == who for q, w, _, _ in self.requests):  # one request each
                self.request_withdrawal(txs, pool, who, shares)
        for req in list(self.requests):
            pool, who, shares, after = req
            paid = F.value_of_shares(shares, pool.assets, pool.shares)
            ready = min(pool.open_expiries, default=after + 1) > after
            if ready and F.withdrawal_keeps_utilization(paid, pool.assets, pool.locked,
                                                        self.tiers[("provider", pool.tier)]["max-utilization-bp"]):
                self.execute_withdrawal(txs, pool, who)
        if flowing and rng.random() < 0.5:  # new liquidity, scaled to the flow
            pool = self.pools[(rng.choice(TOKENS), rng.choice(PROVIDER_TIERS))]
            unit = 10**6 * 20_000 if pool.token == "STX" else 10**8 // 2
            self.deposit(txs, pool, rng.choice(self.providers), unit * rng.randint(1, 10) * self.per_block // 100)

    def request_withdrawal(self, txs, pool: Pool, who: str, shares: int) -> None:
        """`request-withdrawal`: ``shares`` stop backing new policies until paid after the latest open expiry."""
        after = max(pool.open_expiries, default=0)
        pool.pending += shares
        self.requests.append((pool, who, shares, after))
        txs.append(call(who, "vault", "request-withdrawal", A(pool.token), A(pool.tier), U(shares),
                        result=ok_uint(after), events=[
            self.ev("vault", "withdrawal-requested", token=pool.token, tier=pool.tier, provider=who,
                    shares=shares, after_expiry=after, provider_shares=pool.providers[who], **_t(pool))]))

    def execute_withdrawal(self, txs, pool: Pool, who: str) -> None:
        """`execute-withdrawal` of ``who``'s request in ``pool`` (the caller checked it is executable)."""
        req = next(r for r in self.requests if r[0] is pool and r[1] == who)
        self.requests.remove(req)
        _, _, shares, after = req
        pool.pending -= shares
        self.stats["withdrawals"] += 1
        self.redeem(txs, "execute-withdrawal", "withdrawal-executed", pool, who, shares, after, ())

    def withdraw(self, txs, pool: Pool, who: str, shares: int) -> None:
        """`withdraw`: at once, from a pool with no open expiry."""
        self.redeem(txs, "withdraw", "pool-withdraw", pool, who, shares, 0, (U(shares),))

    def redeem(self, txs, function: str, event: str, pool: Pool, who: str, shares: int, after: int, args) -> None:
        """The vault's `redeem`: burns ``shares`` and pays their value to ``who``."""
        paid = F.value_of_shares(shares, pool.assets, pool.shares)
        pool.shares -= shares
        pool.assets -= paid
        pool.providers[who] -= shares
        moved = [self.transfer(pool.token, paid, "vault", who)] if paid else []
        txs.append(call(who, "vault", function, A(pool.token), A(pool.tier), *args, result=ok_uint(paid), events=[
            *moved, self.ev("vault", event, token=pool.token, tier=pool.tier, provider=who, amount=paid,
                            shares=shares, after_expiry=after, provider_shares=pool.providers[who], **_t(pool))]))

    # governance: voting power is the value of the STX positions, read by the contract at a past block
    def stx_power(self, who: str) -> int:
        return sum(F.value_of_shares(p.providers[who], p.assets, p.shares) for p in self.pools.values()
                   if p.token == "STX")

    def stx_total(self) -> int:
        """`total-power-at`: the assets of the STX pools."""
        return sum(p.assets for p in self.pools.values() if p.token == "STX")

    def propose(self, txs, proposer: str, key: str, value: int, power: int) -> dict:
        """`propose-param`; ``power`` is the proposer's :meth:`stx_power` at the end of the previous block."""
        pid = (self.proposal or {}).get("id", 0) + 1
        end = self.burn + self.params["gov.voting-period-blocks"]
        eta = end + self.params["gov.timelock-blocks"] + 1
        snapshot = self.h + self.params["gov.voting-delay-blocks"]
        self.proposal = {"id": pid, "key": key, "value": value, "end": end, "eta": eta, "snapshot": snapshot,
                         "total": 0, "yes": 0, "no": 0, "power": None}
        txs.append(call(proposer, "governance", "propose-param", A(key), U(value), result=ok_uint(pid), events=[
            self.ev("governance", "proposal-created", proposal_id=pid, proposer=proposer, kind="param",
                    key=key, tier_kind="", tier="", value=value, recipient=None,
                    proposer_power=power, snapshot_height=snapshot,
                    start_burn_height=self.burn, end_burn_height=end, eta_burn_height=eta,
                    expires_burn_height=eta + self.params["gov.execution-grace-blocks"],
                    quorum_bp=self.params["gov.quorum-bp"], threshold_bp=self.params["gov.threshold-bp"])]))
        return self.proposal

    def snapshot(self) -> None:
        """At the end of a block: the open proposal's powers when this is its snapshot block."""
        pr = self.proposal
        if pr is not None and pr["power"] is None and self.h == pr["snapshot"]:
            pr["power"] = {who: self.stx_power(who) for who in set().union(*(p.providers for p in self.pools.values()
                                                                            if p.token == "STX"))}
            pr["snapshot_total"] = self.stx_total()

    def vote(self, txs, voter: str, support: bool) -> None:
        pr = self.proposal
        power = pr["power"].get(voter, 0)
        pr["yes" if support else "no"] += power
        pr["total"] = pr["snapshot_total"]
        txs.append(call(voter, "governance", "vote", U(pr["id"]), clarity.Bool(support), result=ok_uint(power),
                        events=[self.ev("governance", "vote-cast", proposal_id=pr["id"], voter=voter,
                                        support=support, power=power, yes=pr["yes"], no=pr["no"],
                                        total_power=pr["total"])]))

    def passed(self) -> bool:
        pr = self.proposal
        return F.proposal_passed(pr["yes"], pr["no"], pr["total"], self.params["gov.quorum-bp"],
                                 self.params["gov.threshold-bp"])

    def execute(self, txs, executor: str) -> None:
        """`execute` of the passed proposal: its `set-param` through the parameters contract, then its print."""
        pr = self.proposal
        old = self.params[pr["key"]]
        self.params[pr["key"]] = pr["value"]
        self.stats["proposals-executed"] += 1
        txs.append(call(executor, "governance", "execute", U(pr["id"]), events=[
            self.ev("parameters", "param-updated", key=pr["key"], old_value=old, value=pr["value"],
                    sender=self.d.governance),
            self.ev("governance", "proposal-executed", proposal_id=pr["id"], kind="param", key=pr["key"],
                    tier_kind="", tier="", value=pr["value"], recipient=None, yes=pr["yes"], no=pr["no"],
                    total_power=pr["total"], executor=executor)]))
        pr["executed"] = True

    def set_paused(self, txs, sender: str, action: str, paused: bool, previous: bool) -> None:
        txs.append(call(sender, "parameters", "set-paused", A(action), clarity.Bool(paused), events=[
            self.ev("parameters", "pause-set", action=action, paused=paused, previous=previous, sender=sender)]))

    def governance(self, txs) -> None:
        """One proposal (`fee.protocol-bp` to 250) by the first provider, six votes (one against), executed at
        its eta, then a guardian pause and the admin's unpause of deposits in the same block."""
        if self.h == self.proposal_at:
            self.propose(txs, self.providers[0], "fee.protocol-bp", 250, self.block_start_power)
            self.voters = self.providers[:6]
            return
        pr = self.proposal
        if pr is None or pr.get("executed"):
            return
        if self.h > pr["snapshot"] and self.burn <= pr["end"]:
            while self.voters:
                voter = self.voters.pop(0)
                if pr["power"].get(voter):  # `vote` refuses a voter with no power
                    self.vote(txs, voter, voter != self.providers[5])
                    break
        elif self.burn == pr["eta"] and self.passed():
            self.execute(txs, self.keeper)
            self.set_paused(txs, self.keeper, "deposit", True, False)
            self.set_paused(txs, self.admin, "deposit", False, True)

    # ------------------------------------------------------------ the chain
    def run(self) -> dict:
        self.h = 0
        while True:
            self.h += 1
            self.burn = BURN0 + self.h - 1
            txs: list[Tx] = []
            if self.h == self.proposal_at:  # `propose` reads the proposer's power at the previous block
                self.block_start_power = self.stx_power(self.providers[0])
            self.submit_prices(txs)
            if self.h == 1:
                self.setup(txs)
            else:
                self.settle_due(txs)
                self.governance(txs)
                self.withdrawals(txs)
                self.create_policies(txs)
            self.emit_block(self.h, txs)
            self.snapshot()
            if len(self.policies) >= self.n_policies and "creation-blocks" not in self.stats:
                self.stats["creation-blocks"] = self.h  # the last block that creates policies
            self.stats["max-active"] = max(self.stats["max-active"], self.active)
            if len(self.policies) >= self.n_policies and not self.due and not self.requests:
                break
        return self.summary()

    def summary(self) -> dict:
        return {
            "policies": len(self.policies), "blocks": self.h, "requests": self.req_id, "tip_burn_height": self.burn,
            "stats": dict(self.stats),
            "pools": {f"{p.token}/{p.tier}": {"assets": p.assets, "shares": p.shares, "locked": p.locked,
                                              "unearned": p.unearned} for p in self.pools.values()},
            "fund": dict(self.fund), "treasury": dict(self.treasury),
            "statuses": dict(Counter(p.status for p in self.policies)),
            "payouts": sum(p.payout for p in self.policies),
            "calls": dict(self.calls),
        }


def _t(pool: Pool) -> dict:
    """The pool totals every vault/registry event carries, as keyword arguments."""
    return {k.replace("-", "_"): v for k, v in pool.totals().items()}


def generate(path: Path, *, policies: int, per_block: int = 200, seed: int = 1) -> dict:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        summary = Generator(f, policies=policies, per_block=per_block, seed=seed).run()
    tmp.replace(path)  # a crash leaves no half file under the cached name
    summary["file"] = str(path)
    summary["mb"] = round(path.stat().st_size / 1e6, 1)
    return summary


def cached(policies: int, per_block: int = 200, seed: int = 1, directory: Path = BENCH_DIR) -> tuple[Path, dict]:
    """The TSV for these parameters (built when missing) and its summary."""
    path = directory / f"synth-v{VERSION}-p{policies}-b{per_block}-s{seed}.tsv"
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists():
        return path, json.loads(meta.read_text())
    summary = generate(path, policies=policies, per_block=per_block, seed=seed)
    meta.write_text(json.dumps(summary) + "\n")
    return path, summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--policies", type=int, default=10_000)
    ap.add_argument("--per-block", type=int, default=200, help="policies created per block")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    path, summary = cached(args.policies, args.per_block, args.seed)
    print(json.dumps({k: v for k, v in summary.items() if k not in ("pools",)}))
    print(f"{path}: {path.stat().st_size / 1e6:.1f} MB on disk")


if __name__ == "__main__":
    main()
