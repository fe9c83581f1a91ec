// L-6 replayed (contracts-audit.md, "share counts explode"): a pool driven to dust starts a new
// share generation instead of multiplying its share count, and a full withdrawal after a large
// deposit works. Also: every pause flag set at once leaves withdrawals, settlement, voids and fund
// deposits working (the never-trapped guarantee).
import { describe, it, expect, beforeEach } from "vitest";
import { Cl } from "@stacks/transactions";
import * as h from "./helpers";
const { A, C } = h;
const s = Cl.stringAscii;

/** Largest amount (sats) whose collateral fits in `free` at the current prices. */
function amountFor(free: bigint, strike: bigint, tier: string): bigint {
  const perBtc = h.quoteTerms("STX", tier, strike, 100_000_000n).collateral;
  let amount = (free * 100_000_000n) / perBtc;
  while (h.quoteTerms("STX", tier, strike, amount).collateral > free) amount -= 1n;
  return amount;
}
/** One crash round on pool x: a policy backed by all free assets, prices walked down, settled. */
function wipeRound(crashBtc: bigint, crashStx: bigint) {
  const btc = h.ro(C.oracle, "get-latest", [s("BTC")]).price as bigint;
  const stx = h.ro(C.oracle, "get-latest", [s("STX")]).price as bigint;
  h.pushPrices(btc, stx);
  const p = h.pool("STX", "x")!;
  const strike = (btc * 9n) / 10n;
  const q = h.quote({ poolTier: "x", buyerTier: "conservative", strike, amount: amountFor(p.assets - p.locked, strike, "conservative") });
  h.ok(h.createPolicy(q));
  h.walkPrices(crashBtc, crashStx);
  h.mineBurn(Number(q.expiry - h.burn()));
  h.pushPrices(crashBtc, crashStx);
  h.mineBurn(1);
  const id = BigInt(h.ro(C.registry, "get-last-policy-id"));
  const r = h.settle(q.expiry, q.expiry, q.expiry, [id]);
  expect(h.ok(r)).toEqual([{ ok: h.policy(id).collateral }]); // the pool pays everything it locked
  return r;
}

describe("audit lows", () => {
  beforeEach(async () => { await h.freshChain(); });

  it("L-6: two wipes start a new generation (old shares void); a 1e13 deposit then withdraws in full", () => {
    h.ok(h.call(C.params, "set-tier", [s("provider"), s("x"), ...[10000, 10000, 10000, 10000, 10000].map((x) => Cl.uint(x)), Cl.bool(true)], A.deployer));
    h.trackTier("x");
    h.ok(h.call(C.vault, "create-pool", [s("STX"), s("x")], A.deployer));
    h.ok(h.setParam("policy.max-amount-sats", 10_000_000_000n));
    h.ok(h.setParam("premium.min-bp", 1));
    h.ok(h.deposit(A.p3, "STX", "x", 1_000_000_000_000n)); // 1M STX
    h.pushPrices(h.BTC0, h.STX0);
    const r1 = wipeRound(600_000_000_000n, 50_000_000n);   // BTC $6k, STX $0.50
    expect(h.prints(r1).some((e) => e.event === "pool-wiped")).toBe(false);
    const after1 = h.pool("STX", "x")!;
    expect(after1.shares).toBe(1_000_000_000_000n);
    expect(after1.assets * 1000n < after1.shares).toBe(true); // share price below 1e-3 of par
    const r2 = wipeRound(60_000_000_000n, 10_000_000n);     // BTC $600, STX $0.10
    const wiped = h.prints(r2).find((e) => e.event === "pool-wiped");
    const pl = h.pool("STX", "x")!;
    expect(wiped).toMatchObject({ token: "STX", tier: "x", "voided-shares": 1_000_000_000_000n, generation: 1n, "pool-assets": pl.assets });
    expect(h.eventCatalog().get("pool-wiped")!.sort()).toEqual(Object.keys(wiped).sort());
    expect(pl).toMatchObject({ shares: 0n, pending: 0n, generation: 1n });
    expect(h.shares("STX", "x", A.p3)).toBe(0n); // old-generation shares count as nothing (votes, minting)
    h.expectErr(h.requestWithdrawal(A.p3, "STX", "x", 1n), 307);
    // v1 minted 7.8e26 shares for this deposit and the full withdraw aborted with an overflow
    expect(h.ok(h.deposit(A.p1, "STX", "x", 10_000_000_000_000n))).toBe(10_000_000_000_000n);
    const got = h.ok(h.withdraw(A.p1, "STX", "x", h.shares("STX", "x", A.p1)));
    expect(got >= 10_000_000_000_000n).toBe(true); // par plus the dust the old generation left
    expect(got <= 10_000_000_000_000n + pl.assets).toBe(true);
    h.checkInvariants();
  });

  it("pause everything: new business stops with its own code; withdrawals, settlement, voids, fund deposits still work", () => {
    h.market();
    h.mineBurn(1);
    h.pushPrices(h.BTC0, h.STX0);
    h.ok(h.setParam("settle.max-price-delay-blocks", 6));
    h.ok(h.setParam("settle.void-grace-blocks", 6));
    const q1 = h.quote();
    const q2 = h.quote({ expiry: q1.expiry + 1n, buyer: A.b2 });
    h.ok(h.createPolicy(q1));
    h.ok(h.createPolicy(q2));
    for (const a of ["create-policy", "deposit", "proposals"]) h.ok(h.setPaused(a, true, A.guardian));
    h.expectErr(h.createPolicy(h.quote()), 421);
    h.expectErr(h.deposit(A.p1, "STX", "aggressive", 1n), 320);
    expect(h.ro(C.params, "is-paused", [s("proposals")])).toBe(true);
    // free funds leave immediately or by request
    h.ok(h.withdraw(A.p1, "STX", "aggressive", 1_000_000n));
    h.ok(h.requestWithdrawal(A.p1, "STX", "balanced", 1_000_000n));
    h.ok(h.fundDeposit(A.outsider, "STX", 1_000_000n));
    // expiry 1 settles; expiry 2 gets no price in its window and is voided
    h.mineBurn(Number(q1.expiry - h.burn()));
    h.pushPrices(h.BTC0, h.STX0);
    h.mineBurn(1);
    h.ok(h.settle(q1.expiry, q1.expiry, q1.expiry, [1]));
    h.mineBurn(14);
    h.ok(h.voidPolicy(2, q1.expiry, q1.expiry));
    expect(h.ok(h.executeWithdrawal(A.p1, "STX", "balanced")) >= 1_000_000n).toBe(true);
    h.checkInvariants();
  });
});
