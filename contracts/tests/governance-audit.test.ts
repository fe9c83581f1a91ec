// The security audit's governance scenarios (findings H-2, M-4, L-3, L-4, L-5), replayed in the VM:
// each one succeeded against the v1 contracts and must fail now.
import { describe, it, expect, beforeEach } from "vitest";
import { Cl } from "@stacks/transactions";
import * as h from "./helpers";
import * as g from "./governance-helpers";
const { A, C } = h;

/** Largest amount (sats) of a flexible-tier put at `strike` whose collateral fits in `free` µSTX. */
function amountFor(free: bigint, strike: bigint): bigint {
  let amount = (free * 100_000_000n) / h.quoteTerms("STX", "flexible", strike, 100_000_000n).collateral;
  while (h.quoteTerms("STX", "flexible", strike, amount).collateral > free) amount -= 1n;
  return amount;
}

/**
 * Audit H-2 setup, as far as the v2 vault lets a pool fall: the admin lets one put lock all of
 * STX/aggressive's free assets, and a crash to (btc, stx) pays its whole collateral. The pool keeps
 * the put's pool premium, so one round leaves a share price far below 1 but not 0; a price below
 * 1e-6 of par starts a new share generation (old shares void). Returns the settlement.
 */
function crashAggressivePool(btc: bigint, stx: bigint) {
  for (const field of ["max-utilization-bp", "max-exposure-policy-bp", "max-exposure-expiry-bp"])
    h.ok(h.call(C.params, "set-tier-field", [Cl.stringAscii("provider"), Cl.stringAscii("aggressive"),
      Cl.stringAscii(field), Cl.uint(10000)], A.deployer));
  const latest = (asset: string) => h.ro(C.oracle, "get-latest", [Cl.stringAscii(asset)])?.price ?? (asset === "BTC" ? h.BTC0 : h.STX0);
  const spot = latest("BTC");
  h.pushPrices(spot, latest("STX"));
  const p = h.pool("STX", "aggressive")!;
  const strike = (spot * 9n) / 10n;
  const q = h.quote({ poolTier: "aggressive", buyerTier: "flexible", strike, amount: amountFor(p.assets - p.locked, strike) });
  const id = h.ok(h.createPolicy(q));
  h.walkPrices(btc, stx);
  h.mineBurn(Number(q.expiry - h.burn()));
  h.pushPrices(btc, stx);
  h.mineBurn(1);
  const r = h.settle(q.expiry, q.expiry, q.expiry, [id]);
  expect(h.ok(r)).toEqual([{ ok: h.policy(id).collateral }]); // capped: the whole collateral
  return r;
}

describe("governance: audit scenarios replayed", () => {
  beforeEach(async () => {
    await h.freshChain();
    h.ok(h.deposit(A.p1, "STX", "balanced", 6_000_000_000n));
  });

  it("H-2: shares minted cheaply in a crashed pool vote with their value; the attack fails", () => {
    h.ok(h.deposit(A.p3, "STX", "aggressive", 10_000_000_000n));
    crashAggressivePool(2_000_000_000_000n, 75_000_000n); // BTC -67 %, STX -63 %
    const crashed = h.pool("STX", "aggressive")!;
    expect(crashed.assets * 100n).toBeLessThan(crashed.shares); // share price below 0.01
    const deposit = 20_000_000n; // 20 STX
    const minted = h.ok(h.deposit(A.outsider, "STX", "aggressive", deposit));
    expect(minted).toBeGreaterThan(h.shares("STX", "balanced", A.p1)); // v1 counted these: more than p1's 6,000 STX
    const at = g.settledHeight();
    const attacker = g.powerAt(A.outsider, at);
    expect(attacker).toBeLessThanOrEqual(deposit);
    expect(attacker).toBeGreaterThanOrEqual(deposit - 2n);
    const p3 = g.powerAt(A.p3, at); // its 1e10 shares are worth what is left of the pool
    expect(p3).toBeLessThan(crashed.assets + 1n);
    expect(g.powerAt(A.p1, at)).toBe(6_000_000_000n);

    h.ok(h.setParam(g.PROPOSAL_MIN_KEY, 1)); // let the attacker propose at all (see the next test)
    const key = "settle.max-price-delay-blocks";
    const target = g.paramBounds(key).min;
    const id = g.proposeAndOpen(key, target, A.outsider);
    expect(h.ok(g.vote(id, true, A.outsider))).toBe(attacker);
    const no = h.onePrint(g.vote(id, false, A.p1), "vote-cast");
    h.ok(g.vote(id, false, A.p3));
    // the quorum denominator is the STX pools' value, not their share counts
    const after = h.pool("STX", "aggressive")!;
    expect(no["total-power"]).toBe(6_000_000_000n + after.assets);
    h.mineBurn(g.blocksToEta(id));
    expect(g.state(id)).toBe("defeated");
    h.expectErr(g.execute(id), 505);
    expect(g.param(key)).toBe(144n);
  });

  it("H-2: after a wipe (new share generation) the old shares carry no power; dust deposits vote with their value", () => {
    h.ok(h.setParam("policy.max-amount-sats", 10_000_000_000n));
    h.ok(h.setParam("premium.min-bp", 1));
    h.ok(h.deposit(A.p3, "STX", "aggressive", 1_000_000_000_000n)); // 1M STX
    crashAggressivePool(600_000_000_000n, 50_000_000n); // BTC $6k, STX $0.50
    const before = g.powerAt(A.p3, g.settledHeight());
    expect(before).toBeGreaterThan(0n);
    expect(before * 1000n).toBeLessThan(1_000_000_000_000n); // under 1e-3 of what p3 put in
    const r = crashAggressivePool(60_000_000_000n, 10_000_000n); // BTC $600, STX $0.10: the pool is wiped
    expect(r.events.some((e: any) => e.event === "print_event" && h.plain(e.data.value).event === "pool-wiped")).toBe(true);
    const dust = h.pool("STX", "aggressive")!.assets;
    expect(h.pool("STX", "aggressive")!.shares).toBe(0n);
    h.ok(h.deposit(A.outsider, "STX", "aggressive", 10n));
    const at = g.settledHeight();
    expect(g.powerAt(A.p3, at)).toBe(0n); // 1e12 old-generation shares
    expect(g.powerAt(A.outsider, at)).toBeLessThanOrEqual(10n + dust); // the first depositor gets the dust (< 1e-6 of par)
    expect(g.totalPowerAt(at)).toBe(6_000_000_000n + dust + 10n);
    h.expectErr(g.proposeParam("premium.min-bp", 20, A.p3), 509);
  });

  it("H-2 / I-6: proposing needs a minimum value, not a share count", () => {
    h.ok(h.deposit(A.p3, "STX", "aggressive", 10_000_000_000n));
    crashAggressivePool(2_000_000_000_000n, 75_000_000n);
    expect(g.param(g.PROPOSAL_MIN_KEY)).toBe(1_000_000_000n); // 1,000 STX of position value
    h.ok(h.deposit(A.outsider, "STX", "aggressive", 20_000_000n));
    h.expectErr(g.proposeParam("premium.min-bp", 20, A.outsider), 509);
    h.expectErr(g.proposeParam("premium.min-bp", 20, A.p3), 509);
  });

  it("M-4: a flash deposit around the proposal has no power at the snapshot; the proposal fails", () => {
    h.ok(h.deposit(A.p2, "STX", "aggressive", 3_000_000_000n));
    h.ok(h.setParam("gov.voting-delay-blocks", 10));
    const burnAtStart = h.burn();
    h.ok(h.deposit(A.outsider, "STX", "balanced", 100_000_000_000n)); // block N: 100,000 STX
    const r = g.proposeParam("policy.max-active-per-owner", 1, A.outsider); // N+1
    expect(h.onePrint(r, "proposal-created")["proposer-power"]).toBe(100_000_000_000n);
    const id = Number(h.ok(r));
    h.expectErr(g.vote(id, true, A.outsider), 511); // N+2: voting opens only after the snapshot
    h.ok(h.withdraw(A.outsider, "STX", "balanced", h.shares("STX", "balanced", A.outsider))); // N+3
    expect(h.burn()).toBe(burnAtStart); // all within one burn block, as in the audit
    g.openVoting(id);
    expect(g.powerAt(A.outsider, g.proposal(id)["snapshot-height"])).toBe(0n);
    h.expectErr(g.vote(id, true, A.outsider), 504);
    h.ok(g.vote(id, false, A.p1));
    h.ok(g.vote(id, false, A.p2));
    h.mineBurn(g.blocksToEta(id));
    expect(g.state(id)).toBe("defeated");
    h.expectErr(g.execute(id), 505);
    expect(g.param("policy.max-active-per-owner")).toBe(50n);
  });

  it("M-4: capital that stays through the snapshot votes, and honest LPs had the delay to answer it", () => {
    h.ok(h.setParam("gov.voting-delay-blocks", 10));
    h.ok(h.deposit(A.outsider, "STX", "balanced", 10_000_000_000n));
    const id = Number(h.ok(g.proposeParam("policy.max-active-per-owner", 1, A.outsider)));
    h.ok(h.deposit(A.p2, "STX", "aggressive", 20_000_000_000n)); // seen the proposal, answers before the snapshot
    g.openVoting(id);
    expect(h.ok(g.vote(id, true, A.outsider))).toBe(10_000_000_000n);
    expect(h.ok(g.vote(id, false, A.p2))).toBe(20_000_000_000n);
    h.mineBurn(g.blocksToEta(id));
    expect(g.state(id)).toBe("defeated");
  });

  it("L-4: a stale passed proposal cannot revert a newer executed decision, even 1000 blocks later", () => {
    g.proposeAndOpen("premium.min-bp", 20, A.p1); // P1
    h.ok(g.vote(1, true, A.p1));
    g.proposeAndOpen("premium.min-bp", 30, A.p1); // P2
    h.ok(g.vote(2, true, A.p1));
    h.mineBurn(g.blocksToEta(2));
    expect(g.state(1)).toBe("executable");
    h.ok(g.execute(2));
    expect(g.param("premium.min-bp")).toBe(30n);
    expect(g.state(1)).toBe("superseded");
    h.expectErr(g.execute(1), 513);
    expect(h.ro(C.gov, "get-last-executed", [Cl.stringAscii("param"), Cl.stringAscii("premium.min-bp"),
      Cl.stringAscii(""), Cl.stringAscii("")])).toBe(2n);
    h.mineBurn(1000); // the audit's outsider came back 1000 blocks later: past eta + grace as well
    expect(g.proposal(1)["expires-burn-height"]).toBeLessThan(h.burn());
    expect(g.state(1)).toBe("superseded");
    h.expectErr(g.execute(1), 513);
    expect(g.param("premium.min-bp")).toBe(30n);
    // another key is not superseded by it
    g.proposeAndOpen("premium.max-bp", 4000, A.p1);
    h.ok(g.vote(3, true, A.p1));
    h.mineBurn(g.blocksToEta(3));
    h.ok(g.execute(3));
  });

  it("L-4: a passed proposal left unexecuted expires; 1000 blocks later it cannot be executed", () => {
    g.proposeAndOpen("premium.min-bp", 20, A.p1);
    h.ok(g.vote(1, true, A.p1));
    h.mineBurn(g.blocksToEta(1) + 1000);
    expect(g.state(1)).toBe("expired");
    h.expectErr(g.execute(1), 512);
    expect(g.param("premium.min-bp")).toBe(10n);
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
    g.proposeAndOpen("premium.min-bp", 20, A.p2);
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
    h.expectErr(g.proposeParam("gov.threshold-bp", 1, A.p1), 102); // the audit's 1 bp threshold
    expect(h.plain(h.roCV(C.params, "check-param", [Cl.stringAscii("gov.threshold-bp"), Cl.uint(1)]))).toEqual({ err: 102n });
    const { max } = g.paramBounds("gov.threshold-bp");
    h.expectErr(g.proposeParam("gov.threshold-bp", max + 1n, A.p1), 102);
    h.expectErr(g.proposeTier("provider", "balanced", "max-utilization-bp", 10001, A.p1), 102);
    expect(h.ro(C.gov, "get-last-proposal-id")).toBe(0n);
  });
});
