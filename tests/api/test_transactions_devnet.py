"""`POST /v1/transactions/*` against the devnet: each unsigned call, signed with a devnet key and broadcast, is
accepted by the node, succeeds in the Clarity VM with deny-mode post-conditions that pin what the user pays, and
shows up in `analytics`; the simulator's buyers and providers use these endpoints with `--api`."""

from __future__ import annotations

from dataclasses import replace

from bithedge.protocol.deployment import DEVNET, SBTC_TOKEN
from bithedge.simulator.agents import Simulator
from stacks.transaction import (
    FungibleConditionCode,
    PostConditionMode,
    STXPostCondition,
    decode_transaction,
    sign,
)
from tests.api import chain_support
from tests.api.chain_support import BTC

api_chain = chain_support.api_chain  # this module's chain
PROVIDER = "ST2REHHS5J3CERCRBEPMGH7921Q6PYKAADT7JP2VB"  # devnet wallet_5
BUYER = "ST3NBRSFKX28FQ2ZJ1MAKX58HKHSDGNV5N7R21XCP"  # devnet wallet_8
DEPOSIT = 50_000 * 1_000_000
API_IDS = 2**48  # api.quote_ids starts here


async def unsigned(chain, action: str, body: dict) -> dict:
    r = await chain.post(f"/v1/transactions/{action}", body)
    assert r.status == 200, await r.text()
    return await r.json()


async def fresh_quote(chain, buyer_tier: str, pool_tier: str, strike_pct: int, amount: int) -> dict:
    """A quote for BUYER after fresh prices, expiring 15 burn blocks out."""
    await chain.tick()
    r = await chain.post("/v1/quotes", {"buyer": BUYER, "token": "STX", "buyer_tier": buyer_tier,
                                        "pool_tier": pool_tier, "strike": str(BTC * strike_pct // 100),
                                        "amount": str(amount), "expiry": await chain.burn_height() + 15})
    assert r.status == 201, await r.text()
    return await r.json()


async def sign_send_mine(chain, tx: dict, label: str) -> tuple[str, object]:
    txid = await chain.broadcast_signed(tx["transaction"], label)
    await chain.mine()
    return await chain.outcome(txid)


async def test_deposit_and_withdrawal_request_appear_in_analytics(api_chain):
    chain = api_chain
    tx = await unsigned(chain, "deposit", {"sender": PROVIDER, "token": "STX", "tier": "aggressive",
                                           "amount": str(DEPOSIT)})
    decoded = decode_transaction(bytes.fromhex(tx["transaction"][2:]))
    assert decoded.post_condition_mode == PostConditionMode.DENY
    assert decoded.post_conditions == (STXPostCondition(decoded.post_conditions[0].principal,
                                                        FungibleConditionCode.EQ, DEPOSIT),)
    assert int(tx["nonce"]) == decoded.auth.origin.nonce and int(tx["fee"]) == decoded.auth.origin.fee > 0
    call = tx["contract_call"]
    assert (call["contractAddress"] + "." + call["contractName"], call["functionName"]) == (DEVNET.vault, "deposit")
    assert call["postConditions"] == [{"type": "stx-postcondition", "address": PROVIDER, "condition": "eq",
                                       "amount": str(DEPOSIT)}]
    status, result = await sign_send_mine(chain, tx, "wallet_5")
    assert status == "success", result
    shares = int(result["ok"])

    # the next nonce already counts the mined deposit
    tx = await unsigned(chain, "request-withdrawal", {"sender": PROVIDER, "token": "STX", "tier": "aggressive",
                                                      "shares": str(shares // 2)})
    assert tx["post_conditions"] == [] and int(tx["nonce"]) == decoded.auth.origin.nonce + 1
    assert (await sign_send_mine(chain, tx, "wallet_5"))[0] == "success"
    tx = await unsigned(chain, "fund-deposit", {"sender": PROVIDER, "token": "STX", "amount": "1000000"})
    assert (await sign_send_mine(chain, tx, "wallet_5"))[0] == "success"
    # sBTC moves are pinned with a fungible-token post-condition on the sbtc-token asset
    tx = await unsigned(chain, "deposit", {"sender": PROVIDER, "token": "sBTC", "tier": "balanced", "amount": "1000000"})
    assert tx["post_conditions"] == [{"type": "ft-postcondition", "address": PROVIDER, "condition": "eq",
                                      "asset": f"{SBTC_TOKEN}::sbtc-token", "amount": "1000000"}]
    assert (await sign_send_mine(chain, tx, "wallet_5"))[0] == "success"
    await chain.settle()
    provider = await chain.rows("SELECT shares, deposited FROM analytics.providers WHERE provider = $1 AND "
                                "token = 'STX' AND tier = 'aggressive'", PROVIDER)
    assert provider and int(provider[0]["shares"]) == shares and int(provider[0]["deposited"]) == DEPOSIT
    requests = await chain.rows("SELECT shares FROM analytics.withdrawal_requests WHERE provider = $1 AND "
                                "state = 'pending'", PROVIDER)
    assert [int(r["shares"]) for r in requests] == [shares // 2]

    # the pool has no outstanding expiry: execute pays the request's value at least
    tx = await unsigned(chain, "execute-withdrawal", {"sender": PROVIDER, "token": "STX", "tier": "aggressive"})
    pc = tx["post_conditions"]
    assert len(pc) == 1 and pc[0]["address"] == DEVNET.vault and pc[0]["condition"] == "gte"
    status, result = await sign_send_mine(chain, tx, "wallet_5")
    assert status == "success" and int(result["ok"]) >= int(pc[0]["amount"]) > 0


async def test_create_policy_from_a_quote_pins_the_premium_and_appears_in_analytics(api_chain):
    chain = api_chain
    q = await fresh_quote(chain, "flexible", "conservative", 97, 2_000_000)
    tx = await unsigned(chain, "create-policy", {"quote_id": q["quote_id"]})
    assert tx["sender"] == BUYER and tx["post_conditions"] == [
        {"type": "stx-postcondition", "address": BUYER, "condition": "eq", "amount": q["premium"]}]
    status, result = await sign_send_mine(chain, tx, "wallet_8")
    assert status == "success", result
    await chain.settle()
    rows = await chain.rows("SELECT policy_id, owner, premium FROM analytics.policies WHERE quote_id = $1",
                            q["quote_id"])
    assert [(r["policy_id"], r["owner"], int(r["premium"])) for r in rows] == [(int(result["ok"]), BUYER,
                                                                               int(q["premium"]))]
    # used once: the same quote again is refused before a fee is spent
    again = await chain.post("/v1/transactions/create-policy", {"quote_id": q["quote_id"]})
    assert again.status == 409 and (await again.json())["code"] == "u403"


async def test_a_premium_other_than_the_pinned_one_aborts_the_transaction(api_chain):
    """Deny mode: the post-condition is the buyer's protection; a call moving a different amount aborts."""
    chain = api_chain
    q = await fresh_quote(chain, "standard", "balanced", 90, 1_000_000)
    tx = await unsigned(chain, "create-policy", {"quote_id": q["quote_id"]})
    decoded = decode_transaction(bytes.fromhex(tx["transaction"][2:]))
    pc = decoded.post_conditions[0]
    lowered = replace(decoded, post_conditions=(replace(pc, amount=pc.amount - 1),))
    txid = await chain.client.broadcast(sign(lowered, chain.keys["wallet_8"]))
    await chain.mine()
    assert (await chain.outcome(txid))[0] == "abort_by_post_condition"


async def test_refusals_name_the_rule(api_chain):
    chain = api_chain
    missing = await chain.post("/v1/transactions/create-policy", {"quote_id": 12345})
    assert missing.status == 404
    no_request = await chain.post("/v1/transactions/cancel-withdrawal",
                                  {"sender": BUYER, "token": "STX", "tier": "balanced"})
    assert no_request.status == 422 and (await no_request.json())["code"] == "u319"
    too_many = await chain.post("/v1/transactions/withdraw",
                                {"sender": BUYER, "token": "STX", "tier": "balanced", "shares": "1"})
    assert too_many.status == 422 and (await too_many.json())["code"] == "u307"
    no_pool = await chain.post("/v1/transactions/deposit",
                               {"sender": BUYER, "token": "STX", "tier": "nope", "amount": "1"})
    assert no_pool.status == 422 and (await no_pool.json())["code"] == "u304"
    bad = await chain.post("/v1/transactions/deposit",
                           {"sender": DEVNET.vault, "token": "STX", "tier": "balanced", "amount": "1"})
    assert bad.status == 400


async def test_simulator_buys_and_provides_through_the_api(api_chain):
    """`bithedge simulate --api`: buyers take the API's quotes, buyers and providers sign its transactions."""
    chain = api_chain
    sim = Simulator(chain.client, seed=3, mine=True, extra_buyers=0, activity=3.0, log=lambda _: None,
                    api=str(chain.http.make_url("")), api_key=chain.key)
    await sim.setup()
    count = "SELECT count(*) FROM api.quotes WHERE buyer = ANY($1::text[])"
    before = (await chain.rows(count, [b.address for b in sim.buyers]))[0][0]
    await chain.mine()
    await chain.settle()
    for _ in range(6):
        await chain.push_prices()  # the oracle submitter is not the simulator's job here
        await sim.wait_next_block()
        await chain.settle()
        await sim.step()
    await chain.mine()
    await sim.refresh_chain()
    await sim.check_pending()
    stats = sim.summary()
    assert stats.get("success:create-policy", 0) >= 2, stats
    assert stats.get("success:deposit", 0) + stats.get("success:fund-deposit", 0) >= 1, stats
    assert not [k for k in stats if k.startswith(("rejected:", "refused:create-policy", "refused:deposit",
                                                  "fallback:"))], stats
    await chain.settle()
    assert (await chain.rows(count, [b.address for b in sim.buyers]))[0][0] - before == stats["quotes"]
    ids = [r["quote_id"] for r in await chain.rows(
        "SELECT quote_id FROM analytics.policies WHERE owner = ANY($1::text[])", [b.address for b in sim.buyers])]
    assert len(ids) >= stats["success:create-policy"] and all(i >= API_IDS for i in ids)


async def test_simulator_skips_a_buy_the_api_cannot_quote_and_signs_no_quote(api_chain):
    """An API answering 503 (its analytics trail the chain): the buyer skips and counts the buy, and nothing
    is signed or sent in its place (the simulator holds no quote-signer key with ``--api``)."""
    from aiohttp import web
    from aiohttp.test_utils import TestServer

    chain = api_chain
    asked: list[dict] = []

    async def unavailable(request: web.Request) -> web.Response:
        asked.append(await request.json())
        return web.json_response({"type": "urn:bithedge:unavailable", "status": 503, "rule": "analytics-stale"},
                                 status=503, content_type="application/problem+json")

    app = web.Application()
    app.router.add_post("/v1/quotes", unavailable)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        sim = Simulator(chain.client, seed=4, extra_buyers=0, log=lambda _: None,
                        api=str(server.make_url("")), api_key="bhk_unused")
        await sim.setup()
        await chain.tick()
        await sim.refresh_chain()
        assert sim.quote_key is None
        for buyer in sim.buyers:
            await sim.buy(buyer)
        stats = sim.summary()
    finally:
        await server.close()
        if sim.api is not None:
            await sim.api.close()
    assert len(asked) == len(sim.buyers) and {a["buyer"] for a in asked} == {b.address for b in sim.buyers}
    assert stats.get("skipped:buy:api-unavailable:analytics-stale") == len(sim.buyers), stats
    assert not stats.get("quotes") and not sim.pending, stats
    assert not [k for k in stats if "create-policy" in k or k.startswith("fallback:")], stats


async def test_governance_proposal_vote_and_cancel_land_in_analytics(api_chain):
    """propose-param, vote and cancel-proposal: each unsigned, signed with the proposer's devnet key (wallet_4
    backs every STX pool, so it has power), broadcast, and seen in `analytics.proposals`; what the contract would
    refuse now is refused first with its code."""
    chain = api_chain
    proposer = chain.signer("wallet_4").address
    tx = await unsigned(chain, "propose-param", {"sender": proposer, "key": "premium.min-bp", "value": 15})
    decoded = decode_transaction(bytes.fromhex(tx["transaction"][2:]))
    assert decoded.post_condition_mode == PostConditionMode.DENY and decoded.post_conditions == ()
    assert (tx["contract_call"]["contractName"], tx["contract_call"]["functionName"]) == \
        ("bithedge-governance", "propose-param")
    status, result = await sign_send_mine(chain, tx, "wallet_4")
    assert status == "success", result
    pid = int(result["ok"])
    await chain.settle()
    row = (await chain.rows("SELECT proposer, kind, key, value, state, created_txid FROM analytics.proposals"
                            " WHERE proposal_id = $1", pid))[0]
    assert (row["proposer"], row["kind"], row["key"], int(row["value"]), row["state"]) == \
        (proposer, "param", "premium.min-bp", 15, "active")

    # refused before anything is built: no power, a value out of bounds, executing too early, a stranger cancelling
    weak = await chain.post("/v1/transactions/propose-param", {"sender": BUYER, "key": "premium.min-bp", "value": 15})
    assert weak.status == 422 and (await weak.json())["code"] == "u509"
    bounds = await chain.post("/v1/transactions/propose-param",
                              {"sender": proposer, "key": "premium.min-bp", "value": 10**30})
    assert bounds.status == 422 and (await bounds.json())["rule"] == "param"
    early = await chain.post("/v1/transactions/execute-proposal", {"sender": BUYER, "proposal_id": pid})
    assert early.status == 422 and (await early.json())["code"] == "u508"
    stranger = await chain.post("/v1/transactions/cancel-proposal", {"sender": BUYER, "proposal_id": pid})
    assert stranger.status == 403 and (await stranger.json())["code"] == "u500"
    unknown = await chain.post("/v1/transactions/cancel-proposal", {"sender": proposer, "proposal_id": 10**9})
    assert unknown.status == 404

    await chain.mine(3)  # past the snapshot block: voting opens
    status, result = await sign_send_mine(
        chain, await unsigned(chain, "vote", {"sender": proposer, "proposal_id": pid, "support": True}), "wallet_4")
    assert status == "success", result
    again = await chain.post("/v1/transactions/vote", {"sender": proposer, "proposal_id": pid, "support": True})
    assert again.status == 409 and (await again.json())["code"] == "u503"
    status, result = await sign_send_mine(
        chain, await unsigned(chain, "cancel-proposal", {"sender": proposer, "proposal_id": pid}), "wallet_4")
    assert status == "success", result
    await chain.settle()
    row = (await chain.rows("SELECT state, voters, yes_power FROM analytics.proposals WHERE proposal_id = $1", pid))[0]
    assert row["state"] == "cancelled" and row["voters"] == 1 and row["yes_power"] > 0
    gone = await chain.post("/v1/transactions/cancel-proposal", {"sender": proposer, "proposal_id": pid})
    assert gone.status == 422 and (await gone.json())["code"] == "u507"
