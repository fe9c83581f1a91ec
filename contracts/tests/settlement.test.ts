import { describe, it, expect, beforeEach } from "vitest";
import { Cl } from "@stacks/transactions";
import * as h from "./helpers";
const { A, C } = h;

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

  it("auth (400) and not expired (407)", () => {
    h.mineBurn(10);
    h.expectErr(h.settle(expiry, expiry, expiry, [1], A.outsider), 400);
    h.expectErr(h.settle(expiry, expiry, expiry, [1], A.submitter), 400);
    h.expectErr(h.settle(expiry, expiry, expiry, [1]), 407); // burn height == expiry: not yet past
  });

  it("ITM, OTM, sBTC, per-item errors, never twice", () => {
    h.mineBurn(10);
    const btcE = 4_800_000_000_000n, stxE = 160_000_000n; // BTC $48k, STX $1.60
    h.pushPrices(btcE, stxE);
    const ph = h.burn();
    h.mineBurn(1);
    const b1 = h.tokenBalance("STX", A.b1), b2 = h.tokenBalance("sBTC", A.b2);
    const p1 = h.policy(1), p2 = h.policy(2), p3 = h.policy(3);
    const r = h.settle(expiry, ph, ph, [1, 2, 3, 4, 99, 1]);
    const pay1 = h.payoutOf(p1.strike, p1.amount, btcE, "STX", stxE, p1.collateral);
    const pay2 = h.payoutOf(p2.strike, p2.amount, btcE, "sBTC", btcE, p2.collateral);
    expect(pay1).toBe(375_000_000n);   // $600 / $1.60
    expect(pay2).toBe(1_250_000n);     // $600 / $48k in sats
    expect(h.ok(r)).toEqual([{ ok: pay1 }, { ok: pay2 }, { ok: 0n }, { err: 418n }, { err: 405n }, { err: 406n }]);
    const evs = h.prints(r);
    expect(evs.map((e) => [e.event, e["policy-id"], e.status])).toEqual([
      ["policy-settled", 1n, "settled-itm"], ["policy-settled", 2n, "settled-itm"], ["policy-settled", 3n, "settled-otm"]]);
    expect(evs[0]).toMatchObject({ owner: A.b1, token: "STX", tier: "balanced", payout: pay1, released: p1.collateral - pay1,
      "settlement-price": btcE, "settlement-price-height": ph, "collateral-price": stxE, "collateral-price-height": ph, keeper: A.keeper });
    expect(evs[1]).toMatchObject({ token: "sBTC", "collateral-price": btcE, payout: pay2 });
    expect(evs[2]).toMatchObject({ payout: 0n, released: p3.collateral });
    expect(h.tokenBalance("STX", A.b1)).toBe(b1 + pay1);
    expect(h.tokenBalance("sBTC", A.b2)).toBe(b2 + pay2);
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

  it("payout is capped at the locked collateral", () => {
    h.mineBurn(10);
    h.ok(h.submitPrice("BTC", 100_000_000n)); // BTC $1
    h.ok(h.submitPrice("STX", 1_000_000n));   // STX $0.01: payout would be 100× the collateral
    const ph = h.burn();
    h.mineBurn(1);
    const p1 = h.policy(1);
    expect(h.ok(h.settle(expiry, ph, ph, [1]))).toEqual([{ ok: p1.collateral }]);
    expect(h.pool("STX", "balanced")!.locked).toBe(h.policy(3).collateral + h.policy(4).collateral);
    h.checkInvariants();
  });

  it("bad price heights are per-item errors: 204 none, 205 not first, 207 not final, 206 too late", () => {
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
    expect(h.ok(h.settle(expiry, ph, ph2, [1, 2]))).toEqual([{ err: 205n }, { ok: h.payoutOf(h.policy(2).strike, h.policy(2).amount, 5_000_000_000_000n, "sBTC", 5_000_000_000_000n, h.policy(2).collateral) }]);
    h.ok(h.setParam("settle.max-price-delay-blocks", 0));
    expect(h.ok(h.settle(expiry, ph, ph, [1]))).toEqual([{ err: 206n }]);
    h.checkInvariants();
  });

  it("a full batch of 50 settles in one call", async () => {
    await h.freshChain();
    h.market({ stx: 20_000_000_000_000n });
    h.ok(h.setParam("policy.max-active-per-owner", 100));
    const e = h.burn() + 10n;
    for (let i = 0; i < 51; i++) h.ok(h.createPolicy(h.quote({ expiry: e, poolTier: "aggressive", amount: 100_000n })));
    expect(h.ro(C.registry, "get-expiry-policies", [Cl.uint(e)])).toHaveLength(51);
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
