// Full lifecycle across all contracts with the accounting invariants checked after every step:
// deposit → quote → create (fee, fund share, unearned premium) → oracle prices → withdrawal
// requests → expiry ITM and OTM → payouts, releases, earned premium → executed withdrawals;
// then admin, governance, pause, treasury, fund cover after an STX crash and a void. Also checks
// EVENTS.md against every event emitted, field by field.
import { describe, it, expect, beforeAll } from "vitest";
import { Cl } from "@stacks/transactions";
import * as h from "./helpers";
const { A, C } = h;

const ledger = new h.Ledger();
const seen = new Map<string, Set<string>>();
function step(r: h.Res) {
  for (const e of h.prints(r)) {
    const keys = new Set(Object.keys(e));
    const prev = seen.get(e.event);
    if (prev) expect([...keys].sort(), e.event).toEqual([...prev].sort()); // one shape per event name
    seen.set(e.event, keys);
  }
  ledger.track(r);
  h.checkInvariants(ledger);
  return r;
}

describe("lifecycle", () => {
  beforeAll(async () => { await h.freshChain(); });

  it("deposit → create → request withdrawal → expiry ITM/OTM → payouts/releases → withdraw with earned premium", () => {
    h.checkInvariants(ledger);
    step(h.deposit(A.p1, "STX", "balanced", 40_000_000_000n));  // 40k STX
    step(h.deposit(A.p2, "STX", "balanced", 20_000_000_000n));  // 20k STX
    step(h.deposit(A.p3, "sBTC", "aggressive", 300_000_000n));  // 3 BTC
    step(h.submitPrice("BTC", h.BTC0));
    step(h.submitPrice("STX", h.STX0));
    h.mineBurn(1);
    step(h.submitPrice("BTC", h.BTC0));
    step(h.submitPrice("STX", h.STX0));
    const e1 = h.burn() + 12n, e2 = h.burn() + 24n;
    const qs = [
      h.quote({ expiry: e1, buyer: A.b1, amount: 5_000_000n }),                                    // 1 STX, ITM at e1
      h.quote({ expiry: e1, buyer: A.b2, strike: (h.BTC0 * 7n) / 10n, amount: 5_000_000n }),         // 2 STX, OTM
      h.quote({ expiry: e2, buyer: A.b1, token: "sBTC", poolTier: "aggressive", amount: 20_000_000n }), // 3 sBTC, ITM at e2
      h.quote({ expiry: e2, buyer: A.b2, token: "sBTC", poolTier: "aggressive", buyerTier: "conservative", strike: (h.BTC0 * 6n) / 10n }), // 4 OTM
    ];
    const poolPremiums = { STX: 0n, sBTC: 0n } as Record<string, bigint>;
    qs.forEach((q, i) => {
      expect(h.ok(step(h.createPolicy(q)))).toBe(BigInt(i + 1));
      poolPremiums[q.token] += h.premiumSplit(q.premium).pool;
    });
    // p2 asks to leave: executable once e1 (the pool's only outstanding expiry) has settled
    expect(h.ok(step(h.requestWithdrawal(A.p2, "STX", "balanced", h.shares("STX", "balanced", A.p2))))).toBe(e1);
    step(h.requestWithdrawal(A.p1, "STX", "balanced", 1_000_000n));
    step(h.cancelWithdrawal(A.p1, "STX", "balanced"));
    h.expectErr(h.executeWithdrawal(A.p2, "STX", "balanced"), 321);
    // prices move; the guard needs small steps
    for (const [btc, stx] of [[5_700_000_000_000n, 190_000_000n], [5_300_000_000_000n, 175_000_000n]]) {
      h.mineBurn(4);
      step(h.submitPrice("BTC", btc));
      step(h.submitPrice("STX", stx));
    }
    h.mineBurn(Number(e1 - h.burn())); // now at e1: first price at/after e1 is recorded here
    const btcE1 = 5_000_000_000_000n, stxE1 = 170_000_000n;
    step(h.submitPrice("BTC", btcE1));
    step(h.submitPrice("STX", stxE1));
    const ph1 = h.burn();
    expect(ph1).toBe(e1);
    h.expectErr(h.deposit(A.p3, "STX", "balanced", 1_000_000n), 316); // e1 passed, not yet settled
    h.expectErr(h.settle(e1, ph1, ph1, [1, 2]), 407); // same burn block as the price
    h.mineBurn(1);
    const bal1 = h.tokenBalance("STX", A.b1), bal2 = h.tokenBalance("STX", A.b2);
    const r1 = step(h.settle(e1, ph1, ph1, [1, 2, 3], A.outsider));
    const p1 = h.policy(1);
    const pay1 = h.payoutOf(p1, btcE1, stxE1);
    expect(h.ok(r1)).toEqual([{ ok: pay1 }, { ok: 0n }, { err: 418n }]);
    expect(pay1).toBe(117_647_058n); // (54k − 50k) × 0.05 BTC = $200 at $1.70 = 117.647058 STX
    expect(h.tokenBalance("STX", A.b1)).toBe(bal1 + pay1);
    expect(h.tokenBalance("STX", A.b2)).toBe(bal2);
    expect(h.pool("STX", "balanced")!.locked).toBe(0n);
    // p2 leaves with a third of the earned premium net of the payout
    const got2 = h.ok(step(h.executeWithdrawal(A.p2, "STX", "balanced")));
    const net = poolPremiums.STX - pay1;
    expect(got2 - 20_000_000_000n).toBeGreaterThanOrEqual(net / 3n - 2n);
    expect(got2 - 20_000_000_000n).toBeLessThanOrEqual(net / 3n);
    // second expiry: the price arrives a bit late; still the first price after e2
    h.mineBurn(Number(e2 - h.burn()) + 2);
    const btcE2 = 5_100_000_000_000n;
    step(h.submitPrice("BTC", btcE2));
    step(h.submitPrice("STX", 180_000_000n));
    const ph2 = h.burn();
    h.mineBurn(1);
    const r2 = step(h.settle(e2, ph2, 0n, [3, 4]));
    const pay3 = h.payoutOf(h.policy(3), btcE2, btcE2);
    expect(h.ok(r2)).toEqual([{ ok: pay3 }, { ok: 0n }]);
    expect(pay3).toBe(1_176_470n); // $600 / $51k per BTC in sats
    expect(h.ok(step(h.settle(e1, ph1, ph1, [1, 2])))).toEqual([{ err: 406n }, { err: 406n }]);
    const stxPool = h.pool("STX", "balanced")!;
    expect(stxPool.premiums).toBe(poolPremiums.STX);
    expect(stxPool.payouts).toBe(pay1);
    // the remaining providers withdraw everything at once: nothing is outstanding
    const got1 = h.ok(step(h.withdraw(A.p1, "STX", "balanced", h.shares("STX", "balanced", A.p1))));
    expect(got1 - 40_000_000_000n).toBeGreaterThanOrEqual((net * 2n) / 3n - 2n);
    expect(got1 - 40_000_000_000n).toBeLessThanOrEqual((net * 2n) / 3n + 1n);
    const got3 = h.ok(step(h.withdraw(A.p3, "sBTC", "aggressive", h.shares("sBTC", "aggressive", A.p3))));
    expect(got3).toBeLessThanOrEqual(300_000_000n + poolPremiums.sBTC - pay3);
    expect(got3).toBeGreaterThanOrEqual(300_000_000n + poolPremiums.sBTC - pay3 - 1n);
    // rounding dust stays in the pools, backed by tokens
    expect(h.pool("STX", "balanced")!.assets).toBeLessThanOrEqual(2n);
    expect(h.pool("STX", "balanced")!.shares).toBe(0n);
  });

  it("admin, governance, pause, treasury, fund cover after an STX crash and a void complete the catalog", () => {
    step(h.call(C.params, "grant-role", [Cl.principal(A.p1), Cl.stringAscii("guardian")], A.deployer));
    step(h.setPaused("deposit", true, A.p1));
    step(h.setPaused("deposit", false));
    step(h.call(C.params, "revoke-role", [Cl.principal(A.p1), Cl.stringAscii("guardian")], A.deployer));
    step(h.call(C.params, "set-tier", [Cl.stringAscii("buyer"), Cl.stringAscii("vip"), ...[10000, 10000, 10000, 10000, 10000].map((x) => Cl.uint(x)), Cl.bool(true)], A.deployer));
    step(h.call(C.params, "set-tier-field", [Cl.stringAscii("buyer"), Cl.stringAscii("vip"), Cl.stringAscii("active"), Cl.uint(0)], A.deployer));
    step(h.call(C.params, "set-tier", [Cl.stringAscii("provider"), Cl.stringAscii("x"), ...[10000, 10000, 10000, 10000, 10000].map((x) => Cl.uint(x)), Cl.bool(true)], A.deployer));
    h.INVARIANT_TIERS.push("x");
    step(h.call(C.vault, "create-pool", [Cl.stringAscii("STX"), Cl.stringAscii("x")], A.deployer));
    step(h.deposit(A.p1, "STX", "x", 50_000_000_000n));
    step(h.call(C.gov, "propose-param", [Cl.stringAscii("premium.min-bp"), Cl.uint(20)], A.p1));
    step(h.call(C.gov, "vote", [Cl.uint(1), Cl.bool(true)], A.p1));
    step(h.call(C.gov, "propose-param", [Cl.stringAscii("premium.min-bp"), Cl.uint(30)], A.p1));
    step(h.call(C.gov, "cancel", [Cl.uint(2)], A.p1));
    h.mineBurn(26);
    step(h.call(C.gov, "execute", [Cl.uint(1)], A.p2));
    // treasury: fees from the first test, disbursed by the admin only
    const fees = h.treasury("STX").balance;
    expect(fees > 0n).toBe(true);
    h.expectErr(h.call(C.treasury, "disburse", [Cl.stringAscii("STX"), Cl.uint(1), Cl.principal(A.p1)], A.p1), 600);
    step(h.call(C.treasury, "disburse", [Cl.stringAscii("STX"), Cl.uint(fees / 2n), Cl.principal(A.outsider)], A.deployer));
    step(h.fundDeposit(A.outsider, "STX", 1_000_000_000n));
    // a policy whose oracle goes silent past its delay is voided: collateral back, pool premium refunded
    step(h.setParam("settle.max-price-delay-blocks", 6));
    step(h.setParam("settle.void-grace-blocks", 6));
    step(h.submitPrice("BTC", 5_100_000_000_000n));
    step(h.submitPrice("STX", 180_000_000n));
    const ev = h.burn() + 6n;
    h.ok(step(h.createPolicy(h.quote({ expiry: ev, poolTier: "x" }))));
    const vid = BigInt(h.ro(C.registry, "get-last-policy-id"));
    h.mineBurn(13);
    step(h.submitPrice("BTC", 5_100_000_000_000n)); // 7 blocks after expiry + 6: too late to settle
    step(h.submitPrice("STX", 180_000_000n));
    const late = h.burn();
    h.mineBurn(1);
    expect(h.ok(h.settle(ev, late, late, [vid]))).toEqual([{ err: 206n }]);
    h.expectErr(h.voidPolicy(vid, late, late), 422); // void-after = expiry + 6 + 6 not yet passed
    h.mineBurn(5);
    const b1 = h.tokenBalance("STX", A.b1);
    const v = step(h.voidPolicy(vid, late, late));
    expect(h.onePrint(v, "policy-voided")).toMatchObject({ "policy-id": vid, refund: h.policy(vid)["pool-premium"], "missing-asset": "BTC" });
    expect(h.tokenBalance("STX", A.b1)).toBe(b1 + h.policy(vid)["pool-premium"]);
    // STX crashes with BTC: the capped payout is topped up by the fund
    step(h.submitPrice("BTC", 5_100_000_000_000n));
    step(h.submitPrice("STX", 180_000_000n));
    const ec = h.burn() + 12n;
    h.ok(step(h.createPolicy(h.quote({ expiry: ec, poolTier: "x" }))));
    const cid = vid + 1n;
    h.walkPrices(1_500_000_000_000n, 20_000_000n); // BTC $15k, STX $0.20
    h.mineBurn(Number(ec - h.burn()));
    step(h.submitPrice("BTC", 1_500_000_000_000n));
    step(h.submitPrice("STX", 20_000_000n));
    h.mineBurn(1);
    const s = step(h.settle(ec, ec, ec, [cid]));
    expect(h.prints(s).map((e) => e.event)).toEqual(["fund-cover", "policy-settled"]);
    expect(h.policy(cid)["fund-cover"] > 0n).toBe(true);

    const catalog = h.eventCatalog();
    const wipedOnly = ["pool-wiped"]; // emitted by tests/audit-lows.test.ts (L-6), checked there against this catalog
    expect([...catalog.keys()].filter((k) => !wipedOnly.includes(k)).sort()).toEqual([...seen.keys()].sort());
    for (const [name, keys] of seen) expect(catalog.get(name)!.sort(), name).toEqual([...keys].sort());
    for (const [name, keys] of seen) expect(keys.has("burn-height"), name).toBe(true);
  });
});
