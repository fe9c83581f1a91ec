"""`POST /v1/quotes` against the devnet: a quote from the API is accepted by `create-policy` in the Clarity VM, a
tampered one is refused (u401/u402), broken rules are refused before anything is signed, and the analytics
report the conversion."""

from __future__ import annotations

from bithedge.protocol.deployment import DEVNET
from bithedge.protocol.quotes import Quote, quote_digest
from stacks import clarity
from stacks.principal import parse_principal
from tests.api import chain_support
from tests.api.chain_support import BTC
from transforms import interface

A, U = clarity.StringAscii, clarity.UInt
api_chain = chain_support.api_chain  # this module's chain
BUYER = "ST3PF13W7Z0RRM42A8VZRVFQ75SV1K26RXEP8YGKJ"  # devnet wallet_7


def request(now: int, **kw) -> dict:
    return {"buyer": BUYER, "token": "STX", "buyer_tier": "standard", "pool_tier": "balanced",
            "strike": str(BTC * 95 // 100), "amount": "1000000", "expiry": now + 12, **kw}


def create_policy_args(q: dict, **tamper) -> list:
    q = {**q, **tamper}
    return [U(q["quote_id"]), A(q["token"]), A(q["buyer_tier"]), A(q["pool_tier"]), U(int(q["strike"])),
            U(int(q["amount"])), U(q["expiry"]), U(int(q["premium"])), U(q["issued_at"]), U(int(q["spot"])),
            U(q["valid_until"]), clarity.Buffer(bytes.fromhex(q["signature"][2:]))]


async def quote(chain, **kw) -> dict:
    r = await chain.post("/v1/quotes", request(await chain.burn_height(), **kw))
    assert r.status == 201, await r.text()
    return await r.json()


async def test_an_api_quote_is_accepted_by_create_policy_and_converts(api_chain):
    chain = api_chain
    await chain.tick()
    q = await quote(chain)
    assert q["digest"] == "0x" + quote_digest(Quote(
        q["quote_id"], BUYER, "STX", "standard", "balanced", int(q["strike"]), int(q["amount"]), q["expiry"],
        int(q["premium"]), q["issued_at"], int(q["spot"]), q["valid_until"]), DEVNET.registry).hex()
    assert q["signer"] == "ST2JHG361ZXG51QTKY2NQCVBPPRRE2KZB1HR05NNC" and q["chain_id"] == 0x80000000
    assert int(q["terms"]["min_premium"]) <= int(q["premium"]) <= int(q["terms"]["max_premium"])
    # the contract computes the same digest (quote-hash) and accepts the signature
    args = create_policy_args(q)
    onchain = await chain.client.call_read(DEVNET.registry, "quote-hash", [args[0], parse_principal(BUYER), *args[1:11]])
    assert "0x" + onchain.value.hex() == q["digest"]
    stored = (await chain.rows("SELECT * FROM api.quotes WHERE quote_id = $1", q["quote_id"]))[0]
    assert (stored["model_name"], stored["model_version"]) == (q["model"]["name"], q["model"]["version"])
    assert bytes(stored["signature"]).hex() == q["signature"][2:] and int(stored["premium"]) == int(q["premium"])
    assert stored["requested_by"] and stored["requested_by"] in chain.key

    txid = await chain.send("wallet_7", DEVNET.registry, "create-policy", create_policy_args(q))
    await chain.mine()
    status, result = await chain.outcome(txid)
    assert status == "success", result
    policy_id = int(result["ok"])
    await chain.settle()
    conv = await chain.rows("SELECT * FROM analytics.quote_conversion WHERE quote_id = $1", q["quote_id"])
    assert conv[0]["outcome"] == "converted" and conv[0]["policy_id"] == policy_id
    perf = await chain.rows("SELECT * FROM analytics.pricing_model_performance WHERE model_version = $1 "
                            "AND token = 'STX'", q["model"]["version"])
    assert perf[0]["policies"] >= 1 and perf[0]["premium_written"] >= int(q["premium"])
    # both views have exactly the documented interface (transforms/README.md)
    documented = interface.views()
    for view in ("quote_conversion", "pricing_model_performance"):
        cols = await chain.rows("SELECT column_name, data_type FROM information_schema.columns WHERE "
                                "table_schema = 'analytics' AND table_name = $1 ORDER BY ordinal_position", view)
        assert [(c["column_name"], c["data_type"]) for c in cols] == [(c, t) for c, t, _, _ in documented[view]["columns"]]


async def test_a_tampered_quote_is_refused_by_the_contract(api_chain):
    chain = api_chain
    await chain.tick()
    q = await quote(chain)
    sig = bytes.fromhex(q["signature"][2:])
    flipped = "0x" + (sig[:10] + bytes([sig[10] ^ 1]) + sig[11:]).hex()
    sent = [
        await chain.send("wallet_7", DEVNET.registry, "create-policy",
                         create_policy_args(q, premium=str(int(q["premium"]) - 1))),
        await chain.send("wallet_7", DEVNET.registry, "create-policy", create_policy_args(q, signature=flipped)),
    ]
    await chain.mine()
    for txid in sent:
        status, result = await chain.outcome(txid)
        assert status == "abort_by_response" and result["err"] in ("401", "402"), result
    # the untampered quote still works afterwards: the refused calls consumed nothing
    txid = await chain.send("wallet_7", DEVNET.registry, "create-policy", create_policy_args(q))
    await chain.mine()
    assert (await chain.outcome(txid))[0] == "success"


async def test_broken_rules_are_refused_before_signing(api_chain):
    chain = api_chain
    await chain.tick()
    now = await chain.burn_height()
    before = (await chain.rows("SELECT count(*) FROM api.quotes"))[0][0]
    cases = {
        "strike-band": ({"strike": str(BTC * 40 // 100)}, "u410"),
        "duration": ({"expiry": now + 3}, "u408"),
        "amount": ({"amount": "10"}, "u409"),
        "pool": ({"token": "STX", "pool_tier": "nonexistent"}, "u304"),
        "buyer-tier": ({"buyer_tier": "vip"}, "u413"),
    }
    for rule, (override, code) in cases.items():
        r = await chain.post("/v1/quotes", request(now, **override))
        body = await r.json()
        assert (r.status, body["rule"], body["code"]) == (422, rule, code), body
        assert r.headers["Content-Type"].startswith("application/problem+json")
    bad = await chain.post("/v1/quotes", request(now, buyer="ST3PF13W7Z0RRM42A8VZRVFQ75SV1K26RXEP8YGKX"))
    assert bad.status == 400
    # prices older than policy.max-price-age-blocks (3 burn blocks): no quote
    await chain.mine(8)
    await chain.settle()
    r = await chain.post("/v1/quotes", request(await chain.burn_height()))
    assert r.status == 422 and (await r.json())["rule"] == "price-freshness"
    assert (await chain.rows("SELECT count(*) FROM api.quotes"))[0][0] == before
    unauthorized = await chain.http.post("/v1/quotes", json=request(now))
    assert unauthorized.status == 401
