import { describe, it, expect, beforeEach } from "vitest";
import { Cl } from "@stacks/transactions";
import * as h from "./helpers";
const { A, C } = h;
const s = Cl.stringAscii;
const proposeParam = (key: string, v: number, who: string) => h.call(C.gov, "propose-param", [s(key), Cl.uint(v)], who);
const proposeTier = (kind: string, tier: string, field: string, v: number, who: string) =>
  h.call(C.gov, "propose-tier-field", [s(kind), s(tier), s(field), Cl.uint(v)], who);
const vote = (id: number, yes: boolean, who: string) => h.call(C.gov, "vote", [Cl.uint(id), Cl.bool(yes)], who);
const execute = (id: number, who = A.outsider) => h.call(C.gov, "execute", [Cl.uint(id)], who);
const cancel = (id: number, who: string) => h.call(C.gov, "cancel", [Cl.uint(id)], who);
const state = (id: number) => h.ro(C.gov, "get-proposal-state", [Cl.uint(id)]);

// devnet setup: voting period 20, timelock 5 (eta = end + 6)
describe("bithedge-governance", () => {
  beforeEach(async () => {
    await h.freshChain();
    h.ok(h.deposit(A.p1, "STX", "balanced", 6_000_000_000n));
    h.ok(h.deposit(A.p2, "STX", "aggressive", 3_000_000_000n));
    h.ok(h.deposit(A.p3, "STX", "conservative", 1_000_000_000n));
    h.ok(h.deposit(A.p3, "sBTC", "conservative", 1_000_000_000n)); // sBTC shares carry no vote
  });

  it("param proposal end to end: propose, vote, timelock, execute through parameters", () => {
    const r = proposeParam("premium.max-bp", 4000, A.p1);
    expect(h.ok(r)).toBe(1n);
    const e = h.onePrint(r, "proposal-created");
    const start = h.burn();
    expect(e).toMatchObject({ "proposal-id": 1n, proposer: A.p1, kind: "param", key: "premium.max-bp", value: 4000n,
      "proposer-power": 6_000_000_000n, "total-power": 10_000_000_000n, "start-burn-height": start, "end-burn-height": start + 20n,
      "eta-burn-height": start + 26n, "quorum-bp": 2000n, "threshold-bp": 5000n });
    expect(state(1)).toBe("active");
    const v = h.onePrint(vote(1, true, A.p2), "vote-cast");
    expect(v).toMatchObject({ voter: A.p2, support: true, power: 3_000_000_000n, yes: 3_000_000_000n, no: 0n, "total-power": 10_000_000_000n });
    h.ok(vote(1, false, A.p3));
    h.expectErr(vote(1, true, A.p2), 503);
    h.expectErr(vote(1, true, A.b1), 504);
    h.expectErr(execute(1), 508);
    h.mineBurn(21);
    h.expectErr(vote(1, true, A.p1), 502);
    expect(state(1)).toBe("queued");
    h.expectErr(execute(1), 506);
    h.mineBurn(5);
    expect(state(1)).toBe("executable");
    const x = execute(1);
    h.ok(x);
    const evs = h.prints(x);
    expect(evs.map((p) => p.event)).toEqual(["param-updated", "proposal-executed"]);
    expect(evs[0]).toMatchObject({ key: "premium.max-bp", value: 4000n, "old-value": 5000n, sender: C.gov });
    expect(evs[1]).toMatchObject({ "proposal-id": 1n, yes: 3_000_000_000n, no: 1_000_000_000n, executor: A.outsider });
    expect(h.ro(C.params, "get-param", [s("premium.max-bp")])).toBe(4000n);
    expect(state(1)).toBe("executed");
    h.expectErr(execute(1), 507);
    h.expectErr(cancel(1, A.p1), 507);
  });

  it("tier-field proposal changes a tier; invalid proposals are refused up front", () => {
    h.expectErr(proposeTier("provider", "balanced", "max-utilization-bp", 20000, A.p1), 102);
    h.expectErr(proposeTier("provider", "nope", "active", 0, A.p1), 103);
    h.expectErr(proposeTier("provider", "balanced", "colour", 1, A.p1), 104);
    h.expectErr(proposeParam("no.such", 1, A.p1), 101);
    h.expectErr(proposeParam("gov.quorum-bp", 0, A.p1), 102);
    h.ok(proposeTier("provider", "balanced", "max-utilization-bp", 8000, A.p1));
    h.ok(vote(1, true, A.p1));
    h.mineBurn(26);
    const x = execute(1);
    expect(h.prints(x).map((p) => p.event)).toEqual(["tier-updated", "proposal-executed"]);
    expect(h.ro(C.params, "get-tier", [s("provider"), s("balanced")])["max-utilization-bp"]).toBe(8000n);
  });

  it("voting power is read at the snapshot: later deposits do not count, withdrawals cannot double count", () => {
    h.ok(proposeParam("premium.min-bp", 20, A.p3));
    // p3 moves its shares to... nobody can transfer shares; but a fresh deposit after the snapshot has no power
    h.ok(h.deposit(A.b1, "STX", "balanced", 50_000_000_000n));
    h.expectErr(vote(1, true, A.b1), 504);
    // p1 withdraws everything after the snapshot: still votes with its snapshot power, once
    h.ok(h.withdraw(A.p1, "STX", "balanced", h.shares("STX", "balanced", A.p1)));
    expect(h.ok(vote(1, false, A.p1))).toBe(6_000_000_000n);
    h.expectErr(vote(1, false, A.p1), 503);
    expect(h.ro(C.gov, "get-vote", [Cl.uint(1), Cl.principal(A.p1)])).toEqual({ support: false, power: 6_000_000_000n });
    h.ok(vote(1, true, A.p3));
    h.ok(vote(1, true, A.p2));
    h.mineBurn(26);
    h.expectErr(execute(1), 505); // 4e9 yes vs 6e9 no
    expect(state(1)).toBe("defeated");
    // the new depositor has power in a new proposal
    h.ok(proposeParam("premium.min-bp", 20, A.b1));
    expect(h.ok(vote(2, true, A.b1))).toBe(50_000_000_000n);
  });

  it("quorum, threshold, proposal threshold, cancel, unknown ids", () => {
    h.expectErr(proposeParam("premium.min-bp", 20, A.b1), 509);
    h.ok(h.setParam("gov.proposal-min-shares", 2_000_000_000));
    h.expectErr(proposeParam("premium.min-bp", 20, A.p3), 509);
    h.ok(proposeParam("premium.min-bp", 20, A.p2));
    // quorum 20% of 10e9 = 2e9; p3 alone (1e9) is short of quorum
    h.ok(vote(1, true, A.p3));
    h.mineBurn(26);
    h.expectErr(execute(1), 505);
    // threshold 70% (copied into the proposal): 60% yes is not enough
    h.ok(h.setParam("gov.threshold-bp", 7000));
    h.ok(h.setParam("gov.proposal-min-shares", 1));
    h.ok(proposeParam("premium.min-bp", 30, A.p2));
    h.ok(vote(2, true, A.p1));
    h.ok(vote(2, false, A.p2));
    h.ok(vote(2, false, A.p3));
    h.ok(h.setParam("gov.threshold-bp", 5000)); // later change does not alter the running vote
    h.mineBurn(26);
    h.expectErr(execute(2), 505);
    expect(h.ro(C.gov, "is-passed", [Cl.uint(2)])).toBe(false);
    expect(h.ro(C.gov, "get-proposal", [Cl.uint(2)])["threshold-bp"]).toBe(7000n);
  });

  it("cancel: proposer or admin only, before execution", () => {
    h.ok(proposeParam("premium.min-bp", 20, A.p1));
    h.expectErr(cancel(1, A.p2), 500);
    h.expectErr(cancel(9, A.p1), 501);
    h.expectErr(vote(9, true, A.p1), 501);
    h.expectErr(execute(9), 501);
    const e = h.onePrint(cancel(1, A.p1), "proposal-cancelled");
    expect(e).toMatchObject({ "proposal-id": 1n, sender: A.p1 });
    h.expectErr(vote(1, true, A.p2), 507);
    h.ok(proposeParam("premium.min-bp", 20, A.p1));
    h.ok(vote(2, true, A.p1));
    h.ok(cancel(2, A.deployer));
    h.mineBurn(26);
    h.expectErr(execute(2), 507);
    expect(state(2)).toBe("cancelled");
    expect(h.ro(C.gov, "get-last-proposal-id")).toBe(2n);
    expect(h.plain(h.roCV(C.gov, "power-at", [Cl.principal(A.p1), Cl.uint(999999)]))).toEqual({ err: 510n });
  });

  it("the governance contract loses power when its executor role is revoked", () => {
    h.ok(proposeParam("premium.min-bp", 20, A.p1));
    h.ok(vote(1, true, A.p1));
    h.ok(h.call(C.params, "revoke-role", [Cl.principal(C.gov), s("governance-executor")], A.deployer));
    h.mineBurn(26);
    h.expectErr(execute(1), 100);
  });
});
