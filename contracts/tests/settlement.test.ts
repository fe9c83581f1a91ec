import { describe, it, expect, beforeEach } from "vitest";
import { Cl } from "@stacks/transactions";
import * as h from "./helpers";
const { A, C } = h;
const settledEvents = (r: h.Res) => h.prints(r).filter((e) => e.event === "policy-settled");

describe("bithedge-policy-registry: settle-expired", () => {
  let expiry: bigint;
  beforeEach(async () => {
    await h.freshChain();
    h.market();
    expiry = h.burn() + 10n;
    h.ok(h.createPolicy(h.quote({ expiry })));                                     // 1 STX, strike 54k
    h.ok(h.createPolicy(h.quote({ expiry, token: "sBTC", buyer: A.b2 }), undefined, A.b2)); // 2 sBTC, strike 54k
    h.ok(h.createPolicy(h.quote({ expiry, strike: h.BTC0 / 2n + 1n })));           // 3 STX, deep OTM
    h.ok(h.createPolicy(h.quote({ expiry: expiry + 5n })));                         // 4 other expiry
  });

  it("M-3: anyone settles (owner, outsider); not before expiry (407)", () => {
    h.mineBurn(10);
    h.expectErr(h.settle(expiry, expiry, expiry, [1], A.outsider), 407); // burn height == expiry: not yet past
    h.pushPrices(h.BTC0, h.STX0);
    const ph = h.burn();
    h.mineBurn(1);
    // the keeper is a convenience: the owner and a stranger settle with the same price proof
    const r = h.settle(expiry, ph, ph, [1], A.b1);
    expect(h.ok(r)).toEqual([{ ok: 0n }]);
    expect(settledEvents(r)[0]).toMatchObject({ settler: A.b1, status: "settled-otm" });
    expect(h.ok(h.settle(expiry, ph, ph, [2, 3], A.outsider))).toEqual([{ ok: 0n }, { ok: 0n }]);
    h.checkInvariants();
  });

  it("ITM, OTM, sBTC, per-item errors, never twice; premium earned at settlement", () => {
    h.mineBurn(10);
    const btcE = 4_800_000_000_000n, stxE = 160_000_000n; // BTC $48k, STX $1.60
    h.pushPrices(btcE, stxE);
    const ph = h.burn();
    h.mineBurn(1);
    const b1 = h.tokenBalance("STX", A.b1), b2 = h.tokenBalance("sBTC", A.b2);
    const p1 = h.policy(1), p2 = h.policy(2), p3 = h.policy(3);
    const before = h.pool("STX", "balanced")!;
    const r = h.settle(expiry, ph, ph, [1, 2, 3, 4, 99, 1]);
    const pay1 = h.payoutOf(p1, btcE, stxE), pay2 = h.payoutOf(p2, btcE, btcE);
    expect(pay1).toBe(375_000_000n);   // $600 / $1.60
    expect(pay2).toBe(1_250_000n);     // $600 / $48k in sats
    expect(h.ok(r)).toEqual([{ ok: pay1 }, { ok: pay2 }, { ok: 0n }, { err: 418n }, { err: 405n }, { err: 406n }]);
    const evs = h.prints(r);
    expect(evs.map((e) => [e.event, e["policy-id"], e.status])).toEqual([
      ["policy-settled", 1n, "settled-itm"], ["policy-settled", 2n, "settled-itm"], ["policy-settled", 3n, "settled-otm"]]);
    expect(evs[0]).toMatchObject({ owner: A.b1, token: "STX", tier: "balanced", payout: pay1, "uncapped-payout": pay1, shortfall: 0n,
      "fund-cover": 0n, released: p1.collateral - pay1, "pool-premium": p1["pool-premium"],
      "settlement-price": btcE, "settlement-price-height": ph, "collateral-price": stxE, "collateral-price-height": ph, settler: A.keeper });
    expect(evs[1]).toMatchObject({ token: "sBTC", "collateral-price": btcE, payout: pay2 });
    expect(evs[2]).toMatchObject({ payout: 0n, released: p3.collateral });
    expect(h.tokenBalance("STX", A.b1)).toBe(b1 + pay1);
    expect(h.tokenBalance("sBTC", A.b2)).toBe(b2 + pay2);
    const after = h.pool("STX", "balanced")!;
    expect(after.assets).toBe(before.assets + p1["pool-premium"] + p3["pool-premium"] - pay1);
    expect(after.unearned).toBe(h.policy(4)["pool-premium"]);
    expect(h.policy(1)).toMatchObject({ status: "settled-itm", payout: pay1, "settlement-price": btcE, "settlement-collateral-price": stxE });
    expect(h.policy(3)).toMatchObject({ status: "settled-otm", payout: 0n });
    h.checkInvariants();
    // repeat and late calls are harmless per-item errors
    h.mineBurn(20);
    const again = h.settle(expiry, ph, ph, [1, 2, 3]);
    expect(h.ok(again)).toEqual([{ err: 406n }, { err: 406n }, { err: 406n }]);
    expect(again.events).toEqual([]);
    h.checkInvariants();
  });

  it("H-3: a payout capped at the collateral is topped up by the insurance fund as far as it holds", () => {
    h.walkPrices(600_000_000_000n, 2_000_000n); // BTC $6,000, STX $0.02: STX far below its 60 % stress price
    h.ok(h.fundDeposit(A.outsider, "STX", 300_000_000_000n)); // 300k STX in the fund
    h.mineBurn(Number(expiry - h.burn()));
    h.pushPrices(600_000_000_000n, 2_000_000n);
    const ph = h.burn();
    h.mineBurn(1);
    const p1 = h.policy(1), p3 = h.policy(3);
    const fundBefore = h.fund("STX").balance;
    const t1 = h.payoutTerms("STX", p1.strike, p1.amount, 600_000_000_000n, 2_000_000n, p1.collateral);
    expect(t1.payout).toBe(p1.collateral);
    expect(t1.uncapped).toBe(240_000_000_000n); // ($54k − $6k) × 0.1 BTC / $0.02 = 240,000 STX
    const b1 = h.tokenBalance("STX", A.b1);
    const r = h.settle(expiry, ph, ph, [1, 3]);
    const [c1, s1, c3, s3] = h.prints(r);
    expect([c1.event, s1.event, c3.event, s3.event]).toEqual(["fund-cover", "policy-settled", "fund-cover", "policy-settled"]);
    expect(c1).toMatchObject({ "policy-id": 1n, recipient: A.b1, shortfall: t1.shortfall, covered: t1.shortfall, uncovered: 0n });
    expect(s1).toMatchObject({ payout: p1.collateral, "uncapped-payout": t1.uncapped, shortfall: t1.shortfall, "fund-cover": t1.shortfall });
    // policy 3 (strike $30k) takes what is left: partly covered, the rest stated as uncovered
    const t3 = h.payoutTerms("STX", p3.strike, p3.amount, 600_000_000_000n, 2_000_000n, p3.collateral);
    const left = fundBefore - t1.shortfall;
    expect(t3.shortfall > left).toBe(true);
    expect(c3).toMatchObject({ shortfall: t3.shortfall, covered: left, uncovered: t3.shortfall - left, balance: 0n });
    expect(h.tokenBalance("STX", A.b1)).toBe(b1 + t1.uncapped + p3.collateral + left);
    expect(h.fund("STX").balance).toBe(0n);
    h.checkInvariants();
  });

  it("bad price heights are per-item errors: 204 none, 205 not first, 207 not final, 206 later than the policy's delay", () => {
    h.mineBurn(11);
    h.pushPrices(5_000_000_000_000n, 200_000_000n);
    const ph = h.burn();
    expect(h.ok(h.settle(expiry, ph, ph, [1]))).toEqual([{ err: 207n }]);
    h.mineBurn(1);
    h.pushPrices(5_000_000_000_000n, 200_000_000n);
    const ph2 = h.burn();
    h.mineBurn(1);
    expect(h.ok(h.settle(expiry, ph2, ph, [1]))).toEqual([{ err: 205n }]);
    expect(h.ok(h.settle(expiry, ph + 100n, ph, [1]))).toEqual([{ err: 204n }]);
    // sBTC policies need no STX price: a bad STX height does not matter to them
    const p2 = h.policy(2);
    expect(h.ok(h.settle(expiry, ph, ph2, [1, 2]))).toEqual([{ err: 205n }, { ok: h.payoutOf(p2, 5_000_000_000_000n, 5_000_000_000_000n) }]);
    // M-2: the delay was fixed at creation; lowering the parameter later changes nothing
    h.ok(h.setParam("settle.max-price-delay-blocks", 6));
    expect(h.ok(h.settle(expiry, ph, ph, [1]))).toEqual([{ ok: h.payoutOf(h.policy(1), 5_000_000_000_000n, 200_000_000n) }]);
    h.checkInvariants();
  });

  it("206: a first price later than the policy's price delay does not settle it", async () => {
    await h.freshChain();
    h.market();
    h.ok(h.setParam("settle.max-price-delay-blocks", 6));
    const e = h.burn() + 10n;
    h.ok(h.createPolicy(h.quote({ expiry: e })));
    h.mineBurn(17); // first price 7 blocks after expiry
    h.pushPrices(h.BTC0, h.STX0);
    const ph = h.burn();
    h.mineBurn(1);
    expect(ph - e).toBe(7n);
    h.ok(h.setParam("settle.max-price-delay-blocks", 144)); // raising it later does not help either
    expect(h.ok(h.settle(e, ph, ph, [1]))).toEqual([{ err: 206n }]);
  });

  it("a full batch of 50 settles in one call", async () => {
    await h.freshChain();
    h.market({ stx: 20_000_000_000_000n });
    h.ok(h.setParam("policy.max-active-per-owner", 100));
    const e = h.burn() + 10n;
    for (let i = 0; i < 51; i++) h.ok(h.createPolicy(h.quote({ expiry: e, poolTier: "aggressive", amount: 100_000n })));
    expect(h.ro(C.registry, "get-expiry-policy-count", [Cl.uint(e)])).toBe(51n);
    h.mineBurn(10);
    h.pushPrices(h.BTC0, h.STX0);
    const ph = h.burn();
    h.mineBurn(1);
    const ids = Array.from({ length: 50 }, (_, i) => i + 1);
    const r = h.settle(e, ph, ph, ids);
    expect(h.ok(r)).toHaveLength(50);
    expect(h.prints(r)).toHaveLength(50);
    expect(() => h.settle(e, ph, ph, Array.from({ length: 51 }, (_, i) => i + 1))).toThrow();
    expect(h.ok(h.settle(e, ph, ph, [51]))).toEqual([{ ok: 0n }]);
    h.checkInvariants();
  });
});
