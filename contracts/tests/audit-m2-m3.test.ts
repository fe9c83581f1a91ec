// M-2 and M-3 replayed (contracts-audit.md): a policy without a price in its window is voided and
// refunded instead of being trapped; the delay is fixed at creation; anyone settles.
import { describe, it, expect, beforeEach } from "vitest";
import { Cl } from "@stacks/transactions";
import * as h from "./helpers";
const { A } = h;

describe("audit M-2 / M-3: no funds trapped by an oracle gap or a missing keeper", () => {
  let q: h.Quote;
  beforeEach(async () => {
    await h.freshChain();
    h.ok(h.deposit(A.p1, "STX", "balanced", 30_000_000_000n));
    h.pushPrices(h.BTC0, h.STX0);
    q = h.quote({ amount: 6_000_000n }); // 2,970 STX of collateral, as in the audit
    h.ok(h.createPolicy(q));
  });

  it("oracle silent for 4321 blocks after expiry: anyone voids, collateral and slot freed, pool premium refunded", () => {
    expect(h.pool("STX", "balanced")!.locked).toBe(2_970_000_000n);
    h.mineBurn(Number(q.expiry - h.burn()) + 4321);
    h.pushPrices(h.BTC0, h.STX0); // the oracle comes back 4321 blocks late
    const late = h.burn();
    h.mineBurn(1);
    expect(h.ok(h.settle(q.expiry, late, late, [1], A.outsider))).toEqual([{ err: 206n }]);
    h.expectErr(h.voidPolicy(1, q.expiry, q.expiry), 423); // a wrong hint proves nothing
    const b1 = h.tokenBalance("STX", A.b1);
    const p = h.policy(1);
    const r = h.voidPolicy(1, late, late, A.p1); // the provider frees its own collateral
    expect(h.ok(r)).toBe(p["pool-premium"]);
    expect(h.onePrint(r, "policy-voided")).toMatchObject({ refund: p["pool-premium"], collateral: p.collateral, "missing-asset": "BTC",
      "pool-locked": 0n, "owner-active": 0n, sender: A.p1 });
    expect(h.tokenBalance("STX", A.b1)).toBe(b1 + p["pool-premium"]);
    expect(h.policy(1)).toMatchObject({ status: "voided", payout: 0n });
    expect(h.pool("STX", "balanced")!.locked).toBe(0n);
    expect(h.ro(h.C.registry, "get-owner-active", [Cl.principal(A.b1)])).toBe(0n);
    // the provider's full withdraw (u308 in v1) goes through, with nothing earned from the voided policy
    expect(h.ok(h.withdraw(A.p1, "STX", "balanced", h.shares("STX", "balanced", A.p1)))).toBe(30_000_000_000n);
    h.expectErr(h.voidPolicy(1, late, late), 406);
    h.checkInvariants();
  });

  it("void needs the window closed (u422) and no valid price (u423); with no price at all, any hint works", () => {
    h.mineBurn(Number(q.expiry - h.burn()) + 200);
    h.expectErr(h.voidPolicy(1, 0n, 0n), 422); // void-after = expiry + 144 + 144
    h.mineBurn(100);
    h.ok(h.voidPolicy(1, 0n, 0n)); // no price recorded at or after expiry
  });

  it("a valid price blocks the void; lowering the delay after expiry strands nothing (M-2)", () => {
    h.mineBurn(Number(q.expiry - h.burn()) + 10);
    h.pushPrices(5_000_000_000_000n, h.STX0); // 10 blocks late
    const ph = h.burn();
    h.ok(h.setParam("settle.max-price-delay-blocks", 6)); // v1: u206 from here on
    h.mineBurn(300);
    h.expectErr(h.voidPolicy(1, ph, ph), 423); // the policy can still settle
    // M-3: the owner settles it itself (v1: u400, keeper only)
    const r = h.settle(q.expiry, ph, ph, [1], A.b1);
    expect(h.ok(r)).toEqual([{ ok: h.payoutOf(h.policy(1), 5_000_000_000_000n, h.STX0) }]);
    h.checkInvariants();
  });
});
