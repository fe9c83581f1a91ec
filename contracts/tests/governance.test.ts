// bithedge-governance: every public function with its authorization failures and error codes, and
// the proposal states. Timings come from the parameters (devnet-setup.json shortens them).
import { describe, it, expect, beforeEach } from "vitest";
import { Cl } from "@stacks/transactions";
import * as h from "./helpers";
import * as g from "./governance-helpers";
const { A, C } = h;
const s = Cl.stringAscii;
const { proposeParam, proposeTier, vote, execute, cancel, state } = g;

/** Burn blocks until voting has closed (the first height after end-burn-height). */
const toClose = (id: number) => Number(g.proposal(id)["end-burn-height"] - h.burn()) + 1;

describe("bithedge-governance", () => {
  beforeEach(async () => {
    await h.freshChain();
    h.ok(h.deposit(A.p1, "STX", "balanced", 6_000_000_000n));
    h.ok(h.deposit(A.p2, "STX", "aggressive", 3_000_000_000n));
    h.ok(h.deposit(A.p3, "STX", "conservative", 1_000_000_000n));
    h.ok(h.deposit(A.p3, "sBTC", "conservative", 1_000_000_000n)); // sBTC positions carry no vote
  });

  it("param proposal end to end: propose, vote, timelock, execute through parameters", () => {
    const period = g.param("gov.voting-period-blocks"), timelock = g.param("gov.timelock-blocks");
    const r = proposeParam("premium.max-bp", 4000, A.p1);
    expect(h.ok(r)).toBe(1n);
    const e = h.onePrint(r, "proposal-created");
    const start = h.burn();
    expect(e).toMatchObject({ "proposal-id": 1n, proposer: A.p1, kind: "param", key: "premium.max-bp", value: 4000n,
      "proposer-power": 6_000_000_000n, "start-burn-height": start, "end-burn-height": start + period,
      "eta-burn-height": start + period + timelock + 1n, "quorum-bp": g.param("gov.quorum-bp"),
      "threshold-bp": g.param("gov.threshold-bp") });
    expect(g.proposal(1)).toMatchObject({ proposer: A.p1, status: "active", yes: 0n, no: 0n, "total-power": 0n });
    expect(state(1)).toBe("active");
    const v = h.onePrint(vote(1, true, A.p2), "vote-cast");
    expect(v).toMatchObject({ "proposal-id": 1n, voter: A.p2, support: true, power: 3_000_000_000n,
      yes: 3_000_000_000n, no: 0n, "total-power": 10_000_000_000n });
    expect(h.ok(vote(1, false, A.p3))).toBe(1_000_000_000n);
    h.expectErr(vote(1, true, A.p2), 503);
    h.expectErr(vote(1, true, A.b1), 504);
    h.expectErr(execute(1), 508);
    h.mineBurn(toClose(1));
    h.expectErr(vote(1, true, A.p1), 502);
    expect(state(1)).toBe("queued");
    h.expectErr(execute(1), 506);
    h.mineBurn(g.blocksToEta(1));
    expect(state(1)).toBe("executable");
    const x = execute(1);
    h.ok(x);
    const evs = h.prints(x);
    expect(evs.map((p) => p.event)).toEqual(["param-updated", "proposal-executed"]);
    expect(evs[0]).toMatchObject({ key: "premium.max-bp", value: 4000n, "old-value": 5000n, sender: C.gov });
    expect(evs[1]).toMatchObject({ "proposal-id": 1n, kind: "param", key: "premium.max-bp", value: 4000n,
      yes: 3_000_000_000n, no: 1_000_000_000n, "total-power": 10_000_000_000n, executor: A.outsider });
    expect(g.param("premium.max-bp")).toBe(4000n);
    expect(state(1)).toBe("executed");
    h.expectErr(execute(1), 507);
    h.expectErr(cancel(1, A.p1), 507);
  });

  it("tier-field proposal changes a tier; invalid proposals are refused up front by the parameters' checks", () => {
    h.expectErr(proposeTier("provider", "balanced", "max-utilization-bp", 20000, A.p1), 102);
    h.expectErr(proposeTier("provider", "nope", "active", 0, A.p1), 103);
    h.expectErr(proposeTier("provider", "balanced", "colour", 1, A.p1), 104);
    h.expectErr(proposeParam("no.such", 1, A.p1), 101);
    h.expectErr(proposeParam("gov.quorum-bp", 0, A.p1), 102);
    h.expectErr(proposeTier("provider", "balanced", "max-utilization-bp", 8000, A.b1), 509);
    expect(h.ro(C.gov, "get-last-proposal-id")).toBe(0n);
    const r = proposeTier("provider", "balanced", "max-utilization-bp", 8000, A.p1);
    expect(h.onePrint(r, "proposal-created")).toMatchObject({ kind: "tier", key: "max-utilization-bp",
      "tier-kind": "provider", tier: "balanced", value: 8000n });
    h.ok(vote(1, true, A.p1));
    h.mineBurn(g.blocksToEta(1));
    const x = execute(1);
    expect(h.prints(x).map((p) => p.event)).toEqual(["tier-updated", "proposal-executed"]);
    expect(h.ro(C.params, "get-tier", [s("provider"), s("balanced")])["max-utilization-bp"]).toBe(8000n);
  });

  it("voting power is read at the snapshot: later deposits do not count, withdrawals cannot double count", () => {
    h.ok(proposeParam("premium.min-bp", 20, A.p3));
    h.ok(h.deposit(A.b1, "STX", "balanced", 50_000_000_000n));
    h.expectErr(vote(1, true, A.b1), 504);
    // p1 withdraws everything after the snapshot: still votes with its snapshot power, once
    h.ok(h.withdraw(A.p1, "STX", "balanced", h.shares("STX", "balanced", A.p1)));
    expect(h.ok(vote(1, false, A.p1))).toBe(6_000_000_000n);
    h.expectErr(vote(1, false, A.p1), 503);
    expect(h.ro(C.gov, "get-vote", [Cl.uint(1), Cl.principal(A.p1)])).toEqual({ support: false, power: 6_000_000_000n });
    h.ok(vote(1, true, A.p3));
    h.ok(vote(1, true, A.p2));
    h.mineBurn(g.blocksToEta(1));
    h.expectErr(execute(1), 505); // 4e9 yes vs 6e9 no
    expect(state(1)).toBe("defeated");
    // the new depositor has power in a new proposal
    h.ok(proposeParam("premium.min-bp", 20, A.b1));
    expect(h.ok(vote(2, true, A.b1))).toBe(50_000_000_000n);
  });

  it("quorum, threshold and the proposer's minimum power, each copied or read at creation", () => {
    h.expectErr(proposeParam("premium.min-bp", 20, A.b1), 509);
    h.ok(h.setParam(g.PROPOSAL_MIN_KEY, 2_000_000_000));
    h.expectErr(proposeParam("premium.min-bp", 20, A.p3), 509); // 1e9 of value < 2e9
    h.ok(proposeParam("premium.min-bp", 20, A.p2));
    // quorum 20% of 10e9 = 2e9; p3 alone (1e9) is short of quorum
    h.ok(vote(1, true, A.p3));
    h.mineBurn(g.blocksToEta(1));
    expect(state(1)).toBe("defeated");
    h.expectErr(execute(1), 505);
    // threshold 70% (copied into the proposal): 60% yes is not enough
    h.ok(h.setParam("gov.threshold-bp", 7000));
    h.ok(proposeParam("premium.min-bp", 30, A.p2));
    h.ok(vote(2, true, A.p1));
    h.ok(vote(2, false, A.p2));
    h.ok(vote(2, false, A.p3));
    h.ok(h.setParam("gov.threshold-bp", 5000)); // a later change does not alter the running vote
    h.mineBurn(g.blocksToEta(2));
    h.expectErr(execute(2), 505);
    expect(h.ro(C.gov, "is-passed", [Cl.uint(2)])).toBe(false);
    expect(g.proposal(2)["threshold-bp"]).toBe(7000n);
    // a proposal nobody voted on is defeated (its total power was never read)
    h.ok(proposeParam("premium.min-bp", 40, A.p2));
    h.mineBurn(g.blocksToEta(3));
    expect(state(3)).toBe("defeated");
  });

  it("cancel: proposer or admin only (contract-caller), before execution; unknown ids", () => {
    h.ok(proposeParam("premium.min-bp", 20, A.p1));
    h.expectErr(cancel(1, A.p2), 500);
    h.expectErr(cancel(1, h.A.keeper), 500);
    h.expectErr(cancel(9, A.p1), 501);
    h.expectErr(vote(9, true, A.p1), 501);
    h.expectErr(execute(9), 501);
    expect(state(9)).toBeNull();
    expect(g.proposal(9)).toBeNull();
    const e = h.onePrint(cancel(1, A.p1), "proposal-cancelled");
    expect(e).toMatchObject({ "proposal-id": 1n, sender: A.p1, yes: 0n, no: 0n });
    h.expectErr(vote(1, true, A.p2), 507);
    h.expectErr(cancel(1, A.p1), 507);
    h.ok(proposeParam("premium.min-bp", 20, A.p1));
    h.ok(vote(2, true, A.p1));
    expect(h.onePrint(cancel(2, A.deployer), "proposal-cancelled")).toMatchObject({ sender: A.deployer, yes: 6_000_000_000n });
    h.mineBurn(g.blocksToEta(2));
    h.expectErr(execute(2), 507);
    expect(state(2)).toBe("cancelled");
    expect(h.ro(C.gov, "get-last-proposal-id")).toBe(2n);
    expect(h.plain(h.roCV(C.gov, "power-at", [Cl.principal(A.p1), Cl.uint(999999)]))).toEqual({ err: 510n });
    expect(h.plain(h.roCV(C.gov, "total-power-at", [Cl.uint(999999)]))).toEqual({ err: 510n });
  });

  it("the governance contract loses power when its executor role is revoked", () => {
    h.ok(proposeParam("premium.min-bp", 20, A.p1));
    h.ok(vote(1, true, A.p1));
    h.ok(h.call(C.params, "revoke-role", [Cl.principal(C.gov), s("governance-executor")], A.deployer));
    h.mineBurn(g.blocksToEta(1));
    h.expectErr(execute(1), 100);
    expect(state(1)).toBe("executable"); // nothing was recorded: it can run once the role is back
    h.ok(h.grant(C.gov, "governance-executor"));
    h.ok(execute(1));
  });
});
