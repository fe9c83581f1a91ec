// H-1 replayed with the audit's numbers (contracts-audit.md, "H-1"): loss dodging, JIT premium
// sniping and the late depositor. In v2 none of them moves value between providers.
import { describe, it, expect, beforeEach } from "vitest";
import * as h from "./helpers";
const { A } = h;
const STX = (n: number) => BigInt(Math.round(n * 1e6));

describe("audit H-1: no LP dodges a known loss or takes premium without exposure", () => {
  beforeEach(async () => { await h.freshChain(); });

  it("loss dodging: p1's exit in the expiry-price block is queued; p1 and p2 lose the same", () => {
    h.ok(h.deposit(A.p1, "STX", "balanced", STX(10_000)));
    h.ok(h.deposit(A.p2, "STX", "balanced", STX(10_000)));
    h.pushPrices(h.BTC0, h.STX0);
    // four puts at $54k locking 11,880 STX (59.4 %); v2 collateral is sized at the stressed STX
    // price, so 0.06 BTC each locks the audit's 2,970 STX; two expiries (per-expiry cap 40 %)
    const e1 = h.burn() + 12n, e2 = e1 + 1n;
    for (const [i, e] of [e1, e1, e2, e2].entries())
      h.ok(h.createPolicy(h.quote({ expiry: e, buyer: i % 2 ? A.b1 : A.b2, amount: 6_000_000n, strike: 5_400_000_000_000n })));
    expect(h.pool("STX", "balanced")!.locked).toBe(STX(11_880));
    // BTC steps down to $30k within the guard
    for (const p of [5_400_000_000_000n, 4_860_000_000_000n, 4_374_000_000_000n, 3_936_600_000_000n, 3_542_940_000_000n, 3_188_646_000_000n, 3_000_000_000_000n]) {
      h.mineBurn(1);
      h.ok(h.submitPrice("BTC", p));
    }
    h.mineBurn(Number(e1 - h.burn()));
    h.pushPrices(3_000_000_000_000n, h.STX0); // the expiry price is written: the loss is known
    // v1 let p1 withdraw 8,141.6 STX here; now the immediate path is closed and a request waits
    h.expectErr(h.withdraw(A.p1, "STX", "balanced", h.shares("STX", "balanced", A.p1)), 317);
    expect(h.ok(h.requestWithdrawal(A.p1, "STX", "balanced", h.shares("STX", "balanced", A.p1)))).toBe(e2);
    h.expectErr(h.executeWithdrawal(A.p1, "STX", "balanced"), 321);
    h.mineBurn(1);
    h.ok(h.settle(e1, e1, e1, [1, 2]));
    h.expectErr(h.executeWithdrawal(A.p1, "STX", "balanced"), 321); // e2 still outstanding
    h.pushPrices(3_000_000_000_000n, h.STX0);
    h.mineBurn(1);
    h.ok(h.settle(e2, e2, e2, [3, 4]));
    const payouts = h.pool("STX", "balanced")!.payouts;
    expect(payouts).toBe(STX(2_880)); // 4 × ($54k − $30k) × 0.06 BTC / $2
    const got1 = h.ok(h.executeWithdrawal(A.p1, "STX", "balanced"));
    const pl = h.pool("STX", "balanced")!;
    expect(pl.locked * 10000n <= pl.assets * 7000n).toBe(true);
    const got2 = h.ok(h.withdraw(A.p2, "STX", "balanced", h.shares("STX", "balanced", A.p2)));
    // v1: p1 lost 744.4 STX and p2 4,034.0 STX; now both bear half of the net loss, within rounding
    const loss1 = STX(10_000) - got1, loss2 = STX(10_000) - got2;
    expect(loss1 > 0n).toBe(true);
    expect(loss1 - loss2 <= 1n && loss2 - loss1 <= 1n).toBe(true);
    h.checkInvariants();
  });

  it("JIT sniping: a deposit held for one transaction around create-policy cannot leave, and one after it earns nothing", () => {
    h.ok(h.deposit(A.p1, "STX", "balanced", STX(10_000)));
    h.pushPrices(h.BTC0, h.STX0);
    // p2 deposits 100,000 STX just before the buyer's create-policy...
    h.ok(h.deposit(A.p2, "STX", "balanced", STX(100_000)));
    const q = h.quote({ amount: 4_000_000n });
    h.ok(h.createPolicy(q));
    // ...and cannot withdraw right after: the policy is outstanding
    h.expectErr(h.withdraw(A.p2, "STX", "balanced", h.shares("STX", "balanced", A.p2)), 317);
    h.ok(h.requestWithdrawal(A.p2, "STX", "balanced", h.shares("STX", "balanced", A.p2)));
    h.expectErr(h.executeWithdrawal(A.p2, "STX", "balanced"), 321);
    // p3 arrives right after the premium was paid: the deposit is priced with the unearned premium
    h.ok(h.deposit(A.p3, "STX", "balanced", STX(100_000)));
    h.mineBurn(Number(q.expiry - h.burn()));
    h.pushPrices(h.BTC0, h.STX0); // OTM: the pool earns its premium
    h.mineBurn(1);
    h.ok(h.settle(q.expiry, q.expiry, q.expiry, [1]));
    const pool = h.premiumSplit(q.premium).pool;
    const got2 = h.ok(h.executeWithdrawal(A.p2, "STX", "balanced")) - STX(100_000);
    const got3 = h.ok(h.withdraw(A.p3, "STX", "balanced", h.shares("STX", "balanced", A.p3))) - STX(100_000);
    const got1 = h.ok(h.withdraw(A.p1, "STX", "balanced", h.shares("STX", "balanced", A.p1))) - STX(10_000);
    // p2 backed the policy until it settled, so it earns its share (10/11); p3, which came after
    // the premium, earns nothing from it; p1 gets the rest; nothing is created or lost
    expect(got3 <= 0n && got3 >= -2n).toBe(true);
    expect(got2 + got1 + got3 <= pool).toBe(true);
    expect(got2 >= (pool * 10n) / 11n - 2n).toBe(true);
    h.checkInvariants();
  });

  it("late depositor: a deposit between a passed expiry and its settlement is refused (u316)", () => {
    h.ok(h.deposit(A.p1, "STX", "balanced", STX(10_000)));
    h.pushPrices(h.BTC0, h.STX0);
    const q = h.quote({ amount: 4_000_000n });
    h.ok(h.createPolicy(q));
    h.walkPrices(5_130_000_000_000n, h.STX0); // $51.3k: the 0.04 BTC put at $54k pays 54 STX
    h.mineBurn(Number(q.expiry - h.burn()));
    h.pushPrices(5_130_000_000_000n, h.STX0); // the payout is final from here on
    h.expectErr(h.deposit(A.p2, "STX", "balanced", STX(10_000)), 316);
    h.mineBurn(1);
    h.expectErr(h.deposit(A.p2, "STX", "balanced", STX(10_000)), 316);
    expect(h.ok(h.settle(q.expiry, q.expiry, q.expiry, [1]))).toEqual([{ ok: STX(54) }]);
    h.ok(h.deposit(A.p2, "STX", "balanced", STX(10_000))); // after settlement: priced at the settled value
    expect(h.ok(h.withdraw(A.p2, "STX", "balanced", h.shares("STX", "balanced", A.p2))) >= STX(10_000) - 1n).toBe(true);
    h.checkInvariants();
  });
});
