// H-3 replayed (contracts-audit.md, "H-3"): the sBTC put at BTC −70 % and an STX put when STX
// falls with BTC. v2 states the coverage (stress price / floor) in the quote and the event, the
// pool pays in full down to it, and the insurance fund tops up the rest as far as it holds.
import { describe, it, expect, beforeEach } from "vitest";
import * as h from "./helpers";
const { A } = h;
const settled = (r: h.Res) => h.prints(r).find((e) => e.event === "policy-settled");

describe("audit H-3: the buyer's stated worst case holds or is stated truthfully", () => {
  beforeEach(async () => { await h.freshChain(); h.market(); h.mineBurn(1); h.pushPrices(h.BTC0, h.STX0); });

  it("sBTC put, BTC $60k → $18k: capped payout + fund cover = the promised value (v1 paid 4950 bp)", () => {
    const q = h.quote({ token: "sBTC", poolTier: "aggressive", amount: 10_000_000n, strike: 5_400_000_000_000n });
    const e = h.prints(h.createPolicy(q)).find((x) => x.event === "policy-created");
    expect(e).toMatchObject({ "coverage-floor": 3_000_000_000_000n, "max-payout": 8_000_000n, collateral: 8_800_000n });
    h.ok(h.fundDeposit(A.p2, "sBTC", 20_000_000n)); // 0.2 BTC of direct deposits
    h.walkPrices(1_800_000_000_000n, h.STX0);
    h.mineBurn(Number(q.expiry - h.burn()));
    h.pushPrices(1_800_000_000_000n, h.STX0);
    h.mineBurn(1);
    const b2 = h.tokenBalance("sBTC", A.b1);
    const s = settled(h.settle(q.expiry, q.expiry, q.expiry, [1]));
    // promised ($54k − $18k) × 0.1 BTC = $3,600 = 0.2 BTC at $18k
    expect(s).toMatchObject({ "uncapped-payout": 20_000_000n, payout: 8_800_000n, shortfall: 11_200_000n, "fund-cover": 11_200_000n });
    const got = h.tokenBalance("sBTC", A.b1) - b2;
    expect(got * 1_800_000_000_000n >= (5_400_000_000_000n - 1_800_000_000_000n) * 10_000_000n).toBe(true); // full cover
    h.checkInvariants();
  });

  it("sBTC put at the coverage floor is fully paid by the pool; below it with an empty fund the shortfall is stated", () => {
    const q1 = h.quote({ token: "sBTC", poolTier: "aggressive", amount: 10_000_000n, strike: 5_400_000_000_000n });
    const q2 = h.quote({ token: "sBTC", poolTier: "aggressive", amount: 10_000_000n, strike: 5_400_000_000_000n, expiry: q1.expiry + 4n, buyer: A.b2 });
    h.ok(h.createPolicy(q1));
    h.ok(h.createPolicy(q2));
    h.walkPrices(3_000_000_000_000n, h.STX0);
    h.mineBurn(Number(q1.expiry - h.burn()));
    h.pushPrices(3_000_000_000_000n, h.STX0);
    h.mineBurn(1);
    const s1 = settled(h.settle(q1.expiry, q1.expiry, q1.expiry, [1]));
    expect(s1).toMatchObject({ "uncapped-payout": 8_000_000n, payout: 8_000_000n, shortfall: 0n, "fund-cover": 0n });
    // empty the fund's sBTC (premium shares) by a first covered shortfall, then the next is uncovered
    h.walkPrices(750_000_000_000n, h.STX0);
    h.mineBurn(Number(q2.expiry - h.burn()));
    h.pushPrices(750_000_000_000n, h.STX0);
    h.mineBurn(1);
    const fundBefore = h.fund("sBTC").balance;
    const r = h.settle(q2.expiry, q2.expiry, q2.expiry, [2]);
    const s2 = settled(r);
    expect(s2.shortfall).toBe(s2["uncapped-payout"] - s2.payout);
    expect(s2["fund-cover"]).toBe(fundBefore); // all the fund had, less than the shortfall
    const c = h.prints(r).find((x) => x.event === "fund-cover");
    expect(c).toMatchObject({ covered: fundBefore, uncovered: s2.shortfall - fundBefore, balance: 0n });
    h.checkInvariants();
  });

  it("STX put, BTC −70 %: fully covered while STX stays above its stress price; STX −70 % is topped up by the fund", () => {
    const q1 = h.quote({ amount: 10_000_000n, strike: 5_400_000_000_000n });
    const q2 = h.quote({ amount: 10_000_000n, strike: 5_400_000_000_000n, expiry: q1.expiry + 6n, buyer: A.b2 });
    h.ok(h.createPolicy(q1));
    h.ok(h.createPolicy(q2));
    expect(h.policy(1).collateral).toBe(4_950_000_000n);
    // BTC −70 %, STX −39 %: v1 capped this payout; the stress price ($1.20) covers it
    h.walkPrices(1_800_000_000_000n, 122_000_000n);
    h.mineBurn(Number(q1.expiry - h.burn()));
    h.pushPrices(1_800_000_000_000n, 122_000_000n);
    h.mineBurn(1);
    const s1 = settled(h.settle(q1.expiry, q1.expiry, q1.expiry, [1]));
    expect(s1).toMatchObject({ shortfall: 0n, "fund-cover": 0n });
    expect(s1.payout).toBe(2_950_819_672n); // $3,600 / $1.22
    // STX −70 % (below the stress price): capped at the collateral, the fund (premium shares + a deposit) tops up
    h.ok(h.fundDeposit(A.p1, "STX", 2_000_000_000n));
    h.walkPrices(1_800_000_000_000n, 60_000_000n);
    h.mineBurn(Number(q2.expiry - h.burn()));
    h.pushPrices(1_800_000_000_000n, 60_000_000n);
    h.mineBurn(1);
    const s2 = settled(h.settle(q2.expiry, q2.expiry, q2.expiry, [2]));
    expect(s2).toMatchObject({ "uncapped-payout": 6_000_000_000n, payout: 4_950_000_000n, shortfall: 1_050_000_000n, "fund-cover": 1_050_000_000n });
    h.checkInvariants();
  });
});
