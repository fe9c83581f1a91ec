import { describe, it, expect, beforeEach } from "vitest";
import { Cl } from "@stacks/transactions";
import * as h from "./helpers";
const { A, C } = h;
const s = Cl.stringAscii;

describe("bithedge-vault", () => {
  beforeEach(async () => { await h.freshChain(); });

  it("create-pool: admin, token, tier, once", async () => {
    await h.freshChain({ setup: false });
    h.expectErr(h.call(C.vault, "create-pool", [s("STX"), s("balanced")], A.outsider), 300);
    h.expectErr(h.call(C.vault, "create-pool", [s("ETH"), s("balanced")], A.deployer), 302);
    h.expectErr(h.call(C.vault, "create-pool", [s("STX"), s("nope")], A.deployer), 312);
    const e = h.onePrint(h.call(C.vault, "create-pool", [s("STX"), s("balanced")], A.deployer), "pool-created");
    expect(e).toMatchObject({ token: "STX", tier: "balanced", sender: A.deployer });
    h.expectErr(h.call(C.vault, "create-pool", [s("STX"), s("balanced")], A.deployer), 303);
    expect(h.pool("STX", "balanced")).toEqual({ assets: 0n, shares: 0n, locked: 0n, premiums: 0n, payouts: 0n });
  });

  it("deposit: errors, share math, events, voting power (STX only)", () => {
    h.expectErr(h.deposit(A.p1, "STX", "nope", 100n), 304);
    h.expectErr(h.deposit(A.p1, "STX", "balanced", 0n), 305);
    h.expectErr(h.deposit(A.outsider, "STX", "balanced", 1_000_000_000_000_000n), 1); // stx-transfer? insufficient funds
    const e = h.onePrint(h.deposit(A.p1, "STX", "balanced", 1_000_000n), "pool-deposit");
    expect(e).toMatchObject({ token: "STX", tier: "balanced", provider: A.p1, amount: 1_000_000n, shares: 1_000_000n,
      "provider-shares": 1_000_000n, "pool-assets": 1_000_000n, "pool-shares": 1_000_000n, "pool-locked": 0n });
    expect(h.ok(h.deposit(A.p2, "STX", "balanced", 500_000n))).toBe(500_000n);
    expect(h.ro(C.vault, "preview-deposit", [s("STX"), s("balanced"), Cl.uint(3)])).toBe(3n);
    expect(h.ro(C.vault, "preview-deposit", [s("STX"), s("nope"), Cl.uint(3)])).toBeNull();
    expect(h.ok(h.deposit(A.p3, "sBTC", "balanced", 10_000n))).toBe(10_000n);
    expect(h.ro(C.vault, "get-voting-power", [Cl.principal(A.p1)])).toBe(1_000_000n);
    expect(h.ro(C.vault, "get-voting-power", [Cl.principal(A.p3)])).toBe(0n);
    expect(h.ro(C.vault, "get-total-voting-power")).toBe(1_500_000n);
    // an inactive provider tier refuses deposits
    h.ok(h.call(C.params, "set-tier-field", [s("provider"), s("balanced"), s("active"), Cl.uint(0)], A.deployer));
    h.expectErr(h.deposit(A.p1, "STX", "balanced", 1n), 312);
    h.checkInvariants();
  });

  it("withdraw: errors, unlocked limit, rounding in favour of the pool", () => {
    h.market();
    h.ok(h.createPolicy(h.quote()));
    const p = h.pool("STX", "balanced")!;
    const mine = h.shares("STX", "balanced", A.p1);
    h.expectErr(h.withdraw(A.p1, "STX", "balanced", 0n), 306);
    h.expectErr(h.withdraw(A.p1, "STX", "balanced", mine + 1n), 307);
    h.expectErr(h.withdraw(A.p2, "STX", "balanced", 1n), 307);
    h.expectErr(h.withdraw(A.p1, "STX", "nope", 1n), 304);
    // everything but the locked collateral can leave; the locked part cannot
    h.expectErr(h.withdraw(A.p1, "STX", "balanced", mine), 308);
    const value = (sh: bigint) => (sh * (p.assets + 1n)) / (p.shares + 1n);
    const free = p.assets - p.locked;
    let lo = 0n, hi = mine; // largest share amount whose value fits in the unlocked assets
    while (lo < hi) { const mid = (lo + hi + 1n) / 2n; if (value(mid) <= free) lo = mid; else hi = mid - 1n; }
    const e = h.onePrint(h.withdraw(A.p1, "STX", "balanced", lo), "pool-withdraw");
    expect(e.amount).toBe(value(lo));
    expect(e.amount <= free).toBe(true);
    expect(e["pool-locked"]).toBe(p.locked);
    expect(e["provider-shares"]).toBe(mine - lo);
    expect(h.ro(C.vault, "preview-withdraw", [s("STX"), s("balanced"), Cl.uint(1_000_000)])).toBe((1_000_000n * (e["pool-assets"] + 1n)) / (e["pool-shares"] + 1n));
    expect(h.ro(C.vault, "preview-withdraw", [s("STX"), s("nope"), Cl.uint(1)])).toBeNull();
    h.checkInvariants();
  });

  it("registry-only functions refuse every other caller (301)", () => {
    h.market();
    for (const who of [A.deployer, A.keeper, A.b1]) {
      h.expectErr(h.call(C.vault, "lock-collateral", [s("STX"), s("balanced"), Cl.uint(100), Cl.uint(1), Cl.uint(1), Cl.principal(who)], who), 301);
      h.expectErr(h.call(C.vault, "release-collateral", [s("STX"), s("balanced"), Cl.uint(100), Cl.uint(0), Cl.uint(0), Cl.principal(who)], who), 301);
    }
    h.expectErr(h.call(C.vault, "lock-collateral", [s("STX"), s("nope"), Cl.uint(100), Cl.uint(1), Cl.uint(1), Cl.principal(A.b1)], A.b1), 304);
    h.checkInvariants();
  });

  it("premium raises the share price pro rata; holders never redeem more than assets", () => {
    h.ok(h.deposit(A.p1, "STX", "aggressive", 3_000_000_000_000n));
    h.ok(h.deposit(A.p2, "STX", "aggressive", 1_000_000_000_000n));
    h.pushPrices(h.BTC0, h.STX0);
    const q = h.quote({ poolTier: "aggressive" });
    h.ok(h.createPolicy(q));
    const pool = h.pool("STX", "aggressive")!;
    expect(pool.assets).toBe(4_000_000_000_000n + q.premium);
    expect(pool.premiums).toBe(q.premium);
    const v1 = h.ro(C.vault, "preview-withdraw", [s("STX"), s("aggressive"), Cl.uint(h.shares("STX", "aggressive", A.p1))]);
    const v2 = h.ro(C.vault, "preview-withdraw", [s("STX"), s("aggressive"), Cl.uint(h.shares("STX", "aggressive", A.p2))]);
    expect(v1 + v2 <= pool.assets).toBe(true);
    // 3/4 and 1/4 of the premium, rounded down (the virtual share may cost each holder 1 unit)
    const g1 = v1 - 3_000_000_000_000n, g2 = v2 - 1_000_000_000_000n;
    expect(g1 <= (q.premium * 3n) / 4n && g1 >= (q.premium * 3n) / 4n - 1n).toBe(true);
    expect(g2 <= q.premium / 4n && g2 >= q.premium / 4n - 1n).toBe(true);
    h.checkInvariants();
  });
});
