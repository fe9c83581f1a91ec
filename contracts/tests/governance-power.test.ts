// Voting power is the value of a provider's STX-pool positions (audit H-2), checked against the vault's
// own numbers after a loss moved a share price away from 1.
import { describe, it, expect, beforeEach } from "vitest";
import { Cl } from "@stacks/transactions";
import * as h from "./helpers";
import * as g from "./governance-helpers";
const { A, C } = h;

const positionValue = (tier: string, who: string): bigint =>
  h.ro(C.vault, "get-position-value", [Cl.stringAscii("STX"), Cl.stringAscii(tier), Cl.principal(who)]);

describe("governance voting power", () => {
  beforeEach(async () => { await h.freshChain(); });

  it("counts the value of positions, so shares bought after a loss get no extra votes", () => {
    h.ok(h.deposit(A.p1, "STX", "balanced", 6_000_000_000n));
    h.ok(h.deposit(A.p3, "sBTC", "balanced", 1_000_000_000n)); // sBTC positions carry no vote
    h.pushPrices(h.BTC0, h.STX0);
    const expiry = h.burn() + 20n;
    const id = h.ok(h.createPolicy(h.quote({ expiry, amount: 2_000_000n })));
    g.settleAfterMove(expiry, [id], 3_000_000_000_000n, h.STX0); // BTC $30k: the put pays $480
    const lossy = h.pool("STX", "balanced")!;
    expect(lossy.assets).toBeLessThan(lossy.shares); // share price below 1
    h.ok(h.deposit(A.p2, "STX", "balanced", 3_000_000_000n));
    h.ok(h.deposit(A.p2, "STX", "conservative", 1_000_000_000n));

    const at = g.settledHeight();
    const p = h.pool("STX", "balanced")!;
    expect(h.shares("STX", "balanced", A.p2)).toBeGreaterThan(3_000_000_000n); // more shares than µSTX deposited ...
    const p2 = g.powerAt(A.p2, at);
    expect(p2).toBe(positionValue("balanced", A.p2) + positionValue("conservative", A.p2));
    expect(p2).toBeLessThanOrEqual(4_000_000_000n); // ... but no more power than the deposit's value
    expect(p2).toBeGreaterThanOrEqual(4_000_000_000n - 2n);
    expect(g.powerAt(A.p1, at)).toBe(positionValue("balanced", A.p1));
    expect(g.powerAt(A.p1, at)).toBeLessThan(6_000_000_000n);
    expect(g.powerAt(A.p3, at)).toBe(0n);
    const total = g.totalPowerAt(at);
    expect(total).toBe(p.assets + h.pool("STX", "conservative")!.assets);
    expect(g.powerAt(A.p1, at) + p2).toBeLessThanOrEqual(total);

    const pid = g.proposeAndOpen("premium.min-bp", 20, A.p2);
    const v = h.onePrint(g.vote(pid, true, A.p2), "vote-cast");
    expect(v).toMatchObject({ power: p2, "total-power": total });
    expect(h.ro(C.gov, "get-voting-tiers")).toEqual(["conservative", "balanced", "aggressive"]);
  });

  it("a pool created for another tier holds no vote", () => {
    h.ok(h.call(C.params, "set-tier", [Cl.stringAscii("provider"), Cl.stringAscii("x"),
      ...[10000, 10000, 10000, 10000, 10000].map((x) => Cl.uint(x)), Cl.bool(true)], A.deployer));
    h.ok(h.call(C.vault, "create-pool", [Cl.stringAscii("STX"), Cl.stringAscii("x")], A.deployer));
    h.ok(h.deposit(A.p1, "STX", "x", 5_000_000_000n));
    const at = g.settledHeight();
    expect(g.powerAt(A.p1, at)).toBe(0n);
    expect(g.totalPowerAt(at)).toBe(0n);
    h.expectErr(g.proposeParam("premium.min-bp", 20, A.p1), 509);
  });
});
