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
    expect(h.pool("STX", "balanced")).toEqual({ assets: 0n, unearned: 0n, shares: 0n, locked: 0n, pending: 0n, premiums: 0n,
      payouts: 0n, generation: 0n, "next-expiry": 0n });
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

  it("deposit pause: deposits fail with u320, withdrawals of free funds still work", () => {
    h.ok(h.deposit(A.p1, "STX", "aggressive", 1_000_000n));
    h.ok(h.setPaused("deposit", true, A.guardian));
    h.expectErr(h.deposit(A.p1, "STX", "aggressive", 1_000_000n), 320);
    h.ok(h.requestWithdrawal(A.p1, "STX", "aggressive", 400_000n));
    expect(h.ok(h.executeWithdrawal(A.p1, "STX", "aggressive"))).toBe(400_000n);
    expect(h.ok(h.withdraw(A.p1, "STX", "aggressive", 600_000n))).toBe(600_000n);
    h.ok(h.setPaused("deposit", false));
    h.ok(h.deposit(A.p1, "STX", "aggressive", 1_000_000n));
    h.checkInvariants();
  });

  it("withdraw: errors; immediate only while nothing is outstanding; rounding in favour of the pool", () => {
    h.market();
    h.ok(h.createPolicy(h.quote()));
    const mine = h.shares("STX", "balanced", A.p1);
    h.expectErr(h.withdraw(A.p1, "STX", "balanced", 0n), 306);
    h.expectErr(h.withdraw(A.p1, "STX", "balanced", mine + 1n), 307);
    h.expectErr(h.withdraw(A.p2, "STX", "balanced", 1n), 307);
    h.expectErr(h.withdraw(A.p1, "STX", "nope", 1n), 304);
    h.expectErr(h.withdraw(A.p1, "STX", "balanced", 1n), 317); // a policy is outstanding: request instead
    // other pools have nothing outstanding: immediate, at floor(shares · (A+1)/(S+1))
    const p = h.pool("STX", "aggressive")!;
    const e = h.onePrint(h.withdraw(A.p1, "STX", "aggressive", 333_333n), "pool-withdraw");
    expect(e.amount).toBe(h.ro(C.vault, "value-of-shares", [Cl.uint(333_333n), Cl.uint(p.assets), Cl.uint(p.shares)]));
    expect(e["provider-shares"]).toBe(p.shares - 333_333n);
    expect(h.ro(C.vault, "preview-withdraw", [s("STX"), s("aggressive"), Cl.uint(1_000_000)])).toBe((1_000_000n * (e["pool-assets"] + 1n)) / (e["pool-shares"] + 1n));
    expect(h.ro(C.vault, "preview-withdraw", [s("STX"), s("nope"), Cl.uint(1)])).toBeNull();
    h.checkInvariants();
  });

  it("request / cancel / execute: errors, after-expiry, requested value stops backing new policies", () => {
    h.market();
    const q = h.quote();
    h.ok(h.createPolicy(q));
    const mine = h.shares("STX", "balanced", A.p1);
    h.expectErr(h.requestWithdrawal(A.p1, "STX", "balanced", 0n), 306);
    h.expectErr(h.requestWithdrawal(A.p1, "STX", "balanced", mine + 1n), 307);
    h.expectErr(h.requestWithdrawal(A.p1, "STX", "nope", 1n), 304);
    h.expectErr(h.cancelWithdrawal(A.p1, "STX", "balanced"), 319);
    h.expectErr(h.executeWithdrawal(A.p1, "STX", "balanced"), 319);
    const r = h.requestWithdrawal(A.p1, "STX", "balanced", mine / 2n);
    expect(h.ok(r)).toBe(q.expiry);
    expect(h.onePrint(r, "withdrawal-requested")).toMatchObject({ provider: A.p1, shares: mine / 2n, "after-expiry": q.expiry,
      "pool-pending-shares": mine / 2n, "provider-shares": mine });
    h.expectErr(h.requestWithdrawal(A.p1, "STX", "balanced", 1n), 318);
    h.expectErr(h.withdraw(A.p1, "STX", "balanced", mine), 307); // requested shares cannot leave twice
    h.expectErr(h.executeWithdrawal(A.p1, "STX", "balanced"), 321);
    const pl = h.pool("STX", "balanced")!;
    const half = h.ro(C.vault, "value-of-shares", [Cl.uint(mine / 2n), Cl.uint(pl.assets), Cl.uint(pl.shares)]);
    expect(h.ro(C.vault, "get-backing", [s("STX"), s("balanced")])).toBe(pl.assets - half);
    const c = h.onePrint(h.cancelWithdrawal(A.p1, "STX", "balanced"), "withdrawal-cancelled");
    expect(c).toMatchObject({ shares: mine / 2n, "pool-pending-shares": 0n });
    h.ok(h.requestWithdrawal(A.p1, "STX", "balanced", mine));
    expect(h.ro(C.vault, "get-backing", [s("STX"), s("balanced")])).toBe(0n);
    h.expectErr(h.createPolicy(h.quote()), 310); // nothing backs a new policy any more
    // settle the outstanding expiry, then execute
    h.mineBurn(Number(q.expiry - h.burn()));
    h.pushPrices(h.BTC0, h.STX0);
    const ph = h.burn();
    h.mineBurn(1);
    h.ok(h.settle(q.expiry, ph, ph, [1]));
    const before = h.pool("STX", "balanced")!;
    const x = h.executeWithdrawal(A.p1, "STX", "balanced");
    const paid = h.ok(x);
    expect(paid).toBe(h.ro(C.vault, "value-of-shares", [Cl.uint(mine), Cl.uint(before.assets), Cl.uint(before.shares)]));
    expect(h.onePrint(x, "withdrawal-executed")).toMatchObject({ shares: mine, amount: paid, "after-expiry": q.expiry,
      "provider-shares": 0n, "pool-pending-shares": 0n });
    expect(paid > 1_000_000_000_000n).toBe(true); // the deposit plus the pool premium earned at settlement
    h.checkInvariants();
  });

  it("execute-withdrawal keeps locked · 10000 ≤ assets · max-utilization (u315)", () => {
    h.ok(h.deposit(A.p1, "STX", "aggressive", 100_000_000_000n));
    h.pushPrices(h.BTC0, h.STX0);
    // p1 requests everything while nothing is outstanding: executable at once (after-expiry 0)...
    expect(h.ok(h.requestWithdrawal(A.p1, "STX", "aggressive", h.shares("STX", "aggressive", A.p1)))).toBe(0n);
    // ...p2 deposits and a policy is written against p2's backing only
    h.ok(h.deposit(A.p2, "STX", "aggressive", 20_000_000_000n));
    h.ok(h.createPolicy(h.quote({ poolTier: "aggressive" })));
    expect(h.pool("STX", "aggressive")!.locked > 0n).toBe(true);
    // the tier's cap is tightened below what p2's assets alone would cover: p1's exit would breach it
    h.ok(h.call(C.params, "set-tier-field", [s("provider"), s("aggressive"), s("max-utilization-bp"), Cl.uint(1000)], A.deployer));
    h.expectErr(h.executeWithdrawal(A.p1, "STX", "aggressive"), 315);
    h.ok(h.call(C.params, "set-tier-field", [s("provider"), s("aggressive"), s("max-utilization-bp"), Cl.uint(9000)], A.deployer));
    expect(h.ok(h.executeWithdrawal(A.p1, "STX", "aggressive"))).toBe(100_000_000_000n);
    const p = h.pool("STX", "aggressive")!;
    expect(p.locked * 10000n <= p.assets * 9000n).toBe(true);
    h.checkInvariants();
  });

  it("registry-only functions refuse every other caller (301)", () => {
    h.market();
    for (const who of [A.deployer, A.keeper, A.b1]) {
      h.expectErr(h.call(C.vault, "lock-collateral", [s("STX"), s("balanced"), Cl.uint(100), Cl.uint(1), Cl.uint(1), Cl.principal(who)], who), 301);
      h.expectErr(h.call(C.vault, "release-collateral", [s("STX"), s("balanced"), Cl.uint(100), Cl.uint(0), Cl.uint(0), Cl.uint(0), Cl.bool(false), Cl.principal(who)], who), 301);
    }
    h.expectErr(h.call(C.vault, "lock-collateral", [s("STX"), s("nope"), Cl.uint(100), Cl.uint(1), Cl.uint(1), Cl.principal(A.b1)], A.b1), 304);
    h.checkInvariants();
  });

  it("H-1: the premium is unearned until settlement, then every holder gains pro rata", () => {
    h.ok(h.deposit(A.p1, "STX", "aggressive", 3_000_000_000_000n));
    h.ok(h.deposit(A.p2, "STX", "aggressive", 1_000_000_000_000n));
    h.pushPrices(h.BTC0, h.STX0);
    const q = h.quote({ poolTier: "aggressive" });
    h.ok(h.createPolicy(q));
    const split = h.premiumSplit(q.premium);
    let pool = h.pool("STX", "aggressive")!;
    expect(pool.assets).toBe(4_000_000_000_000n);
    expect(pool.unearned).toBe(split.pool);
    expect(pool.premiums).toBe(split.pool);
    const price = (sh: bigint) => h.ro(C.vault, "preview-withdraw", [s("STX"), s("aggressive"), Cl.uint(sh)]);
    expect(price(h.shares("STX", "aggressive", A.p1))).toBe(3_000_000_000_000n); // nothing earned yet
    h.mineBurn(Number(q.expiry - h.burn()));
    h.pushPrices(h.BTC0, h.STX0);
    const ph = h.burn();
    h.mineBurn(1);
    h.ok(h.settle(q.expiry, ph, ph, [1])); // OTM: the pool earns its premium
    pool = h.pool("STX", "aggressive")!;
    expect(pool.assets).toBe(4_000_000_000_000n + split.pool);
    const v1 = price(h.shares("STX", "aggressive", A.p1)), v2 = price(h.shares("STX", "aggressive", A.p2));
    expect(v1 + v2 <= pool.assets).toBe(true);
    const g1 = v1 - 3_000_000_000_000n, g2 = v2 - 1_000_000_000_000n;
    expect(g1 <= (split.pool * 3n) / 4n && g1 >= (split.pool * 3n) / 4n - 1n).toBe(true);
    expect(g2 <= split.pool / 4n && g2 >= split.pool / 4n - 1n).toBe(true);
    h.checkInvariants();
  });
});
