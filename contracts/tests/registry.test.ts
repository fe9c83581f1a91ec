import { describe, it, expect, beforeEach } from "vitest";
import { Cl, serializeCV } from "@stacks/transactions";
import { createHash } from "node:crypto";
import * as h from "./helpers";
const { A, C } = h;

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n; // secp256k1 group order
// An independent serialization of the README's quote tuple, to check the documented field order and
// to sign the same quote for another chain id or registry (domain separation).
function readmeDigest(q: h.Quote, chainId = 0x80000000n, registry = C.registry): string {
  const tuple = Cl.tuple({
    domain: Cl.stringAscii("bithedge-quote-v2"), "chain-id": Cl.uint(chainId), registry: Cl.principal(registry),
    "quote-id": Cl.uint(q.quoteId), buyer: Cl.principal(q.buyer), token: Cl.stringAscii(q.token),
    "buyer-tier": Cl.stringAscii(q.buyerTier), "pool-tier": Cl.stringAscii(q.poolTier), strike: Cl.uint(q.strike),
    amount: Cl.uint(q.amount), expiry: Cl.uint(q.expiry), premium: Cl.uint(q.premium), "issued-at": Cl.uint(q.issuedAt),
    spot: Cl.uint(q.spot), "valid-until": Cl.uint(q.validUntil),
  });
  return createHash("sha256").update(Buffer.from(serializeCV(tuple), "hex")).digest("hex");
}
const created = (r: h.Res) => h.prints(r).find((e) => e.event === "policy-created");

describe("bithedge-policy-registry: create-policy", () => {
  beforeEach(async () => { await h.freshChain(); h.market(); h.mineBurn(1); h.pushPrices(h.BTC0, h.STX0); });

  it("quote digest: quote-hash equals the README serialization; fields in sorted order", () => {
    const q = h.quote();
    expect(h.quoteDigest(q)).toBe(readmeDigest(q));
    const tuple = Buffer.from(serializeCV(Cl.tuple({ amount: Cl.uint(1), buyer: Cl.principal(q.buyer), "buyer-tier": Cl.stringAscii(""),
      "chain-id": Cl.uint(1), domain: Cl.stringAscii(""), expiry: Cl.uint(1), "issued-at": Cl.uint(1), "pool-tier": Cl.stringAscii(""),
      premium: Cl.uint(1), "quote-id": Cl.uint(1), registry: Cl.principal(C.registry), spot: Cl.uint(1), strike: Cl.uint(1),
      token: Cl.stringAscii(""), "valid-until": Cl.uint(1) })), "hex").toString("latin1");
    const order = ["amount", "buyer", "buyer-tier", "chain-id", "domain", "expiry", "issued-at", "pool-tier", "premium", "quote-id",
      "registry", "spot", "strike", "token", "valid-until"];
    const positions = order.map((k) => tuple.indexOf(String.fromCharCode(k.length) + k));
    expect(positions.every((p) => p > 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it("creates a policy: premium split into treasury, fund and pool (unearned), collateral locked, events", () => {
    const q = h.quote();
    const t = h.quoteTerms("STX", "standard", q.strike, q.amount);
    const split = h.premiumSplit(q.premium);
    expect(split.fee).toBe((q.premium * 300n) / 10000n);
    expect(split.fund).toBe((q.premium * 500n) / 10000n);
    const before = h.pool("STX", "balanced")!;
    const buyerBefore = h.tokenBalance("STX", A.b1);
    const r = h.createPolicy(q);
    expect(h.ok(r)).toBe(1n);
    expect(h.prints(r).map((e) => e.event)).toEqual(["fee-collected", "fund-deposit", "policy-created"]);
    const e = created(r);
    expect(e).toMatchObject({ "policy-id": 1n, owner: A.b1, "quote-id": q.quoteId, signer: A.signer, token: "STX", tier: "balanced",
      "buyer-tier": "standard", strike: q.strike, amount: q.amount, expiry: q.expiry, premium: q.premium, collateral: t.collateral,
      "protocol-fee": split.fee, "fund-share": split.fund, "pool-premium": split.pool,
      "max-payout": t["max-payout"], "stress-price": (h.STX0 * 6000n) / 10000n, "coverage-floor": 0n,
      "spot-price": h.BTC0, "quote-spot": q.spot, "issued-at": q.issuedAt, "collateral-price": h.STX0,
      "price-delay": 144n, "void-after": q.expiry + 288n,
      "pool-assets": before.assets, "pool-unearned": split.pool, "pool-locked": t.collateral, "pool-shares": before.shares,
      "expiry-locked": t.collateral, "expiry-count": 1n, "owner-active": 1n });
    // max payout covers BTC → 0 with STX down to 60 % of its price: $5,400 / $1.20 = 4,500 STX
    expect(t["max-payout"]).toBe(4_500_000_000n);
    expect(h.prints(r)[0]).toMatchObject({ token: "STX", amount: split.fee, "policy-id": 1n, payer: A.b1, balance: split.fee });
    expect(h.prints(r)[1]).toMatchObject({ token: "STX", amount: split.fund, source: "premium", "policy-id": 1n, depositor: A.b1 });
    expect(h.tokenBalance("STX", A.b1)).toBe(buyerBefore - q.premium);
    expect(h.treasury("STX").balance).toBe(split.fee);
    expect(h.fund("STX").balance).toBe(split.fund);
    const p = h.policy(1);
    expect(p).toMatchObject({ status: "active", owner: A.b1, collateral: t.collateral, premium: q.premium, "pool-premium": split.pool,
      "quote-id": q.quoteId, "price-delay": 144n, "void-after": q.expiry + 288n });
    expect(h.ro(C.registry, "get-expiry-policy-count", [Cl.uint(q.expiry)])).toBe(1n);
    expect(h.ro(C.registry, "get-expiry-policy", [Cl.uint(q.expiry), Cl.uint(0)])).toBe(1n);
    expect(h.ro(C.registry, "get-owner-policy-count", [Cl.principal(A.b1)])).toBe(1n);
    expect(h.ro(C.registry, "get-owner-policy", [Cl.principal(A.b1), Cl.uint(0)])).toBe(1n);
    expect(h.ro(C.registry, "get-owner-active", [Cl.principal(A.b1)])).toBe(1n);
    expect(h.ro(C.registry, "get-quote-policy", [Cl.uint(q.quoteId)])).toBe(1n);
    expect(h.ro(C.registry, "get-max-batch")).toBe(50n);
    h.checkInvariants();
  });

  it("sBTC policy: premium in sBTC, coverage floor at the stressed BTC price", () => {
    const q = h.quote({ token: "sBTC", poolTier: "aggressive", buyer: A.b2 });
    const t = h.quoteTerms("sBTC", "standard", q.strike, q.amount);
    const before = h.tokenBalance("sBTC", A.b2);
    const e = created(h.createPolicy(q));
    // strike $54k, floor F = 50 % × $60k = $30k: fully covered down to $30k,
    // max payout (54k − 30k) × 0.1 BTC / 30k = 0.08 BTC; collateral × 110 %
    expect(t).toMatchObject({ "coverage-floor": 3_000_000_000_000n, "stress-price": 3_000_000_000_000n, "max-payout": 8_000_000n, collateral: 8_800_000n });
    expect(e).toMatchObject({ collateral: 8_800_000n, "max-payout": 8_000_000n, "coverage-floor": 3_000_000_000_000n });
    expect(h.tokenBalance("sBTC", A.b2)).toBe(before - q.premium);
    // a strike at or below the floor has no covered payout: refused
    h.expectErr(h.createPolicy(h.quote({ token: "sBTC", poolTier: "aggressive", strike: h.BTC0 / 2n, premium: 1000n })), 410);
    h.checkInvariants();
  });

  it("signature errors: malformed (401), high-S twin (401), wrong signer (402), other domain (402), tampered (402), revoked (402)", () => {
    const q = h.quote();
    h.expectErr(h.createPolicy(q, "00".repeat(65)), 401);
    // I-1: (r, n − s, v ⊕ 1) recovers the same key; only the low-S form is accepted
    const sig = h.signQuote(q);
    const s = BigInt("0x" + sig.slice(64, 128));
    const twin = sig.slice(0, 64) + (N - s).toString(16).padStart(64, "0") + (parseInt(sig.slice(128), 16) ^ 1).toString(16).padStart(2, "0");
    h.expectErr(h.createPolicy(q, twin), 401);
    h.expectErr(h.createPolicy(q, h.signQuote(q, h.KEY("wallet_7"))), 402);
    h.expectErr(h.createPolicy(q, h.signDigest(readmeDigest(q, 1n))), 402); // mainnet chain id
    h.expectErr(h.createPolicy(q, h.signDigest(readmeDigest(q, undefined, `${A.deployer}.other-registry`))), 402);
    h.expectErr(h.createPolicy({ ...q, premium: q.premium - 1n }, sig), 402);
    h.expectErr(h.createPolicy({ ...q, spot: q.spot + 1n }, sig), 402);
    h.expectErr(h.createPolicy(q, sig, A.b2), 402); // quote bound to buyer b1
    h.ok(h.call(C.params, "revoke-role", [Cl.principal(A.signer), Cl.stringAscii("quote-signer")], A.deployer));
    h.expectErr(h.createPolicy(q, sig), 402);
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

  it("M-5: quotes are bound to the spot at issuance and have a bounded life (419, 420)", () => {
    const now = h.burn();
    h.expectErr(h.createPolicy(h.quote({ validUntil: now + 7n })), 419);          // life 7 > quote.max-life-blocks 6
    h.ok(h.createPolicy(h.quote({ validUntil: now + 6n })));
    h.expectErr(h.createPolicy(h.quote({ issuedAt: now + 1n, validUntil: now + 2n })), 419); // issued in the future
    h.expectErr(h.createPolicy(h.quote({ spot: (h.BTC0 * 10102n) / 10000n })), 420); // oracle > 1 % of the signed spot away
    h.ok(h.createPolicy(h.quote({ spot: (h.BTC0 * 10100n) / 10000n })));             // exactly 1 %
    // the audit's free option: a $57k put quoted at $60k for 14 blocks, used after BTC fell 4 %
    const q = h.quote({ strike: 5_700_000_000_000n, validUntil: now + 14n });
    h.expectErr(h.createPolicy(q), 419);
    const q2 = h.quote({ strike: 5_700_000_000_000n, validUntil: now + 6n });
    h.mineBurn(2);
    h.pushPrices((h.BTC0 * 96n) / 100n, h.STX0);
    h.expectErr(h.createPolicy(q2), 420);
  });

  it("pause: create-policy fails with u421 while paused by the guardian; admin unpauses", () => {
    h.ok(h.setPaused("create-policy", true, A.guardian));
    h.expectErr(h.createPolicy(h.quote()), 421);
    h.expectErr(h.setPaused("create-policy", false, A.guardian), 100);
    h.ok(h.setPaused("create-policy", false));
    h.ok(h.createPolicy(h.quote()));
  });

  it("parameter checks: 408 duration, 409 amount, 410 strike, 411/412 premium, 413 tier, 417 token", () => {
    const now = h.burn();
    h.expectErr(h.createPolicy(h.quote({ expiry: now + 5n })), 408);
    h.expectErr(h.createPolicy(h.quote({ expiry: now, premium: 1_000_000n })), 408);
    h.expectErr(h.createPolicy(h.quote({ expiry: now + 52561n })), 408);
    h.expectErr(h.createPolicy(h.quote({ amount: 9_999n })), 409);
    h.expectErr(h.createPolicy(h.quote({ amount: 1_000_000_001n })), 409);
    h.expectErr(h.createPolicy(h.quote({ strike: h.BTC0 / 2n - 1n })), 410);
    h.expectErr(h.createPolicy(h.quote({ strike: (h.BTC0 * 3n) / 2n + 1n })), 410);
    const q = h.quote();
    const t = h.quoteTerms("STX", "standard", q.strike, q.amount);
    h.expectErr(h.createPolicy(h.quote({ premium: t["min-premium"] - 1n })), 411);
    h.expectErr(h.createPolicy(h.quote({ premium: 0n })), 411);
    h.expectErr(h.createPolicy(h.quote({ premium: t["max-premium"] + 1n })), 412);
    h.ok(h.createPolicy(h.quote({ premium: t["min-premium"] })));
    h.ok(h.createPolicy(h.quote({ premium: t["max-premium"] })));
    h.expectErr(h.createPolicy(h.quote({ buyerTier: "platinum", premium: 1_000_000n })), 413);
    h.ok(h.call(C.params, "set-tier-field", [Cl.stringAscii("buyer"), Cl.stringAscii("flexible"), Cl.stringAscii("active"), Cl.uint(0)], A.deployer));
    h.expectErr(h.createPolicy(h.quote({ buyerTier: "flexible" })), 413);
    h.expectErr(h.createPolicy(h.quote({ token: "ETH", premium: 1000n })), 417);
    expect(h.plain(h.roCV(C.registry, "quote-terms", [Cl.stringAscii("ETH"), Cl.stringAscii("standard"), Cl.uint(1), Cl.uint(1)]))).toEqual({ err: 417n });
  });

  it("ITM strike and L-1: the premium covers intrinsic value plus the adjusted time-value floor", () => {
    const strike = (h.BTC0 * 12n) / 10n;
    const t = h.quoteTerms("STX", "standard", strike, 10_000_000n);
    expect(t.intrinsic).toBe(600_000_000n); // $1,200 at $2 = 600 STX
    h.expectErr(h.createPolicy(h.quote({ strike, premium: t.intrinsic })), 411);
    h.ok(h.createPolicy(h.quote({ strike, premium: t["min-premium"] })));
    // the audit's flexible put at 150 % of spot: intrinsic 1,500 STX, accepted at 1,350 STX in v1
    const deep = (h.BTC0 * 15n) / 10n;
    const f = h.quoteTerms("STX", "flexible", deep, 10_000_000n);
    expect(f.intrinsic).toBe(1_500_000_000n);
    expect(f["min-premium"]).toBe(f.intrinsic + (((f["max-payout"] * 10n + 9999n) / 10000n) * 9000n + 9999n) / 10000n);
    h.expectErr(h.createPolicy(h.quote({ strike: deep, buyerTier: "flexible", poolTier: "aggressive", premium: 1_350_000_000n })), 411);
    h.expectErr(h.createPolicy(h.quote({ strike: deep, buyerTier: "flexible", poolTier: "aggressive", premium: f.intrinsic })), 411);
    h.ok(h.createPolicy(h.quote({ strike: deep, buyerTier: "flexible", poolTier: "aggressive", premium: f["min-premium"] })));
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

  it("L-2: the expiry index is paged (no cap); owner limit (416)", () => {
    h.ok(h.setParam("policy.max-active-per-owner", 1000));
    const expiry = h.burn() + 20n;
    // v1 refused the 201st policy of an expiry (u415); the paged index keeps accepting
    for (let i = 0; i < 201; i++) h.ok(h.createPolicy(h.quote({ expiry, buyer: i % 2 ? A.b1 : A.b2, amount: 10_000n, poolTier: "aggressive" })));
    expect(h.ro(C.registry, "get-expiry-policy-count", [Cl.uint(expiry)])).toBe(201n);
    h.ok(h.createPolicy(h.quote({ expiry }))); // a normal-size policy after 201 minimum-size ones
    expect(h.ro(C.registry, "get-expiry-policy", [Cl.uint(expiry), Cl.uint(201)])).toBe(202n);
    expect(h.ro(C.registry, "get-expiry-policy", [Cl.uint(expiry), Cl.uint(202)])).toBeNull();
    h.ok(h.setParam("policy.max-active-per-owner", 101));
    h.expectErr(h.createPolicy(h.quote({ expiry: expiry + 2n })), 416); // b1 holds 100 + 1
  });

  it("vault caps through create-policy: 310 per policy, 309 utilization, 311 per expiry, 304 no pool", async () => {
    await h.freshChain();
    h.ok(h.deposit(A.p1, "STX", "conservative", 50_000_000_000n)); // 50k STX
    h.pushPrices(h.BTC0, h.STX0);
    // 0.1 BTC at 54k strike needs 4950 STX collateral (STX stressed to $1.20, × 110 %): 9.9 % of the pool (cap 10 %)
    h.ok(h.createPolicy(h.quote({ poolTier: "conservative" })));
    h.expectErr(h.createPolicy(h.quote({ poolTier: "conservative", amount: 11_000_000n })), 310);
    h.ok(h.createPolicy(h.quote({ poolTier: "conservative", expiry: h.burn() + 21n })));
    h.ok(h.createPolicy(h.quote({ poolTier: "conservative", expiry: h.burn() + 21n })));
    // 25 % per-expiry cap = 12,500 STX: a third 4950 STX policy at the same expiry (14,850) is refused
    h.expectErr(h.createPolicy(h.quote({ poolTier: "conservative", expiry: h.burn() + 21n })), 311);
    h.ok(h.createPolicy(h.quote({ poolTier: "conservative", expiry: h.burn() + 22n })));
    h.ok(h.createPolicy(h.quote({ poolTier: "conservative", expiry: h.burn() + 23n })));
    // 5 × 4950 = 24,750 locked; 50 % utilization cap of 50,000 → a sixth breaks the circuit
    h.expectErr(h.createPolicy(h.quote({ poolTier: "conservative", expiry: h.burn() + 25n })), 309);
    h.expectErr(h.createPolicy(h.quote({ poolTier: "balanced" })), 310); // empty pool: no capacity
    h.ok(h.call(C.params, "set-tier", [Cl.stringAscii("provider"), Cl.stringAscii("new"), ...[10000, 10000, 9000, 9000, 9000].map((x) => Cl.uint(x)), Cl.bool(true)], A.deployer));
    h.expectErr(h.createPolicy(h.quote({ poolTier: "new" })), 304); // tier without a pool
    h.ok(h.call(C.params, "set-tier-field", [Cl.stringAscii("provider"), Cl.stringAscii("conservative"), Cl.stringAscii("active"), Cl.uint(0)], A.deployer));
    h.expectErr(h.createPolicy(h.quote({ poolTier: "conservative", expiry: h.burn() + 26n })), 312);
    h.checkInvariants();
  });
});
