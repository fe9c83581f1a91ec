"""Wallet-ready transactions (`POST /v1/transactions/{action}`, api/README.md "Transactions").

Every user action of contracts v2 (the ones a user signs; settlement, voids and oracle prices are system or
permissionless actions) as an **unsigned** contract call for the user's address: the nonce the node expects
next, a fee from the node's estimate, post-condition mode **deny** with post-conditions that pin exactly what
the user pays (the premium of a stored quote, a deposit) and, for withdrawals, the least the vault must pay
out. The same call comes back in the shape `@stacks/connect`'s `openContractCall` takes.

Pre-checks read the contracts' own state at the node's tip (read-only calls), so a call that the contract
would refuse for a reason known now is refused here with the contract's code instead of costing a fee.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field

from api.problems import Problem
from api.quotes import Refused, StandardAddress, TierName, positive_uint
from api.routing import BodyModel, Ctx, RouteTable
from api.types import MicroStx, Sats, StacksPrincipal, TokenAmount
from bithedge.protocol.deployment import SBTC_TOKEN, Deployment
from bithedge.protocol.errors import GovernanceError, RegistryError, TreasuryError, VaultError
from bithedge.protocol.formulas import value_of_shares
from bithedge.protocol.units import Token
from stacks import clarity
from stacks.clarity import ContractPrincipal, StandardPrincipal
from stacks.hashing import hash160
from stacks.principal import parse_principal
from stacks.rpc import RpcError, StacksClient
from stacks.transaction import (
    CHAIN_ID_MAINNET,
    CHAIN_ID_TESTNET,
    AnchorMode,
    AssetInfo,
    Authorization,
    ContractCallPayload,
    FungibleConditionCode,
    FungiblePostCondition,
    HashMode,
    KeyEncoding,
    PostConditionMode,
    SingleSigSpendingCondition,
    STXPostCondition,
    Transaction,
    TransactionVersion,
)

routes = RouteTable("transactions", "Wallet-ready unsigned transactions for every user action")
A, U = clarity.StringAscii, clarity.UInt
def _u64(v: int) -> int:
    if v >= 2**64:
        raise ValueError("must be below 2^64 (a post-condition amount is a u64)")
    return v


#: an amount a post-condition pins: token base units, 0 < amount < 2^64
Positive = Annotated[TokenAmount, AfterValidator(positive_uint), AfterValidator(_u64)]
Bound = Annotated[TokenAmount, AfterValidator(_u64)]
#: the sBTC SIP-010 token's fungible asset (`define-fungible-token sbtc-token` in the boot contract)
SBTC_ASSET = AssetInfo(parse_principal(SBTC_TOKEN), "sbtc-token")
#: the network's minimum relay fee rate (µSTX per byte): the fee when the node has no estimate
MIN_FEE_RATE, MIN_FEE = 1, 180
_CODES = {FungibleConditionCode.EQ: "eq", FungibleConditionCode.GE: "gte"}


class Action(StrEnum):
    CREATE_POLICY = "create-policy"
    DEPOSIT = "deposit"
    WITHDRAW = "withdraw"
    REQUEST_WITHDRAWAL = "request-withdrawal"
    CANCEL_WITHDRAWAL = "cancel-withdrawal"
    EXECUTE_WITHDRAWAL = "execute-withdrawal"
    FUND_DEPOSIT = "fund-deposit"
    VOTE = "vote"
    PROPOSE_PARAM = "propose-param"
    PROPOSE_TIER_FIELD = "propose-tier-field"
    PROPOSE_PAUSE = "propose-pause"
    PROPOSE_DISBURSE = "propose-disburse"
    EXECUTE_PROPOSAL = "execute-proposal"
    CANCEL_PROPOSAL = "cancel-proposal"


PROPOSE = (Action.PROPOSE_PARAM, Action.PROPOSE_TIER_FIELD, Action.PROPOSE_PAUSE, Action.PROPOSE_DISBURSE)


class TxOptions(BodyModel):
    """Options every action takes: an explicit nonce or fee overrides the node's."""

    nonce: Annotated[int, Field(ge=0, lt=2**64)] | None = Field(None, description="Nonce; default: the node's next.")
    fee: Annotated[int, Field(ge=1, lt=2**64)] | None = Field(None, description="Fee in micro-STX; default: the node's estimate.")
    public_key: str | None = Field(None, pattern=r"^(0x)?([0-9a-fA-F]{66}|[0-9a-fA-F]{130})$",
                                   description="The sender's public key (hex): sets the key encoding (default "
                                               "compressed) and must hash to the sender.")


class SenderBody(TxOptions):
    sender: StandardAddress = Field(description="The standard principal that signs and sends the call.")


class CreatePolicyBody(TxOptions):
    quote_id: Annotated[int, Field(gt=0, lt=2**63)] = Field(description="A quote from POST /v1/quotes; the sender is its buyer.")


class PoolBody(SenderBody):
    token: Token
    tier: TierName = Field(description="Provider tier (the pool is token × tier).")


class DepositBody(PoolBody):
    amount: Positive = Field(description="Deposit, token base units.")


class SharesBody(PoolBody):
    shares: Annotated[int, Field(gt=0, lt=2**127, description="Vault shares.")]


class WithdrawBody(SharesBody):
    min_amount: Bound | None = Field(None, description="Least the vault must pay; default: the shares' value now.")


class ExecuteWithdrawalBody(PoolBody):
    min_amount: Bound | None = Field(None, description="Least the vault must pay; default: the request's value now.")


class FundDepositBody(SenderBody):
    token: Token
    amount: Positive = Field(description="Deposit into the insurance fund, token base units.")


class ProposalBody(SenderBody):
    proposal_id: Annotated[int, Field(gt=0, lt=2**127)]


class VoteBody(ProposalBody):
    support: bool


Uint128 = Annotated[int, Field(ge=0, lt=2**128)]


class ProposeParamBody(SenderBody):
    key: str = Field(pattern=r"^[a-z0-9.-]{1,40}$", description="Parameter key (contracts/README.md, Parameters).")
    value: Uint128 = Field(description="New value, in the parameter's unit.")


class ProposeTierFieldBody(SenderBody):
    tier_kind: Literal["buyer", "provider"]
    tier: TierName
    field: Literal["collateral-ratio-bp", "premium-adjustment-bp", "max-utilization-bp", "max-exposure-policy-bp",
                   "max-exposure-expiry-bp", "active"]
    value: Uint128 = Field(description="New value (bp; `active`: 1 or 0).")


class ProposePauseBody(SenderBody):
    pause_action: Literal["create-policy", "deposit", "proposals"] = Field(description="The pausable action.")
    paused: bool = Field(description="true: pause it; false: unpause it.")


class ProposeDisburseBody(SenderBody):
    token: Token
    amount: Positive = Field(description="Treasury payment, token base units.")
    recipient: StacksPrincipal = Field(description="Who the treasury pays when the proposal is executed.")


class StxPostConditionJson(BaseModel):
    """An STX post-condition as stacks.js 7's `StxPostCondition` object."""

    type: Literal["stx-postcondition"]
    address: str = Field(description="Principal whose transfer it bounds (the sender, or the vault contract).")
    condition: Literal["eq", "gte"]
    amount: MicroStx


class FtPostConditionJson(BaseModel):
    """A fungible-token (sBTC) post-condition as stacks.js 7's `FungiblePostCondition` object."""

    type: Literal["ft-postcondition"]
    address: str = Field(description="Principal whose transfer it bounds (the sender, or the vault contract).")
    condition: Literal["eq", "gte"]
    asset: str = Field(description="`contract::token`.")
    amount: Sats


PostConditionJson = Annotated[StxPostConditionJson | FtPostConditionJson, Field(discriminator="type")]


class ContractCall(BaseModel):
    """The options `openContractCall` of `@stacks/connect` takes (arguments as hex Clarity values)."""

    contractAddress: str
    contractName: str
    functionName: str
    functionArgs: list[str] = Field(description="Each argument: its consensus serialization, 0x hex.")
    postConditionMode: Literal["deny"]
    postConditions: list[PostConditionJson]
    network: Literal["mainnet", "testnet"]
    fee: MicroStx
    nonce: str = Field(description="Decimal string.")


class TransactionResponse(BaseModel):
    """An unsigned transaction for the sender to sign (its signature field is empty)."""

    action: str
    sender: str
    nonce: int
    fee: MicroStx
    fee_source: Literal["request", "node-estimate", "minimum"]
    transaction: str = Field(description="The unsigned SIP-005 transaction, 0x hex.")
    post_condition_mode: Literal["deny"]
    post_conditions: list[PostConditionJson] = Field(description="What the call may move; everything else aborts it.")
    contract_call: ContractCall


BODIES: dict[Action, type[TxOptions]] = {
    Action.CREATE_POLICY: CreatePolicyBody, Action.DEPOSIT: DepositBody, Action.WITHDRAW: WithdrawBody,
    Action.REQUEST_WITHDRAWAL: SharesBody, Action.CANCEL_WITHDRAWAL: PoolBody,
    Action.EXECUTE_WITHDRAWAL: ExecuteWithdrawalBody, Action.FUND_DEPOSIT: FundDepositBody, Action.VOTE: VoteBody,
    Action.PROPOSE_PARAM: ProposeParamBody, Action.PROPOSE_TIER_FIELD: ProposeTierFieldBody,
    Action.PROPOSE_PAUSE: ProposePauseBody, Action.PROPOSE_DISBURSE: ProposeDisburseBody,
    Action.EXECUTE_PROPOSAL: ProposalBody, Action.CANCEL_PROPOSAL: ProposalBody,
}


@dataclass(frozen=True)
class Call:
    sender: str
    contract: str
    function: str
    args: list
    #: (principal, token, code, amount): each becomes one post-condition
    moves: list[tuple[str, str, FungibleConditionCode, int]]


@dataclass(frozen=True)
class Context:
    client: StacksClient
    deployment: Deployment
    mainnet: bool


def _pool_args(b: PoolBody) -> list:
    return [A(b.token.value), A(b.tier)]


async def _read(ctx: Context, contract: str, fn: str, args: list) -> Any:
    return clarity.to_plain(await ctx.client.call_read(contract, fn, args))


async def _pool(ctx: Context, b: PoolBody) -> dict:
    pool = await _read(ctx, ctx.deployment.vault, "get-pool", _pool_args(b))
    if not pool:
        raise Refused("pool", f"u{int(VaultError.NO_POOL)}", f"there is no pool ({b.token.value}, {b.tier})")
    return {k: int(v) for k, v in pool.items()}


async def _request(ctx: Context, b: PoolBody) -> dict:
    r = await _read(ctx, ctx.deployment.vault, "get-withdrawal-request", [*_pool_args(b), parse_principal(b.sender)])
    if not r:
        raise Refused("no-request", f"u{int(VaultError.NO_REQUEST)}",
                      f"{b.sender} has no withdrawal request in ({b.token.value}, {b.tier})")
    return {k: int(v) for k, v in r.items()}


async def plan(action: Action, body: TxOptions, ctx: Context, conn: Any) -> Call:
    """The contract call for ``action`` and what it moves; ``conn`` reads stored quotes (api.quotes)."""
    d = ctx.deployment
    if action == Action.CREATE_POLICY:
        assert isinstance(body, CreatePolicyBody)
        q = await conn.fetchrow("SELECT * FROM api.quotes WHERE quote_id = $1 AND registry = $2", body.quote_id,
                                d.registry)
        if q is None:
            raise Refused("unknown-quote", None, f"no quote {body.quote_id} was issued here", 404)
        burn = (await ctx.client.info())["burn_block_height"]
        if burn > q["valid_until"]:
            raise Refused("quote-expired", f"u{int(RegistryError.QUOTE_EXPIRED)}",
                          f"quote {body.quote_id} was valid until burn height {q['valid_until']} (now {burn})", 410)
        used = await _read(ctx, d.registry, "get-quote-policy", [U(body.quote_id)])
        if used is not None:
            raise Refused("quote-used", f"u{int(RegistryError.QUOTE_USED)}",
                          f"quote {body.quote_id} was used by policy {used}", 409)
        args = [U(q["quote_id"]), A(q["token"]), A(q["buyer_tier"]), A(q["pool_tier"]), U(int(q["strike"])),
                U(int(q["amount"])), U(q["expiry"]), U(int(q["premium"])), U(q["issued_at"]), U(int(q["spot"])),
                U(q["valid_until"]), clarity.Buffer(bytes(q["signature"]))]
        return Call(q["buyer"], d.registry, "create-policy", args,
                    [(q["buyer"], q["token"], FungibleConditionCode.EQ, int(q["premium"]))])
    assert isinstance(body, SenderBody)
    if action == Action.DEPOSIT:
        assert isinstance(body, DepositBody)
        await _pool(ctx, body)
        return Call(body.sender, d.vault, "deposit", [*_pool_args(body), U(body.amount)],
                    [(body.sender, body.token.value, FungibleConditionCode.EQ, body.amount)])
    if action == Action.FUND_DEPOSIT:
        assert isinstance(body, FundDepositBody)
        return Call(body.sender, d.insurance_fund, "deposit", [A(body.token.value), U(body.amount)],
                    [(body.sender, body.token.value, FungibleConditionCode.EQ, body.amount)])
    if action in PROPOSE or isinstance(body, ProposalBody):
        return await _governance(action, body, ctx)
    assert isinstance(body, PoolBody)
    if action == Action.REQUEST_WITHDRAWAL:
        assert isinstance(body, SharesBody)
        await _pool(ctx, body)
        return Call(body.sender, d.vault, "request-withdrawal", [*_pool_args(body), U(body.shares)], [])
    if action == Action.CANCEL_WITHDRAWAL:
        await _request(ctx, body)
        return Call(body.sender, d.vault, "cancel-withdrawal", _pool_args(body), [])
    pool = await _pool(ctx, body)
    if action == Action.WITHDRAW:
        assert isinstance(body, WithdrawBody)
        shares = body.shares
        who = parse_principal(body.sender)
        held = int(await _read(ctx, d.vault, "get-shares", [*_pool_args(body), who]) or 0)
        requested = await _read(ctx, d.vault, "get-withdrawal-request", [*_pool_args(body), who])
        free = held - (int(requested["shares"]) if requested else 0)
        if shares > free:
            raise Refused("shares", f"u{int(VaultError.INSUFFICIENT_SHARES)}",
                          f"{body.sender} holds {free} shares of ({body.token.value}, {body.tier}) not requested "
                          "for withdrawal")
        if pool["next-expiry"] != 0:
            raise Refused("outstanding-expiries", f"u{int(VaultError.OUTSTANDING_EXPIRIES)}",
                          "the pool has outstanding expiries: use request-withdrawal")
        fn, args = "withdraw", [*_pool_args(body), U(shares)]
    else:
        shares = (await _request(ctx, body))["shares"]
        fn, args = "execute-withdrawal", _pool_args(body)
    assert isinstance(body, WithdrawBody | ExecuteWithdrawalBody)
    least = body.min_amount if body.min_amount is not None else value_of_shares(shares, pool["assets"], pool["shares"])
    moves = [(d.vault, body.token.value, FungibleConditionCode.GE, least)] if least > 0 else []
    return Call(body.sender, d.vault, fn, args, moves)


# ---- governance ------------------------------------------------------------------------------------------------
def _gov(code: GovernanceError | TreasuryError) -> str:
    return f"u{int(code)}"


#: a proposal's state (`get-proposal-state`) -> why `execute` would fail in it
_NOT_EXECUTABLE = {
    "pending": (GovernanceError.VOTING_OPEN, "voting has not closed yet"),
    "active": (GovernanceError.VOTING_OPEN, "voting has not closed yet"),
    "defeated": (GovernanceError.NOT_PASSED, "it did not pass"),
    "queued": (GovernanceError.TIMELOCK, "it is in its timelock"),
    "superseded": (GovernanceError.SUPERSEDED, "a newer proposal for the same target was executed"),
    "expired": (GovernanceError.EXPIRED, "its execution grace is over"),
    "executed": (GovernanceError.NOT_ACTIVE, "it was executed"),
    "cancelled": (GovernanceError.NOT_ACTIVE, "it was cancelled"),
}
#: a proposal's state -> why `vote` would fail in it
_NOT_VOTABLE = {
    "pending": (GovernanceError.VOTING_NOT_OPEN, "voting opens after its snapshot block"),
    "executed": (GovernanceError.NOT_ACTIVE, "it was executed"),
    "cancelled": (GovernanceError.NOT_ACTIVE, "it was cancelled"),
}


async def _proposal(ctx: Context, proposal_id: int) -> tuple[dict, str]:
    gov = ctx.deployment.governance
    p = await _read(ctx, gov, "get-proposal", [U(proposal_id)])
    if not p:
        raise Refused("unknown-proposal", _gov(GovernanceError.UNKNOWN_PROPOSAL), f"no proposal {proposal_id}", 404)
    return p, await _read(ctx, gov, "get-proposal-state", [U(proposal_id)])


async def _checked(ctx: Context, contract: str, fn: str, args: list, rule: str, detail: str) -> None:
    """A read-only check that answers ``(ok true)`` or the contract's ``(err code)``."""
    out = await _read(ctx, contract, fn, args)
    if isinstance(out, dict) and "err" in out:
        raise Refused(rule, f"u{out['err']}", detail)


async def _may_propose(ctx: Context, sender: str) -> None:
    """`create`'s own checks: proposals not paused (u514), the proposer's power at the block before ≥ the
    minimum (u509). The call is mined after the tip, so the tip's power is the one it will meet at the earliest."""
    d = ctx.deployment
    if await _read(ctx, d.parameters, "is-paused", [A("proposals")]):
        raise Refused("proposals-paused", _gov(GovernanceError.PROPOSALS_PAUSED), "new proposals are paused")
    tip = int((await ctx.client.info())["stacks_tip_height"])
    power: Any = None
    for height in (tip, tip - 1):  # a read-only call may not see the tip's own block info yet (u510)
        power = await _read(ctx, d.governance, "power-at", [parse_principal(sender), U(height)])
        if isinstance(power, dict) and "ok" in power:
            break
    least = int((await _read(ctx, d.parameters, "get-gov-config", []))["proposal-min-power"])
    have = int(power["ok"]) if isinstance(power, dict) and "ok" in power else 0
    if have < least:
        raise Refused("proposal-min-power", _gov(GovernanceError.BELOW_PROPOSAL_THRESHOLD),
                      f"{sender} has {have} µSTX of voting power; proposing needs {least} (gov.proposal-min-power)")


async def _governance(action: Action, body: SenderBody, ctx: Context) -> Call:
    """Governance calls (contracts/README.md, Governance): proposals, vote, execute, cancel. None moves the
    sender's assets; executing a disbursement moves the treasury's, pinned exactly."""
    d, gov = ctx.deployment, ctx.deployment.governance
    if action in PROPOSE:
        if isinstance(body, ProposeParamBody):
            await _checked(ctx, d.parameters, "check-param", [A(body.key), U(body.value)], "param",
                           f"{body.key} = {body.value} is not a valid value (unknown key, bounds or pair rule)")
            fn, args = "propose-param", [A(body.key), U(body.value)]
        elif isinstance(body, ProposeTierFieldBody):
            await _checked(ctx, d.parameters, "check-tier-field",
                           [A(body.tier_kind), A(body.tier), A(body.field), U(body.value)], "tier-field",
                           f"{body.tier_kind} tier {body.tier}: {body.field} = {body.value} is not valid")
            fn, args = "propose-tier-field", [A(body.tier_kind), A(body.tier), A(body.field), U(body.value)]
        elif isinstance(body, ProposePauseBody):
            fn, args = "propose-pause", [A(body.pause_action), clarity.Bool(body.paused)]
        else:
            assert isinstance(body, ProposeDisburseBody)
            fn, args = "propose-disburse", [A(body.token.value), U(body.amount), parse_principal(body.recipient)]
        await _may_propose(ctx, body.sender)
        return Call(body.sender, gov, fn, args, [])
    assert isinstance(body, ProposalBody)
    p, state = await _proposal(ctx, body.proposal_id)
    pid = U(body.proposal_id)
    if action == Action.VOTE:
        assert isinstance(body, VoteBody)
        if state != "active":
            code, why = _NOT_VOTABLE.get(state, (GovernanceError.VOTING_CLOSED, "its voting period is over"))
            raise Refused("proposal-state", _gov(code), f"proposal {body.proposal_id} is {state}: {why}")
        if await _read(ctx, gov, "get-vote", [pid, parse_principal(body.sender)]) is not None:
            raise Refused("already-voted", _gov(GovernanceError.ALREADY_VOTED),
                          f"{body.sender} already voted on proposal {body.proposal_id}", 409)
        return Call(body.sender, gov, "vote", [pid, clarity.Bool(body.support)], [])
    if action == Action.CANCEL_PROPOSAL:
        if p["status"] != "active":
            raise Refused("proposal-state", _gov(GovernanceError.NOT_ACTIVE),
                          f"proposal {body.proposal_id} is {p['status']}")
        if p["proposer"] != body.sender and not await _read(ctx, d.parameters, "has-role",
                                                            [parse_principal(body.sender), A("admin")]):
            raise Refused("not-proposer", _gov(GovernanceError.NOT_AUTHORIZED),
                          f"only the proposer ({p['proposer']}) or an admin may cancel proposal {body.proposal_id}", 403)
        return Call(body.sender, gov, "cancel", [pid], [])
    assert action == Action.EXECUTE_PROPOSAL
    if state != "executable":
        code, why = _NOT_EXECUTABLE.get(state, (GovernanceError.NOT_ACTIVE, state))
        raise Refused("proposal-state", _gov(code), f"proposal {body.proposal_id} is {state}: {why}")
    moves: list[tuple[str, str, FungibleConditionCode, int]] = []
    if p["kind"] == "disburse":
        token, amount = p["key"], int(p["value"])
        balance = int(await _read(ctx, d.treasury, "get-balance", [A(token)]) or 0)
        if amount > balance:
            raise Refused("treasury-balance", _gov(TreasuryError.INSUFFICIENT_BALANCE),
                          f"the treasury holds {balance} {token} base units; the proposal pays {amount}")
        moves = [(d.treasury, token, FungibleConditionCode.EQ, amount)]
    return Call(body.sender, gov, "execute", [pid], moves)


def _post_condition(principal: str, token: str, code: FungibleConditionCode, amount: int):
    who = parse_principal(principal)
    if token == Token.STX:
        return STXPostCondition(who, code, amount)
    return FungiblePostCondition(who, SBTC_ASSET, code, amount)


def _post_condition_json(principal: str, token: str, code: FungibleConditionCode,
                         amount: int) -> StxPostConditionJson | FtPostConditionJson:
    if token == Token.STX:
        return StxPostConditionJson(type="stx-postcondition", address=principal, condition=_CODES[code], amount=amount)
    return FtPostConditionJson(type="ft-postcondition", address=principal, condition=_CODES[code],
                               asset=f"{SBTC_TOKEN}::{SBTC_ASSET.asset_name}", amount=amount)


def _signer_hash(sender: str, public_key: str | None) -> tuple[bytes, KeyEncoding]:
    target = parse_principal(sender)
    assert isinstance(target, StandardPrincipal)
    if public_key is None:
        return target.hash160, KeyEncoding.COMPRESSED
    raw = bytes.fromhex(public_key.removeprefix("0x"))
    if hash160(raw) != target.hash160:
        raise Refused("public-key", None, "public_key is not the sender's key")
    return target.hash160, KeyEncoding.COMPRESSED if len(raw) == 33 else KeyEncoding.UNCOMPRESSED


def unsigned(call: Call, *, nonce: int, fee: int, mainnet: bool, public_key: str | None = None) -> Transaction:
    """The single-sig (P2PKH) contract call from ``call.sender`` with an empty signature, deny mode."""
    signer, encoding = _signer_hash(call.sender, public_key)
    target = parse_principal(call.contract)
    assert isinstance(target, ContractPrincipal)
    return Transaction(
        version=TransactionVersion.MAINNET if mainnet else TransactionVersion.TESTNET,
        chain_id=CHAIN_ID_MAINNET if mainnet else CHAIN_ID_TESTNET,
        auth=Authorization(SingleSigSpendingCondition(HashMode.P2PKH, signer, nonce, fee, encoding)),
        anchor_mode=AnchorMode.ANY,
        post_condition_mode=PostConditionMode.DENY,
        post_conditions=tuple(_post_condition(*m) for m in call.moves),
        payload=ContractCallPayload(target, call.function, tuple(clarity.decode(clarity.encode(a)) for a in call.args)),
    )


async def next_nonce(client: StacksClient, address: str) -> int:
    """The nonce the node expects next (mempool included when the node's API says so)."""
    try:
        return int((await client.nonces(address))["possible_next_nonce"])
    except (RpcError, KeyError):
        return (await client.account(address)).nonce


async def estimate_fee(client: StacksClient, tx: Transaction) -> tuple[int, str]:
    """(fee, source): the node's middle estimate for this payload and length, or the minimum relay fee when the
    node has none."""
    out = bytearray()
    tx.payload.write(out)
    size = len(tx.serialize())
    try:
        estimations = (await client.fee_estimate(bytes(out), estimated_len=size))["estimations"]
        return max(int(estimations[len(estimations) // 2]["fee"]), MIN_FEE), "node-estimate"
    except (RpcError, KeyError, IndexError, TypeError, ValueError):
        return max(size * MIN_FEE_RATE, MIN_FEE), "minimum"


async def build(action: Action, body: TxOptions, ctx: Context, conn: Any) -> TransactionResponse:
    """The response of `POST /v1/transactions/{action}`."""
    call = await plan(action, body, ctx, conn)
    nonce = body.nonce if body.nonce is not None else await next_nonce(ctx.client, call.sender)
    tx = unsigned(call, nonce=nonce, fee=body.fee or 0, mainnet=ctx.mainnet, public_key=body.public_key)
    fee, source = (body.fee, "request") if body.fee else await estimate_fee(ctx.client, tx)
    tx = unsigned(call, nonce=nonce, fee=fee, mainnet=ctx.mainnet, public_key=body.public_key)
    address, name = call.contract.split(".")
    pcs = [_post_condition_json(*m) for m in call.moves]
    return TransactionResponse(
        action=action.value, sender=call.sender, nonce=nonce, fee=fee, fee_source=source,
        transaction="0x" + tx.serialize().hex(), post_condition_mode="deny", post_conditions=pcs,
        contract_call=ContractCall(
            contractAddress=address, contractName=name, functionName=call.function,
            functionArgs=["0x" + clarity.encode(a).hex() for a in call.args], postConditionMode="deny",
            postConditions=pcs, network="mainnet" if ctx.mainnet else "testnet", fee=fee, nonce=str(nonce)),
    )


# ---- HTTP ------------------------------------------------------------------------------------------------------
CONTEXT = "transactions.context"


@routes.lifespan
async def _node(app):  # noqa: ANN001, ANN202 - an aiohttp cleanup context
    """One node client for the app (nonces, fee estimates, read-only pre-checks)."""
    from api.quotes import signer_deployment
    from api.state import STATE

    state = app[STATE]
    deployment, mainnet = signer_deployment(state.settings)
    async with StacksClient(state.settings.resolved_node_url, retries=2) as client:
        state.extras[CONTEXT] = Context(client, deployment, mainnet)
        yield


_SUMMARIES = {
    Action.CREATE_POLICY: "create-policy with a stored quote; pins the premium the buyer pays",
    Action.DEPOSIT: "vault deposit; pins the deposit",
    Action.WITHDRAW: "immediate withdrawal (pool without outstanding expiries); the vault pays at least min_amount",
    Action.REQUEST_WITHDRAWAL: "request a withdrawal after the pool's outstanding expiries; moves nothing",
    Action.CANCEL_WITHDRAWAL: "cancel a withdrawal request; moves nothing",
    Action.EXECUTE_WITHDRAWAL: "execute a withdrawal request; the vault pays at least min_amount",
    Action.FUND_DEPOSIT: "insurance-fund deposit; pins the deposit",
    Action.VOTE: "governance vote; moves nothing",
    Action.PROPOSE_PARAM: "governance proposal to set a parameter; moves nothing",
    Action.PROPOSE_TIER_FIELD: "governance proposal to set a tier field; moves nothing",
    Action.PROPOSE_PAUSE: "governance proposal to pause or unpause an action; moves nothing",
    Action.PROPOSE_DISBURSE: "governance proposal to pay from the treasury; moves nothing",
    Action.EXECUTE_PROPOSAL: "execute a passed proposal (anyone); a disbursement pins what the treasury pays",
    Action.CANCEL_PROPOSAL: "cancel a proposal (its proposer or an admin); moves nothing",
}


def _route(action: Action, body_model: type[TxOptions]) -> None:
    async def handler(ctx: Ctx, *, body: TxOptions) -> TransactionResponse:
        try:
            async with ctx.db.acquire() as conn:
                return await build(action, body, ctx.state.extras[CONTEXT], conn)
        except RpcError as exc:
            raise Problem(502, "Bad Gateway", f"the Stacks node did not answer: {type(exc).__name__}") from None

    handler.__name__ = handler.__qualname__ = "transaction_" + action.value.replace("-", "_")
    handler.__doc__ = f"Unsigned {action.value}: {_SUMMARIES[action]}."
    handler.__annotations__ = {"ctx": Ctx, "body": body_model, "return": TransactionResponse}
    routes.post(f"/v1/transactions/{action.value}", scope="quote", errors=(404, 409, 410, 422, 502))(handler)


for _action, _model in BODIES.items():
    _route(_action, _model)
