// The audit's governance scenarios (../shared/docs/contracts-audit.md H-2, L-4, L-5), replayed in the VM:
// each one succeeded against the v1 contracts and must fail now.
import { describe, it, expect, beforeEach } from "vitest";
import { Cl } from "@stacks/transactions";
import * as h from "./helpers";
import * as g from "./governance-helpers";
const { A, C } = h;

/**
 * Audit H-2 setup: STX/aggressive is wiped (assets ~0, billions of shares left). p3 deposits 10,000 STX,
 * two puts lock 5,400 STX, p3 withdraws everything unlocked, and a crash pays both their full collateral.
 */
function wipeAggressivePool() {
  h.ok(h.deposit(A.p3, "STX", "aggressive", 10_000_000_000n));
  h.pushPrices(h.BTC0, h.STX0);
  const expiry = h.burn() + 20n;
  const ids = [A.b1, A.b2].map((buyer) =>
    h.ok(h.createPolicy(h.quote({ buyer, expiry, poolTier: "aggressive", buyerTier: "flexible" }))));
  const p = h.pool("STX", "aggressive")!;
  const unlocked = p.assets - p.locked;
  // the most shares whose value is at most `unlocked`, so that exactly the locked collateral stays
  expect(h.ok(h.withdraw(A.p3, "STX", "aggressive", ((unlocked + 1n) * (p.shares + 1n) - 1n) / (p.assets + 1n)))).toBe(unlocked);
  const paid = g.settleAfterMove(expiry, ids, 2_000_000_000_000n, 120_000_000n); // intrinsic above the collateral
  ids.forEach((id, i) => expect(paid[i]).toEqual({ ok: h.policy(id).collateral })); // capped: full collateral
}

describe("governance: audit scenarios replayed", () => {
  beforeEach(async () => {
    await h.freshChain();
    h.ok(h.deposit(A.p1, "STX", "balanced", 6_000_000_000n));
  });

  it("H-2: dust in a wiped pool mints billions of shares but votes with its value; the attack fails", () => {
    wipeAggressivePool();
    const wiped = h.pool("STX", "aggressive")!;
    expect(wiped.assets).toBe(0n);
    expect(wiped.shares).toBeGreaterThan(5_000_000_000n);
    const deposit = 10n;
    const minted = h.ok(h.deposit(A.outsider, "STX", "aggressive", deposit));
    expect(minted).toBe(deposit * (wiped.shares + 1n)); // v1 counted these shares: 8x p1's 6e9
    expect(minted).toBeGreaterThan(8n * 6_000_000_000n);
    const at = g.settledHeight();
    const attacker = g.powerAt(A.outsider, at);
    expect(attacker).toBeLessThanOrEqual(2n * deposit);
    expect(g.powerAt(A.p3, at)).toBeLessThanOrEqual(2n); // its billions of shares are worth nothing
    expect(g.powerAt(A.p1, at)).toBe(6_000_000_000n);

    h.ok(h.setParam(g.PROPOSAL_MIN_KEY, 1)); // let the attacker propose at all (see the threshold test)
    const key = "settle.max-price-delay-blocks";
    const target = g.paramBounds(key).min;
    expect(h.ok(g.proposeParam(key, target, A.outsider))).toBe(1n);
    expect(h.ok(g.vote(1, true, A.outsider))).toBe(attacker);
    const no = h.onePrint(g.vote(1, false, A.p1), "vote-cast");
    // the quorum denominator is the STX pools' value, not their share counts
    expect(no["total-power"]).toBe(6_000_000_000n + h.pool("STX", "aggressive")!.assets);
    h.mineBurn(g.blocksToEta(1));
    expect(g.state(1)).toBe("defeated");
    h.expectErr(g.execute(1), 505);
    expect(g.param(key)).toBe(144n);
  });

  it("H-2 / I-6: a wiped pool's holders cannot even propose at the default minimum value", () => {
    wipeAggressivePool();
    h.ok(h.deposit(A.outsider, "STX", "aggressive", 10n));
    h.expectErr(g.proposeParam("premium.min-bp", 20, A.outsider), 509);
    h.expectErr(g.proposeParam("premium.min-bp", 20, A.p3), 509);
  });

  it("L-4: a stale passed proposal cannot revert a newer executed decision", () => {
    h.ok(g.proposeParam("premium.min-bp", 20, A.p1)); // P1
    h.ok(g.vote(1, true, A.p1));
    h.ok(g.proposeParam("premium.min-bp", 30, A.p1)); // P2
    h.ok(g.vote(2, true, A.p1));
    h.mineBurn(g.blocksToEta(2));
    expect(g.state(1)).toBe("executable");
    h.ok(g.execute(2));
    expect(g.param("premium.min-bp")).toBe(30n);
    expect(g.state(1)).toBe("superseded");
    h.expectErr(g.execute(1), 513);
    expect(g.param("premium.min-bp")).toBe(30n);
    expect(h.ro(C.gov, "get-last-executed", [Cl.stringAscii("param"), Cl.stringAscii("premium.min-bp"),
      Cl.stringAscii(""), Cl.stringAscii("")])).toBe(2n);
    // another key is not superseded by it
    h.ok(g.proposeParam("premium.max-bp", 4000, A.p1));
    h.ok(g.vote(3, true, A.p1));
    h.mineBurn(g.blocksToEta(3));
    h.ok(g.execute(3));
  });

  it("L-5: a contract the user calls cannot vote, propose or cancel with the user's power", () => {
    const gov = C.gov;
    h.simnet.deployContract("airdrop", `
      (define-public (claim-airdrop) (contract-call? '${gov} vote u1 false))
      (define-public (claim-bonus) (contract-call? '${gov} cancel u1))
      (define-public (claim-proposal) (contract-call? '${gov} propose-param "premium.min-bp" u40))`,
      { clarityVersion: 3 }, A.outsider);
    const airdrop = `${A.outsider}.airdrop`;
    h.ok(h.deposit(A.p2, "STX", "aggressive", 3_000_000_000n));
    h.ok(g.proposeParam("premium.min-bp", 20, A.p2));
    h.expectErr(h.call(airdrop, "claim-airdrop", [], A.p1), 504); // the contract itself holds no power
    expect(h.ro(C.gov, "get-vote", [Cl.uint(1), Cl.principal(A.p1)])).toBeNull();
    h.expectErr(h.call(airdrop, "claim-bonus", [], A.p2), 500); // the contract is not the proposer
    expect(g.state(1)).toBe("active");
    h.expectErr(h.call(airdrop, "claim-proposal", [], A.p1), 509);
    expect(h.ok(g.vote(1, false, A.p1))).toBe(6_000_000_000n); // p1's own vote is still its to cast
    h.ok(g.cancel(1, A.p2));
    expect(g.state(1)).toBe("cancelled");
  });

  it("L-3: proposals are validated with the parameters contract's own check", () => {
    for (const key of ["gov.quorum-bp", "gov.voting-period-blocks"]) {
      const { min } = g.paramBounds(key);
      if (min > 0n) h.expectErr(g.proposeParam(key, min - 1n, A.p1), 102);
    }
    const { max } = g.paramBounds("gov.threshold-bp");
    h.expectErr(g.proposeParam("gov.threshold-bp", max + 1n, A.p1), 102);
    h.expectErr(g.proposeTier("provider", "balanced", "max-utilization-bp", 10001, A.p1), 102);
    expect(h.ro(C.gov, "get-last-proposal-id")).toBe(0n);
  });
});
