import { describe, it, expect, beforeEach } from "vitest";
import { Cl, serializeCV } from "@stacks/transactions";
import * as h from "./helpers";
const { A, C } = h;

describe("bithedge-policy-registry: create-policy", () => {
  beforeEach(async () => { await h.freshChain(); h.market(); h.mineBurn(1); });

  it("quote digest equals the contract's quote-hash; fields serialize in sorted order", () => {
    const q = h.quote();
    const onChain = h.ro(C.registry, "quote-hash", [Cl.uint(q.quoteId), Cl.principal(q.buyer), Cl.stringAscii(q.token),
      Cl.stringAscii(q.buyerTier), Cl.stringAscii(q.poolTier), Cl.uint(q.strike), Cl.uint(q.amount), Cl.uint(q.expiry),
      Cl.uint(q.premium), Cl.uint(q.validUntil)]);
    expect(onChain).toBe(h.quoteDigest(q));
    const hex = Buffer.from(serializeCV(h.quoteTuple(q)), "hex").toString("latin1");
    const order = ["amount", "buyer", "buyer-tier", "chain-id", "domain", "expiry", "pool-tier", "premium", "quote-id", "registry", "strike", "token", "valid-until"];
    const positions = order.map((k) => hex.indexOf(String.fromCharCode(k.length) + k));
    expect(positions.every((p) => p > 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it("creates a policy: premium into the vault, collateral locked, one event with totals", () => {
    const q = h.quote();
    const t = h.terms(q.strike, q.amount, h.BTC0, "STX", h.STX0, 11000n, 10000n);
    const before = h.pool("STX", "balanced")!;
    const buyerBefore = h.tokenBalance("STX", A.b1);
    const r = h.createPolicy(q);
    expect(h.ok(r)).toBe(1n);
    const e = h.onePrint(r, "policy-created");
    expect(e).toMatchObject({ "policy-id": 1n, owner: A.b1, "quote-id": q.quoteId, signer: A.signer, token: "STX", tier: "balanced",
      "buyer-tier": "standard", strike: q.strike, amount: q.amount, expiry: q.expiry, premium: q.premium, collateral: t.collateral,
      "max-payout": t.maxPayout, "spot-price": h.BTC0, "collateral-price": h.STX0, "pool-assets": before.assets + q.premium,
      "pool-locked": t.collateral, "pool-shares": before.shares, "expiry-locked": t.collateral, "expiry-count": 1n, "owner-active": 1n });
    expect(h.tokenBalance("STX", A.b1)).toBe(buyerBefore - q.premium);
    expect(r.events.filter((x) => x.event === "stx_transfer_event")).toHaveLength(1);
    const p = h.policy(1);
    expect(p).toMatchObject({ status: "active", owner: A.b1, collateral: t.collateral, premium: q.premium, "quote-id": q.quoteId });
    expect(h.ro(C.registry, "get-expiry-policies", [Cl.uint(q.expiry)])).toEqual([1n]);
    expect(h.ro(C.registry, "get-owner-policy-count", [Cl.principal(A.b1)])).toBe(1n);
    expect(h.ro(C.registry, "get-owner-policy", [Cl.principal(A.b1), Cl.uint(0)])).toBe(1n);
    expect(h.ro(C.registry, "get-owner-active", [Cl.principal(A.b1)])).toBe(1n);
    expect(h.ro(C.registry, "get-quote-policy", [Cl.uint(q.quoteId)])).toBe(1n);
    expect(h.ro(C.registry, "get-max-batch")).toBe(50n);
    h.checkInvariants();
  });

  it("sBTC policy takes the premium in sBTC and prices collateral with the BTC feed", () => {
    const q = h.quote({ token: "sBTC", poolTier: "aggressive", buyer: A.b2 });
    const t = h.terms(q.strike, q.amount, h.BTC0, "sBTC", h.BTC0, 11000n, 10000n);
    const before = h.tokenBalance("sBTC", A.b2);
    const e = h.onePrint(h.createPolicy(q), "policy-created");
    expect(e.collateral).toBe(t.collateral);
    expect(t.collateral).toBe(9_900_000n); // 0.1 BTC at 90% strike × 110%
    expect(h.tokenBalance("sBTC", A.b2)).toBe(before - q.premium);
    h.checkInvariants();
  });

  it("signature errors: malformed (401), wrong signer (402), other domain (402), tampered field (402), revoked signer (402)", () => {
    const q = h.quote();
    h.expectErr(h.createPolicy(q, "00".repeat(65)), 401);
    h.expectErr(h.createPolicy(q, h.signQuote(q, h.KEY("wallet_7"))), 402);
    h.expectErr(h.createPolicy(q, h.signQuote(q, undefined, 1n)), 402); // mainnet chain id
    h.expectErr(h.createPolicy(q, h.signQuote(q, undefined, undefined, `${A.deployer}.other-registry`)), 402);
    h.expectErr(h.createPolicy({ ...q, premium: q.premium - 1n }, h.signQuote(q)), 402);
    h.expectErr(h.createPolicy(q, h.signQuote(q), A.b2), 402); // quote bound to buyer b1
    h.ok(h.call(C.params, "revoke-role", [Cl.principal(A.signer), Cl.stringAscii("quote-signer")], A.deployer));
    h.expectErr(h.createPolicy(q), 402);
  });

  it("quote replay (403) and expiry (404)", () => {
    const q = h.quote();
    h.ok(h.createPolicy(q));
    h.expectErr(h.createPolicy(q), 403);
    h.expectErr(h.createPolicy({ ...q, buyer: A.b2 }, undefined, A.b2), 403);
    const q2 = h.quote({ validUntil: h.burn() });
    h.mineBurn(1);
    h.expectErr(h.createPolicy(q2), 404);
  });

  it("parameter checks: 408 duration, 409 amount, 410 strike, 411/412 premium, 413 tier, 417 token", () => {
    const now = h.burn();
    h.expectErr(h.createPolicy(h.quote({ expiry: now + 5n })), 408);
    h.expectErr(h.createPolicy(h.quote({ expiry: now })), 408);
    h.expectErr(h.createPolicy(h.quote({ expiry: now + 52561n })), 408);
    h.expectErr(h.createPolicy(h.quote({ amount: 9_999n })), 409);
    h.expectErr(h.createPolicy(h.quote({ amount: 1_000_000_001n })), 409);
    h.expectErr(h.createPolicy(h.quote({ strike: h.BTC0 / 2n - 1n })), 410);
    h.expectErr(h.createPolicy(h.quote({ strike: (h.BTC0 * 3n) / 2n + 1n })), 410);
    const q = h.quote();
    const t = h.terms(q.strike, q.amount, h.BTC0, "STX", h.STX0, 11000n, 10000n);
    h.expectErr(h.createPolicy(h.quote({ premium: t.minPremium - 1n })), 411);
    h.expectErr(h.createPolicy(h.quote({ premium: 0n })), 411);
    h.expectErr(h.createPolicy(h.quote({ premium: t.maxPremium + 1n })), 412);
    h.ok(h.createPolicy(h.quote({ premium: t.minPremium })));
    h.ok(h.createPolicy(h.quote({ premium: t.maxPremium })));
    h.expectErr(h.createPolicy(h.quote({ buyerTier: "platinum" })), 413);
    h.ok(h.call(C.params, "set-tier-field", [Cl.stringAscii("buyer"), Cl.stringAscii("flexible"), Cl.stringAscii("active"), Cl.uint(0)], A.deployer));
    h.expectErr(h.createPolicy(h.quote({ buyerTier: "flexible" })), 413);
    h.expectErr(h.createPolicy(h.quote({ token: "ETH", premium: 1000n })), 417);
  });

  it("ITM strike: premium must cover intrinsic value", () => {
    const strike = (h.BTC0 * 12n) / 10n;
    const t = h.terms(strike, 10_000_000n, h.BTC0, "STX", h.STX0, 11000n, 10000n);
    expect(t.intrinsic).toBe(600_000_000n); // $1,200 at $2 = 600 STX
    h.expectErr(h.createPolicy(h.quote({ strike, premium: t.intrinsic - 1n })), 411);
    h.ok(h.createPolicy(h.quote({ strike, premium: t.intrinsic })));
  });

  it("prices: missing (414) and stale (414)", async () => {
    await h.freshChain();
    h.market();
    h.mineBurn(4); // prices 4 blocks old > max age 3
    h.expectErr(h.createPolicy(h.quote()), 414);
    h.ok(h.submitPrice("BTC", h.BTC0));
    h.expectErr(h.createPolicy(h.quote()), 414); // STX still stale
    h.ok(h.submitPrice("STX", h.STX0));
    h.ok(h.createPolicy(h.quote()));
    await h.freshChain();
    for (const tier of h.POOL_TIERS) h.ok(h.deposit(A.p1, "STX", tier, 1_000_000_000_000n));
    h.expectErr(h.createPolicy(h.quote({ premium: 1_000_000n })), 414);
  });

  it("index bounds: expiry full (415) and owner limit (416)", () => {
    h.ok(h.setParam("policy.max-per-expiry", 2));
    const expiry = h.burn() + 20n;
    h.ok(h.createPolicy(h.quote({ expiry })));
    h.ok(h.createPolicy(h.quote({ expiry, buyer: A.b2 }), undefined, A.b2));
    h.expectErr(h.createPolicy(h.quote({ expiry })), 415);
    h.ok(h.setParam("policy.max-active-per-owner", 2));
    h.ok(h.createPolicy(h.quote({ expiry: expiry + 1n })));
    h.expectErr(h.createPolicy(h.quote({ expiry: expiry + 2n })), 416);
  });

  it("vault caps through create-policy: 310 per policy, 309 utilization, 311 per expiry, 304 no pool", async () => {
    await h.freshChain();
    h.ok(h.deposit(A.p1, "STX", "conservative", 30_000_000_000n)); // 30k STX = $60k
    h.pushPrices(h.BTC0, h.STX0);
    // 0.1 BTC at 54k strike needs 2970 STX collateral: 9.9% of the pool (policy cap 10%)
    h.ok(h.createPolicy(h.quote({ poolTier: "conservative" })));
    h.expectErr(h.createPolicy(h.quote({ poolTier: "conservative", amount: 11_000_000n })), 310);
    h.ok(h.createPolicy(h.quote({ poolTier: "conservative", expiry: h.burn() + 21n })));
    h.ok(h.createPolicy(h.quote({ poolTier: "conservative", expiry: h.burn() + 21n })));
    // 25% per-expiry cap ≈ 7500 STX: a third 2970 STX policy at the same expiry (8910) is refused
    h.expectErr(h.createPolicy(h.quote({ poolTier: "conservative", expiry: h.burn() + 21n })), 311);
    h.ok(h.createPolicy(h.quote({ poolTier: "conservative", expiry: h.burn() + 22n })));
    h.ok(h.createPolicy(h.quote({ poolTier: "conservative", expiry: h.burn() + 23n })));
    // 5 × 2970 = 14850 locked; 50% utilization cap of ~30000 → a sixth breaks the circuit
    h.expectErr(h.createPolicy(h.quote({ poolTier: "conservative", expiry: h.burn() + 25n })), 309);
    h.expectErr(h.createPolicy(h.quote({ poolTier: "balanced" })), 310); // empty pool: no capacity
    h.ok(h.call(C.params, "set-tier", [Cl.stringAscii("provider"), Cl.stringAscii("new"), ...[10000, 10000, 9000, 9000, 9000].map((x) => Cl.uint(x)), Cl.bool(true)], A.deployer));
    h.expectErr(h.createPolicy(h.quote({ poolTier: "new" })), 304); // tier without a pool
    h.ok(h.call(C.params, "set-tier-field", [Cl.stringAscii("provider"), Cl.stringAscii("conservative"), Cl.stringAscii("active"), Cl.uint(0)], A.deployer));
    h.expectErr(h.createPolicy(h.quote({ poolTier: "conservative", expiry: h.burn() + 26n })), 312);
    h.checkInvariants();
  });
});

