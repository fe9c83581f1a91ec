// Full lifecycle across all contracts with the accounting invariants checked after every step:
// deposit → quote → create → oracle prices → expiry ITM and OTM → payouts, releases →
// provider withdrawals with earned premium. Also checks EVENTS.md against every event emitted.
import { describe, it, expect, beforeAll } from "vitest";
import { Cl } from "@stacks/transactions";
import { readFileSync } from "node:fs";
import * as h from "./helpers";
const { A, C } = h;

const ledger = new Map<string, bigint>();
const settled = new Map<bigint, number>();
const seen = new Map<string, Set<string>>();
function track(r: h.Res) {
  for (const e of h.prints(r)) {
    const keys = new Set(Object.keys(e));
    const prev = seen.get(e.event);
    if (prev) expect([...keys].sort()).toEqual([...prev].sort()); // one shape per event name
    seen.set(e.event, keys);
    const k = `${e.token}/${e.tier}`;
    if (e.event === "pool-deposit") ledger.set(k, (ledger.get(k) ?? 0n) + e.amount);
    if (e.event === "pool-withdraw") ledger.set(k, ledger.get(k)! - e.amount);
    if (e.event === "policy-created") ledger.set(k, ledger.get(k)! + e.premium);
    if (e.event === "policy-settled") {
      ledger.set(k, ledger.get(k)! - e.payout);
      settled.set(e["policy-id"], (settled.get(e["policy-id"]) ?? 0) + 1);
    }
    if (["pool-deposit", "pool-withdraw", "policy-created", "policy-settled"].includes(e.event))
      expect(e["pool-assets"]).toBe(ledger.get(k)); // the event's totals are the ledger's
  }
  return r;
}
const step = (r: h.Res) => { track(r); h.checkInvariants({ ledger, settledEvents: settled }); return r; };

describe("lifecycle", () => {
  beforeAll(async () => { await h.freshChain(); });

  it("deposit → create → prices → expiry ITM/OTM → payouts/releases → withdraw with premium", () => {
    h.checkInvariants({ ledger, settledEvents: settled });
    step(h.deposit(A.p1, "STX", "balanced", 40_000_000_000n));  // 40k STX
    step(h.deposit(A.p2, "STX", "balanced", 20_000_000_000n));  // 20k STX
    step(h.deposit(A.p3, "sBTC", "aggressive", 300_000_000n));  // 3 BTC
    step(h.submitPrice("BTC", h.BTC0));
    step(h.submitPrice("STX", h.STX0));
    h.mineBurn(1);
    const e1 = h.burn() + 12n, e2 = h.burn() + 24n;
    const qs = [
      h.quote({ expiry: e1, buyer: A.b1, amount: 5_000_000n }),                                    // 1 STX, ITM at e1
      h.quote({ expiry: e1, buyer: A.b2, strike: (h.BTC0 * 7n) / 10n, amount: 5_000_000n }),         // 2 STX, OTM
      h.quote({ expiry: e2, buyer: A.b1, token: "sBTC", poolTier: "aggressive", amount: 20_000_000n }), // 3 sBTC, ITM at e2
      h.quote({ expiry: e2, buyer: A.b2, token: "sBTC", poolTier: "aggressive", buyerTier: "conservative", strike: (h.BTC0 * 6n) / 10n }), // 4 OTM
    ];
    const premiums = { STX: 0n, sBTC: 0n } as Record<string, bigint>;
    qs.forEach((q, i) => {
      expect(h.ok(step(h.createPolicy(q, undefined, q.buyer)))).toBe(BigInt(i + 1));
      premiums[q.token] += q.premium;
    });
    // prices move; the guard needs small steps within a few blocks
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
    // too early: same burn block as the price
    h.expectErr(h.settle(e1, ph1, ph1, [1, 2]), 407);
    h.mineBurn(1);
    const bal1 = h.tokenBalance("STX", A.b1), bal2 = h.tokenBalance("STX", A.b2);
    const r1 = step(h.settle(e1, ph1, ph1, [1, 2, 3]));
    const p1 = h.policy(1);
    const pay1 = h.payoutOf(p1.strike, p1.amount, btcE1, "STX", stxE1, p1.collateral);
    expect(h.ok(r1)).toEqual([{ ok: pay1 }, { ok: 0n }, { err: 418n }]);
    expect(pay1).toBe(117_647_058n); // (54k − 50k) × 0.05 BTC = $200 at $1.70 = 117.647058 STX
    expect(h.tokenBalance("STX", A.b1)).toBe(bal1 + pay1);
    expect(h.tokenBalance("STX", A.b2)).toBe(bal2);
    expect(h.pool("STX", "balanced")!.locked).toBe(0n);
    // second expiry: the price keeper pushes a bit late; still the first price after e2
    h.mineBurn(Number(e2 - h.burn()) + 2);
    const btcE2 = 5_100_000_000_000n;
    step(h.submitPrice("BTC", btcE2));
    step(h.submitPrice("STX", 180_000_000n));
    const ph2 = h.burn();
    h.mineBurn(1);
    const r2 = step(h.settle(e2, ph2, 0n, [3, 4]));
    const p3 = h.policy(3);
    const pay3 = h.payoutOf(p3.strike, p3.amount, btcE2, "sBTC", btcE2, p3.collateral);
    expect(h.ok(r2)).toEqual([{ ok: pay3 }, { ok: 0n }]);
    expect(pay3).toBe(1_176_470n); // $600 / $51k per BTC in sats
    // repeated settlement is harmless
    expect(h.ok(step(h.settle(e1, ph1, ph1, [1, 2])))).toEqual([{ err: 406n }, { err: 406n }]);
    // providers withdraw everything: deposits + their share of premiums − payouts
    const stxPool = h.pool("STX", "balanced")!;
    expect(stxPool.premiums).toBe(premiums.STX);
    expect(stxPool.payouts).toBe(pay1);
    expect(stxPool.assets).toBe(60_000_000_000n + premiums.STX - pay1);
    const got: Record<string, bigint> = {};
    for (const [who, token, tier] of [[A.p1, "STX", "balanced"], [A.p2, "STX", "balanced"], [A.p3, "sBTC", "aggressive"]] as const) {
      const r = step(h.withdraw(who, token, tier, h.shares(token, tier, who)));
      got[who] = h.ok(r);
      expect(h.onePrint(r, "pool-withdraw")["provider-shares"]).toBe(0n);
    }
    const net = premiums.STX - pay1;
    expect(got[A.p1] - 40_000_000_000n).toBeGreaterThanOrEqual((net * 2n) / 3n - 2n);
    expect(got[A.p1] - 40_000_000_000n).toBeLessThanOrEqual((net * 2n) / 3n);
    expect(got[A.p2] - 20_000_000_000n).toBeGreaterThanOrEqual(net / 3n - 2n);
    expect(got[A.p3]).toBeLessThanOrEqual(300_000_000n + premiums.sBTC - pay3);
    expect(got[A.p3]).toBeGreaterThanOrEqual(300_000_000n + premiums.sBTC - pay3 - 1n);
    // rounding dust stays in the pools, backed by tokens
    expect(h.pool("STX", "balanced")!.assets).toBeLessThanOrEqual(2n);
    expect(h.pool("STX", "balanced")!.shares).toBe(0n);
  });

  it("admin and governance events complete the catalog; EVENTS.md matches the emitted fields", () => {
    step(h.call(C.params, "grant-role", [Cl.principal(A.p1), Cl.stringAscii("keeper")], A.deployer));
    step(h.call(C.params, "revoke-role", [Cl.principal(A.p1), Cl.stringAscii("keeper")], A.deployer));
    step(h.call(C.params, "set-tier", [Cl.stringAscii("buyer"), Cl.stringAscii("vip"), ...[10000, 10000, 10000, 10000, 10000].map((x) => Cl.uint(x)), Cl.bool(true)], A.deployer));
    step(h.call(C.params, "set-tier-field", [Cl.stringAscii("buyer"), Cl.stringAscii("vip"), Cl.stringAscii("active"), Cl.uint(0)], A.deployer));
    step(h.call(C.params, "set-tier", [Cl.stringAscii("provider"), Cl.stringAscii("x"), ...[10000, 10000, 10000, 10000, 10000].map((x) => Cl.uint(x)), Cl.bool(true)], A.deployer));
    h.INVARIANT_TIERS.push("x");
    step(h.call(C.vault, "create-pool", [Cl.stringAscii("STX"), Cl.stringAscii("x")], A.deployer));
    step(h.deposit(A.p1, "STX", "x", 5_000_000_000n));
    step(h.call(C.gov, "propose-param", [Cl.stringAscii("premium.min-bp"), Cl.uint(20)], A.p1));
    step(h.call(C.gov, "vote", [Cl.uint(1), Cl.bool(true)], A.p1));
    step(h.call(C.gov, "propose-param", [Cl.stringAscii("premium.min-bp"), Cl.uint(30)], A.p1));
    step(h.call(C.gov, "cancel", [Cl.uint(2)], A.p1));
    h.mineBurn(26);
    step(h.call(C.gov, "execute", [Cl.uint(1)], A.p2));

    const doc = readFileSync(new URL("../EVENTS.md", import.meta.url), "utf8");
    const catalog = new Map<string, string[]>();
    let current: string | null = null;
    for (const line of doc.split("\n")) {
      const head = line.match(/^### `([a-z-]+)`/);
      if (head) { current = head[1]; catalog.set(current, []); continue; }
      const row = line.match(/^\| `([a-z-]+)` \| ([^|]+) \|/);
      if (row && current) catalog.get(current)!.push(row[1]);
    }
    expect([...catalog.keys()].sort()).toEqual([...seen.keys()].sort());
    for (const [name, fields] of catalog) expect(fields.sort(), name).toEqual([...seen.get(name)!].sort());
    // every event carries the burn height
    for (const [name, keys] of seen) expect(keys.has("burn-height"), name).toBe(true);
  });
});
