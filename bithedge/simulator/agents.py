"""Agents that use the real contracts on the devnet: liquidity providers (deposits, withdrawals by
request), policy buyers (with quotes signed by the devnet quote-signer key), insurance-fund
depositors, a guardian that sometimes pauses an action and the admin who unpauses it, and governance
(proposals, votes, execution). One :meth:`Simulator.step` per block. Oracle prices and settlement are
the keeper's (``bithedge keeper run``): the simulator never signs with the oracle-submitter or keeper
accounts, so each account has one signer and their nonces never collide."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp

from bithedge.protocol.deployment import DEVNET, Deployment
from bithedge.protocol.formulas import policy_terms
from bithedge.protocol.quotes import Quote, sign_quote
from bithedge.protocol.risk import bs_put
from bithedge.protocol.units import BUYER_TIERS, ONE8, PROVIDER_TIERS, PauseAction, token_scale
from bithedge.settings import REPO_ROOT
from bithedge.simulator.market import Feed, Market
from stacks import clarity
from stacks.address import AddressVersion
from stacks.keys import parse_private_key
from stacks.principal import parse_principal
from stacks.rpc import BadNonce, RpcError, StacksClient, TransactionRejected
from stacks.transaction import PostConditionMode, decode_transaction, make_contract_call, sign

U = clarity.UInt
A = clarity.StringAscii
#: DEVNET ONLY: the labelled account that holds the guardian role for the simulator (granted at setup);
#: wallet_1, the guardian of devnet-setup.json, is the keeper's settler
GUARDIAN_LABEL = "faucet"


@dataclass
class Actor:
    label: str
    key: object
    address: str
    nonce: int = 0


@dataclass
class Pending:
    txid: str
    kind: str
    actor: str
    meta: dict = field(default_factory=dict)
    sent_at: float = field(default_factory=time.monotonic)


class BitHedgeApi:
    """The BitHedge API as the simulator's buyers and providers use it (``--api``): JSON POSTs with a key of
    scope ``quote``."""

    def __init__(self, url: str, key: str) -> None:
        self.url = url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {key}"}
        self._session: aiohttp.ClientSession | None = None

    async def post(self, path: str, body: dict) -> tuple[int, dict]:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        try:
            async with self._session.post(self.url + path, json=body, headers=self._headers) as r:
                return r.status, await r.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            return 0, {"rule": f"unreachable:{type(exc).__name__}"}

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


async def simulator_api_key() -> str:
    """`BITHEDGE_SIMULATOR_API_KEY`, or else a new key of scope ``quote`` that expires in a day, made in the
    database of `DATABASE_URL` (what `bithedge up` gives the simulator)."""
    from datetime import UTC, datetime, timedelta

    import asyncpg

    from api import keys
    from bithedge.settings import get_settings

    settings = get_settings()
    if settings.simulator_api_key is not None:
        return settings.simulator_api_key.get_secret_value()
    if settings.database_url is None:
        raise RuntimeError("--api needs BITHEDGE_SIMULATOR_API_KEY (a key of scope quote) or DATABASE_URL")
    conn = await asyncpg.connect(settings.database_url)
    try:
        made = await keys.create(conn, "simulator", ["quote"], expires_at=datetime.now(UTC) + timedelta(days=1))
    finally:
        await conn.close()
    return made.key


class Simulator:
    def __init__(
        self,
        client: StacksClient,
        *,
        seed: int = 0,
        deployment: Deployment = DEVNET,
        mine: bool = False,
        extra_buyers: int = 4,
        activity: float = 1.0,
        crash_at: int | None = None,
        api: str | None = None,
        api_key: str | None = None,
        log: Callable[[str], None] = print,
    ) -> None:
        self.client = client
        self.deployment = deployment
        self.rng = random.Random(seed)
        self.market = Market(seed=seed, crash_at=crash_at)
        self.feed = Feed(self.market)
        self.mine = mine
        self.extra_buyers = extra_buyers
        self.activity = activity
        self.log = log
        self.api_url, self.api_key = api, api_key
        self.api: BitHedgeApi | None = None  # set by setup() when api_url is given
        self.pending: list[Pending] = []
        self.stats: Counter = Counter()
        self.quote_seq = self.rng.randrange(1, 2**40)
        self.proposal: dict | None = None
        self.paused: dict[str, int] = {}  # paused action -> step at which the admin unpauses it
        self.step_no = 0
        self.crashes_seen = 0
        self.burn_height = 0
        self.tip = 0

    # ---- setup -----------------------------------------------------------------------------------
    async def setup(self) -> None:
        if self.api_url is not None and self.api is None:
            self.api = BitHedgeApi(self.api_url, self.api_key or await simulator_api_key())
        accounts = await self._accounts()
        by = {a["label"]: a for a in accounts}

        def actor(label: str) -> Actor:
            k = parse_private_key(by[label]["private_key"])
            return Actor(label, k, k.address(AddressVersion.TESTNET_SINGLE_SIG))

        self.admin = actor("deployer")
        self.guardian = actor(GUARDIAN_LABEL)
        # the devnet quote-signer key only without --api; with it, quotes come signed from the API alone
        self.quote_key = parse_private_key(by["wallet_3"]["private_key"]) if self.api is None else None
        self.providers = [actor(x) for x in ("wallet_4", "wallet_5", "wallet_6")]
        self.buyers = [actor(x) for x in ("wallet_7", "wallet_8")]
        self.sbtc_buyers = {a.label for a in self.buyers}
        for i in range(self.extra_buyers):
            k = parse_private_key(hashlib.sha256(f"bithedge-sim-buyer:{i}".encode()).hexdigest() + "01")
            self.buyers.append(Actor(f"buyer-{i}", k, k.address(AddressVersion.TESTNET_SINGLE_SIG)))
        self.actors = [self.admin, self.guardian, *self.providers, *self.buyers]
        await self.sync_nonces()
        await self.refresh_chain()
        # fund generated buyers (devnet faucet), give the pools initial liquidity
        for n, b in enumerate(self.buyers[2:], 1):
            acct = await self.client.account(b.address)
            if acct.balance < 50_000 * 1_000_000:
                try:
                    await self.client.faucet(b.address, 200_000 * 1_000_000)
                except RpcError as exc:
                    self.log(f"faucet unavailable for {b.label}: {exc}")
            if self.mine and n % 20 == 0:  # the faucet is one sender: at most 25 of its transfers pending
                await self.client.mine()
        await self.refresh_config()
        params = self.deployment.parameters
        if not clarity.to_plain(await self.client.call_read(params, "has-role", [
                parse_principal(self.guardian.address), A("guardian")])):
            await self.send(self.admin, "grant-role", params, "grant-role",
                            [parse_principal(self.guardian.address), A("guardian")])
        vault = self.deployment.vault
        for p in self.providers:
            for tier in PROVIDER_TIERS:
                if not await self._read_uint(vault, "get-shares", [A("STX"), A(tier), parse_principal(p.address)]):
                    await self.send(p, "deposit", vault, "deposit", [A("STX"), A(tier), U(2_000_000 * 1_000_000)])
                    await self.send(p, "deposit", vault, "deposit", [A("sBTC"), A(tier), U(20 * ONE8)])
        # an empty insurance fund gets a reserve: the admin's STX and a provider's sBTC
        fund = self.deployment.insurance_fund
        for who, token, amount in ((self.admin, "STX", 20_000 * 1_000_000), (self.providers[0], "sBTC", ONE8 // 10)):
            if not await self._read_uint(fund, "get-balance", [A(token)]):
                await self.send(who, "fund-deposit", fund, "deposit", [A(token), U(amount)])

    async def _accounts(self) -> list[dict]:
        try:
            return await self.client.devnet_accounts()
        except RpcError:
            path = REPO_ROOT / "contracts" / "settings" / "devnet-accounts.json"
            data = json.loads(path.read_text())
            return [{"label": a["label"], "address": a["address"], "private_key": a["privateKey"]} for a in data["accounts"]]

    async def sync_nonces(self) -> None:
        for a in self.actors:
            a.nonce = (await self.client.nonces(a.address))["possible_next_nonce"]

    async def refresh_chain(self) -> None:
        info = await self.client.info()
        self.burn_height = info["burn_block_height"]
        self.tip = info["stacks_tip_height"]

    async def refresh_config(self) -> None:
        """Everything the agents obey that governance can change: policy config, tiers."""
        params = self.deployment.parameters
        self.cfg = {k: int(v) for k, v in (await self._read(params, "get-policy-config")).items()}
        self.tiers = {}
        for t in BUYER_TIERS:
            v = await self._read(params, "get-tier", [A("buyer"), A(t)])
            if v:
                self.tiers[t] = {k: int(x) if isinstance(x, str) and x.isdigit() else x for k, x in v.items()}

    async def _read(self, contract: str, fn: str, args=()):
        return clarity.to_plain(await self.client.call_read(contract, fn, list(args)))

    async def _read_uint(self, contract: str, fn: str, args) -> int:
        v = await self._read(contract, fn, args)
        if isinstance(v, dict):
            v = v.get("ok", 0)
        try:
            return int(v or 0)
        except (TypeError, ValueError):
            return 0

    # ---- sending -------------------------------------------------------------------------------------
    async def send(self, actor: Actor, kind: str, contract: str, fn: str, args, meta: dict | None = None) -> str | None:
        fee = self.rng.randint(2_000, 6_000)
        tx = make_contract_call(contract=contract, function_name=fn, function_args=args, sender_key=actor.key,
                                nonce=actor.nonce, fee=fee, mainnet=False, post_condition_mode=PostConditionMode.ALLOW)
        return await self.submit(actor, kind, tx, meta)

    async def submit(self, actor: Actor, kind: str, tx, meta: dict | None = None) -> str | None:
        """Broadcasts ``actor``'s signed ``tx``, keeping its nonce and the pending list."""
        try:
            txid = await self.client.broadcast(tx)
        except BadNonce as exc:
            self.stats[f"rejected:{kind}:BadNonce"] += 1
            if exc.expected is not None:
                actor.nonce = int(exc.expected)
            return None
        except TransactionRejected as exc:
            self.stats[f"rejected:{kind}:{exc.reason}"] += 1
            return None
        actor.nonce += 1
        self.stats[f"sent:{kind}"] += 1
        self.pending.append(Pending(txid, kind, actor.label, meta or {}))
        return txid

    # ---- one step per block --------------------------------------------------------------------------
    async def step(self) -> None:
        self.market.step()
        self.feed.update(time.time())
        self.step_no += 1
        await self.refresh_chain()
        await self.check_pending()
        r = self.rng
        for p in self.providers:
            if r.random() < 0.08 * self.activity:
                await self.provide(p)
            elif r.random() < 0.05 * self.activity:
                await self.withdraw(p)
        if r.random() < 0.03 * self.activity:
            await self.fund_deposit(r.choice([*self.providers, *self.buyers[:2]]))
        for b in self.buyers:
            if r.random() < 0.25 * self.activity:
                await self.buy(b)
        await self.guard()
        await self.governance()

    async def latest_price(self, asset: str) -> int | None:
        v = await self._read(self.deployment.oracle, "get-latest", [A(asset)])
        return int(v["price"]) if v else None

    # ---- providers -------------------------------------------------------------------------------------
    async def _pool(self, token: str, tier: str) -> dict:
        return {k: int(v) for k, v in (await self._read(self.deployment.vault, "get-pool", [A(token), A(tier)])).items()}

    async def provide(self, p: Actor) -> None:
        r = self.rng
        token, tier = ("STX" if r.random() < 0.7 else "sBTC"), r.choice(PROVIDER_TIERS)
        amount = r.randint(1_000, 50_000) * 1_000_000 if token == "STX" else r.randint(1, 200) * 1_000_000
        if PauseAction.DEPOSIT in self.paused:
            self.stats["skipped:deposit:paused"] += 1
            return
        nxt = (await self._pool(token, tier))["next-expiry"]
        if 0 < nxt <= self.burn_height:  # an expiry has passed unsettled: deposits wait for its settlement
            self.stats["skipped:deposit:settlement-pending"] += 1
            return
        await self.act(p, "deposit", {"token": token, "tier": tier, "amount": str(amount)},
                       (self.deployment.vault, "deposit", [A(token), A(tier), U(amount)]))

    async def withdraw(self, p: Actor) -> None:
        """Withdrawals by the v2 rules: immediate only while the pool has no outstanding expiry,
        otherwise a request that is executed once the expiries outstanding at request time settle."""
        r, vault = self.rng, self.deployment.vault
        token, tier = ("STX" if r.random() < 0.7 else "sBTC"), r.choice(PROVIDER_TIERS)
        who = parse_principal(p.address)
        request = await self._read(vault, "get-withdrawal-request", [A(token), A(tier), who])
        nxt = (await self._pool(token, tier))["next-expiry"]
        pool = {"token": token, "tier": tier}
        if request:
            if nxt == 0 or nxt > int(request["after"]):
                await self.act(p, "execute-withdrawal", pool, (vault, "execute-withdrawal", [A(token), A(tier)]))
            elif r.random() < 0.1:
                await self.act(p, "cancel-withdrawal", pool, (vault, "cancel-withdrawal", [A(token), A(tier)]))
            return
        shares = await self._read_uint(vault, "get-shares", [A(token), A(tier), who])
        if shares <= 20:
            return
        kind = "withdraw" if nxt == 0 else "request-withdrawal"
        await self.act(p, kind, {**pool, "shares": str(shares // 20)}, (vault, kind, [A(token), A(tier), U(shares // 20)]))

    async def fund_deposit(self, who: Actor) -> None:
        """Anyone may top up the insurance fund (never pausable)."""
        token = "STX" if who.label not in self.sbtc_buyers or self.rng.random() < 0.6 else "sBTC"
        amount = self.rng.randint(100, 5_000) * 1_000_000 if token == "STX" else self.rng.randint(1, 10) * 1_000_000
        await self.act(who, "fund-deposit", {"token": token, "amount": str(amount)},
                       (self.deployment.insurance_fund, "deposit", [A(token), U(amount)]))

    # ---- guardian and admin ----------------------------------------------------------------------------
    async def guard(self) -> None:
        """The guardian pauses new policies when a crash starts, and sometimes any action; the admin
        unpauses a few steps later (a guardian can only pause)."""
        r, params = self.rng, self.deployment.parameters
        for action, until in list(self.paused.items()):
            if self.step_no >= until:
                if await self.send(self.admin, "unpause", params, "set-paused", [A(action), clarity.Bool(False)]):
                    del self.paused[action]
        crash_started, self.crashes_seen = self.market.crashes > self.crashes_seen, self.market.crashes
        if self.paused:
            return
        action = PauseAction.CREATE_POLICY if crash_started else None
        if action is None and r.random() < 0.02 * self.activity:
            action = r.choice(list(PauseAction))
        if action and await self.send(self.guardian, "pause", params, "set-paused", [A(action), clarity.Bool(True)]):
            self.paused[action] = self.step_no + r.randint(3, 6)

    # ---- buyers ----------------------------------------------------------------------------------------
    async def buy(self, buyer: Actor) -> None:
        r = self.rng
        if PauseAction.CREATE_POLICY in self.paused:
            self.stats["skipped:create-policy:paused"] += 1
            return
        spot = await self.latest_price("BTC")
        if not spot:
            return
        token = "sBTC" if buyer.label in self.sbtc_buyers and r.random() < 0.3 else "STX"
        buyer_tier = r.choice([t for t in BUYER_TIERS if t in self.tiers] or ["standard"])
        pool_tier = r.choice(PROVIDER_TIERS)
        strike = int(spot * r.uniform(0.80, 1.05))
        amount = r.choice([1_000_000, 2_000_000, 5_000_000, 10_000_000, 20_000_000])
        duration = self.cfg["min-duration-blocks"] + 2 + r.randint(0, 20)
        expiry = self.burn_height + duration
        if self.api is not None:
            await self.buy_from_api(buyer, {
                "buyer": buyer.address, "token": token, "buyer_tier": buyer_tier, "pool_tier": pool_tier,
                "strike": str(strike), "amount": str(amount), "expiry": expiry})
            return
        coll_price = spot if token == "sBTC" else await self.latest_price("STX")
        tier = self.tiers.get(buyer_tier)
        if not coll_price or not tier:
            return
        quote = self.local_quote(buyer, token, buyer_tier, pool_tier, strike, amount, expiry, spot, coll_price, tier)
        if quote is None:
            return
        signature = sign_quote(quote, self.quote_key, self.deployment.registry)
        self.stats["quotes"] += 1
        await self.send(buyer, "create-policy", self.deployment.registry, "create-policy", [
            U(quote.quote_id), A(token), A(buyer_tier), A(pool_tier), U(strike), U(amount), U(expiry),
            U(quote.premium), U(quote.issued_at), U(quote.spot), U(quote.valid_until), clarity.Buffer(signature)],
            {"expiry": expiry})

    def local_quote(self, buyer: Actor, token: str, buyer_tier: str, pool_tier: str, strike: int, amount: int,
                    expiry: int, spot: int, coll_price: int, tier: dict) -> Quote | None:
        """Without ``--api``: a Black-Scholes premium on the market's own volatility, clamped to the contract's
        bounds, for the devnet quote-signer key to sign here (the fast test suites run this way)."""
        r, cfg = self.rng, self.cfg
        terms = policy_terms(token, strike, amount, spot, coll_price, tier["collateral-ratio-bp"],
                             tier["premium-adjustment-bp"], cfg["premium-min-bp"], cfg["premium-max-bp"],
                             cfg["stress-sbtc-bp" if token == "sBTC" else "stress-stx-bp"])
        years = (expiry - self.burn_height) * 600 / (365 * 24 * 3600)
        fair_usd = bs_put(spot / ONE8, strike / ONE8, self.market.annual_vol("BTC"), years).value
        scale = token_scale(token)
        fair_units = int(fair_usd * amount / ONE8 * scale / (coll_price / ONE8) * r.uniform(1.05, 1.3))
        lo, hi = terms.min_premium, terms.max_premium
        if terms.max_payout == 0 or lo > hi or hi <= 0:
            self.stats["quote:unpriceable"] += 1
            return None
        premium = min(max(fair_units, lo * 103 // 100, 1), hi)  # margin: prices move within a block
        self.quote_seq += 1
        return Quote(self.quote_seq, buyer.address, token, buyer_tier, pool_tier, strike, amount, expiry, premium,
                     issued_at=self.burn_height, spot=spot,
                     valid_until=self.burn_height + min(3, cfg["quote-max-life-blocks"]))

    async def buy_from_api(self, buyer: Actor, request: dict) -> None:
        """With ``--api``: a quote from `POST /v1/quotes`, then its wallet-ready create-policy transaction, as any
        client does. When the API cannot quote now (503: its analytics are not built or trail the chain, as on
        a devnet mining faster than the transforms build; 0: unreachable) the buy is skipped and counted; the
        buyer tries again at a later step. Nothing here signs a quote: only the API holds the quote-signer key."""
        status, body = await self.api.post("/v1/quotes", request)
        if status in (0, 503):
            self.stats[f"skipped:buy:api-unavailable:{body.get('rule') or status}"] += 1
            return
        if status != 201:
            self.stats[f"refused:quote:{body.get('rule') or status}"] += 1
            return
        self.stats["quotes"] += 1
        await self.act(buyer, "create-policy", {"quote_id": body["quote_id"]}, None, {"expiry": request["expiry"]})

    async def act(self, actor: Actor, kind: str, body: dict, call: tuple | None, meta: dict | None = None) -> str | None:
        """One user action: with ``--api`` the API's unsigned transaction (``POST /v1/transactions/{kind}``),
        signed here with the actor's key; otherwise ``call`` (contract, function, args) built and signed here."""
        if self.api is None:
            assert call is not None
            return await self.send(actor, kind, *call, meta)
        body = {**body, "nonce": actor.nonce} if "quote_id" in body else {**body, "sender": actor.address,
                                                                          "nonce": actor.nonce}
        status, tx = await self.api.post(f"/v1/transactions/{kind}", body)
        if status != 200:
            self.stats[f"refused:{kind}:{tx.get('code') or tx.get('rule') or status}"] += 1
            return None
        signed = sign(decode_transaction(bytes.fromhex(tx["transaction"][2:])), actor.key)
        return await self.submit(actor, kind, signed, meta)

    async def governance(self) -> None:
        r = self.rng
        gov = self.deployment.governance
        if self.proposal is None:
            if r.random() < 0.03 * self.activity:
                p = r.choice(self.providers)
                value = r.choice([10, 15, 20, 25])
                if await self.act(p, "propose-param", {"key": "premium.min-bp", "value": value},
                                  (gov, "propose-param", [A("premium.min-bp"), U(value)]), {"value": value}):
                    self.proposal = {"id": None, "voted": {p.label}}
            return
        pid = self.proposal.get("id")
        if pid is None:
            return
        state = clarity.to_plain(await self.client.call_read(gov, "get-proposal-state", [U(pid)]))
        if state == "active":
            for p in self.providers:
                if p.label not in self.proposal["voted"] and r.random() < 0.5:
                    self.proposal["voted"].add(p.label)
                    support = r.random() < 0.8
                    await self.act(p, "vote", {"proposal_id": pid, "support": support},
                                   (gov, "vote", [U(pid), clarity.Bool(support)]))
        elif state == "executable" and not self.proposal.get("executing"):
            self.proposal["executing"] = bool(await self.act(
                r.choice(self.providers), "execute-proposal", {"proposal_id": pid}, (gov, "execute", [U(pid)])))
        elif state not in ("pending", "queued", "executable"):  # closed: executed, defeated, expired, ...
            self.stats[f"proposal:{state}"] += 1
            self.proposal = None
            await self.refresh_config()

    async def check_pending(self) -> None:
        keep = []
        for p in self.pending:
            tx = await self.client.transaction(p.txid)
            if tx is None:  # dropped (e.g. orphaned and no longer valid): resync nonces
                self.stats[f"dropped:{p.kind}"] += 1
                await self.sync_nonces()
                continue
            status = tx.get("tx_status")
            if status == "pending":
                if time.monotonic() - p.sent_at < 600:
                    keep.append(p)
                continue
            self.stats[f"{status}:{p.kind}"] += 1
            result = clarity.decode(bytes.fromhex(tx["tx_result"]["hex"][2:]))
            if status == "abort_by_response":
                self.stats[f"err:{p.kind}:{clarity.to_repr(result)}"] += 1
            if p.kind == "create-policy" and status == "success":
                self.stats["policies_created"] += 1
            elif p.kind == "propose-param" and self.proposal is not None:
                if status == "success":
                    self.proposal["id"] = int(clarity.to_plain(result)["ok"])
                else:
                    self.proposal = None
            elif p.kind == "execute-proposal" and self.proposal is not None and status != "success":
                self.proposal["executing"] = False
        self.pending = keep

    # ---- driving ---------------------------------------------------------------------------------------
    async def wait_next_block(self, timeout: float = 120.0) -> None:
        if self.mine:
            await self.client.mine()
            return
        start = self.tip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            info = await self.client.info()
            if info["stacks_tip_height"] > start:
                return
            await asyncio.sleep(0.25)
        raise TimeoutError(f"no new block after {timeout:.0f} s (is the devnet mining?)")

    async def run(self, blocks: int | None = None) -> dict:
        await self.setup()
        done = 0
        while blocks is None or done < blocks:
            await self.wait_next_block()
            await self.step()
            done += 1
            if done % 25 == 0:
                self.log(json.dumps({"event": "progress", "blocks": done, **self.summary()}))
        # let the last transactions land
        if self.mine:
            await self.client.mine()
        await self.refresh_chain()
        await self.check_pending()
        if self.api is not None:
            await self.api.close()
        return self.summary()

    def summary(self) -> dict:
        return {
            "tip": self.tip, "burn_height": self.burn_height, "btc": round(self.market.btc, 2),
            "stx": round(self.market.stx, 4), "regime": self.market.regime.name,
            **dict(sorted(self.stats.items())),
        }
