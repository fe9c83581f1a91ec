// Voting power is the value of a provider's STX-pool positions (audit H-2, L-6): checked against the
// pools' own numbers after a loss moved a share price away from 1, and against exact integer math.
import { describe, it, expect, beforeEach } from "vitest";
import { Cl } from "@stacks/transactions";
import fc from "fast-check";
import * as h from "./helpers";
import * as g from "./governance-helpers";
const { A, C } = h;

const positionValue = (part: bigint, assets: bigint, whole: bigint): bigint =>
  h.ro(C.gov, "position-value", [Cl.uint(part), Cl.uint(assets), Cl.uint(whole)]);

describe("governance voting power", () => {
  beforeEach(async () => { await h.freshChain(); });

  it("counts the value of positions, so shares bought after a loss get no extra votes", () => {
    h.ok(h.deposit(A.p1, "STX", "balanced", 6_000_000_000n));
    h.ok(h.deposit(A.p3, "sBTC", "balanced", 1_000_000_000n)); // sBTC positions carry no vote
    h.pushPrices(h.BTC0, h.STX0);
    const expiry = h.burn() + 20n;
    const id = h.ok(h.createPolicy(h.quote({ expiry, amount: 2_000_000n })));
    g.settleAfterMove(expiry, [id], 4_800_000_000_000n, h.STX0); // BTC $48k: the put pays $120
    const lossy = h.pool("STX", "balanced")!;
    expect(lossy.assets).toBeLessThan(lossy.shares); // share price below 1
    h.ok(h.deposit(A.p2, "STX", "balanced", 3_000_000_000n));
    h.ok(h.deposit(A.p2, "STX", "conservative", 1_000_000_000n));

    const at = g.settledHeight();
    const p = h.pool("STX", "balanced")!;
    const s1 = h.shares("STX", "balanced", A.p1), s2 = h.shares("STX", "balanced", A.p2);
    expect(s2).toBeGreaterThan(3_000_000_000n); // more shares than micro-STX deposited ...
    const p2 = g.powerAt(A.p2, at);
    expect(p2).toBe((s2 * p.assets) / p.shares + 1_000_000_000n);
    expect(p2).toBeLessThanOrEqual(4_000_000_000n); // ... but no more power than the deposit's value
    expect(p2).toBeGreaterThanOrEqual(4_000_000_000n - 1n);
    expect(g.powerAt(A.p1, at)).toBe((s1 * p.assets) / p.shares);
    expect(g.powerAt(A.p3, at)).toBe(0n);
    const total = g.totalPowerAt(at);
    expect(total).toBe(p.assets + 1_000_000_000n);
    expect(g.powerAt(A.p1, at) + p2).toBeLessThanOrEqual(total);

    h.ok(g.proposeParam("premium.min-bp", 20, A.p2));
    const v = h.onePrint(g.vote(1, true, A.p2), "vote-cast");
    expect(v).toMatchObject({ power: p2, "total-power": total });
    expect(h.ro(C.gov, "get-voting-tiers")).toEqual(["conservative", "balanced", "aggressive"]);
  });

  it("position-value never overflows and never exceeds the exact value, whatever the share count", () => {
    const exact = (part: bigint, assets: bigint, whole: bigint) => (whole === 0n ? 0n : (part * assets) / whole);
    const U128 = (1n << 128n) - 1n, U64 = 1n << 64n;
    const edge: [bigint, bigint, bigint][] = [
      [0n, 0n, 0n], [5n, 7n, 0n], [1n, U64 - 1n, 1n], [U128, U64 - 1n, U128], [U128 / 3n, U64 - 1n, U128],
      [781_950_000_000_000_000_000_000_000n, 10_000_000_000_000n, 781_950_000_000_000_078_200_000_000n], // audit L-6
      [U64, 1n, U64 + 1n], [U64 - 1n, U64 - 1n, U64 - 1n],
    ];
    const random = fc.sample(fc.tuple(fc.bigInt(1n, U128), fc.bigInt(0n, U64 - 1n), fc.bigInt(0n, U128))
      .map(([whole, assets, r]) => [r % (whole + 1n), assets, whole] as [bigint, bigint, bigint]), { numRuns: 40, seed: 10 });
    for (const [part, assets, whole] of [...edge, ...random]) {
      const got = positionValue(part, assets, whole), want = exact(part, assets, whole);
      expect(got <= want, `${part} ${assets} ${whole}`).toBe(true);
      expect(want - got <= 4n, `${part} ${assets} ${whole}`).toBe(true);
    }
  });
});
