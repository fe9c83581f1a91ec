// Governance beyond parameters: the "proposals" pause flag (stops new proposals with governance's own
// code while running votes and executions go on), pause proposals, and treasury disbursements.
import { describe, it, expect, beforeEach } from "vitest";
import { Cl } from "@stacks/transactions";
import * as h from "./helpers";
import * as g from "./governance-helpers";
const { A } = h;
const guardian = A.keeper; // devnet-setup.json grants wallet_1 the guardian role

describe("governance: pause flags and treasury disbursements", () => {
  beforeEach(async () => {
    await h.freshChain();
    h.ok(h.deposit(A.p1, "STX", "balanced", 6_000_000_000n));
  });

  it("a guardian's pause stops proposing (u514); votes and execution of running proposals go on", () => {
    const id = g.proposeAndOpen("premium.min-bp", 20, A.p1);
    h.ok(h.setPaused("proposals", true, guardian));
    h.expectErr(g.proposeParam("premium.min-bp", 30, A.p1), 514);
    h.expectErr(g.proposeTier("provider", "balanced", "max-utilization-bp", 8000, A.p1), 514);
    h.expectErr(g.proposePause("deposit", false, A.p1), 514);
    h.expectErr(g.proposeDisburse("STX", 1, A.p1, A.p1), 514);
    h.ok(g.vote(id, true, A.p1));
    h.mineBurn(g.blocksToEta(id));
    h.ok(g.execute(id));
    expect(g.param("premium.min-bp")).toBe(20n);
    h.expectErr(h.setPaused("proposals", false, guardian), 100); // a guardian cannot unpause
    h.ok(h.setPaused("proposals", false));
    h.ok(g.proposeParam("premium.min-bp", 30, A.p1));
  });

  it("governance unpauses an action the guardian paused; the older of two pause proposals is superseded", () => {
    h.ok(h.setPaused("deposit", true, guardian));
    h.expectErr(h.deposit(A.p2, "STX", "balanced", 1_000_000n), 320);
    h.expectErr(g.proposePause("withdraw", false, A.p1), 108); // not a pausable action
    h.expectErr(g.proposePause("deposit", false, A.b1), 509);
    const older = g.opened(g.proposePause("deposit", true, A.p1));
    const r = g.proposePause("deposit", false, A.p1);
    expect(h.onePrint(r, "proposal-created")).toMatchObject({ kind: "pause", key: "deposit", value: 0n });
    const unpause = g.opened(r);
    h.ok(g.vote(older, true, A.p1));
    h.ok(g.vote(unpause, true, A.p1));
    h.mineBurn(g.blocksToEta(unpause));
    const x = g.execute(unpause);
    expect(h.prints(x).map((e) => e.event)).toEqual(["pause-set", "proposal-executed"]);
    expect(h.prints(x)[0]).toMatchObject({ action: "deposit", paused: false, previous: true });
    expect(h.ro(h.C.params, "is-paused", [Cl.stringAscii("deposit")])).toBe(false);
    h.ok(h.deposit(A.p2, "STX", "balanced", 1_000_000n));
    expect(g.state(older)).toBe("superseded");
    h.expectErr(g.execute(older), 513);
  });

  it("disburses treasury fees by vote; grants are never superseded; the treasury refuses more than its balance", () => {
    h.pushPrices(h.BTC0, h.STX0);
    h.ok(h.createPolicy(h.quote({ amount: 2_000_000n })));
    const fees = h.treasury("STX").balance;
    expect(fees).toBeGreaterThan(0n);
    h.expectErr(g.proposeDisburse("BTC", 1, A.outsider, A.p1), 602);
    h.expectErr(g.proposeDisburse("STX", 0, A.outsider, A.p1), 603);
    h.expectErr(g.proposeDisburse("STX", 1, A.outsider, A.b1), 509);
    const r = g.proposeDisburse("STX", fees / 2n, A.outsider, A.p1);
    expect(h.onePrint(r, "proposal-created")).toMatchObject({ kind: "disburse", key: "STX", value: fees / 2n, recipient: A.outsider });
    const first = g.opened(r);
    const second = g.opened(g.proposeDisburse("STX", fees - fees / 2n, A.b2, A.p1));
    const tooMuch = g.opened(g.proposeDisburse("STX", 1, A.b2, A.p1));
    for (const id of [first, second, tooMuch]) h.ok(g.vote(id, true, A.p1));
    h.mineBurn(g.blocksToEta(tooMuch));
    const before = h.tokenBalance("STX", A.b2);
    h.ok(g.execute(second));
    expect(g.state(first)).toBe("executable"); // a newer grant does not make an older one stale
    const x = g.execute(first);
    expect(h.prints(x).map((e) => e.event)).toEqual(["treasury-disbursed", "proposal-executed"]);
    expect(h.prints(x)[0]).toMatchObject({ token: "STX", amount: fees / 2n, recipient: A.outsider, sender: h.C.gov });
    expect(h.prints(x)[1]).toMatchObject({ kind: "disburse", recipient: A.outsider });
    expect(h.tokenBalance("STX", A.b2)).toBe(before + fees - fees / 2n);
    expect(h.treasury("STX").balance).toBe(0n);
    h.expectErr(g.execute(tooMuch), 604);
    expect(g.state(tooMuch)).toBe("executable");
  });
});
