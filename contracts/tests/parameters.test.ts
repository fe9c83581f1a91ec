import { describe, it, expect, beforeEach } from "vitest";
import { Cl } from "@stacks/transactions";
import * as h from "./helpers";
const { A, C } = h;

const tierArgs = (kind: string, name: string, v: number[], active = true) =>
  [Cl.stringAscii(kind), Cl.stringAscii(name), ...v.map((x) => Cl.uint(x)), Cl.bool(active)];
const setTierField = (kind: string, name: string, field: string, value: number, sender = A.deployer) =>
  h.call(C.params, "set-tier-field", [Cl.stringAscii(kind), Cl.stringAscii(name), Cl.stringAscii(field), Cl.uint(value)], sender);

describe("bithedge-parameters", () => {
  beforeEach(async () => { await h.freshChain({ setup: false }); });

  it("deploy seeds: deployer admin, governance executor, no operational roles", () => {
    expect(h.ro(C.params, "has-role", [Cl.principal(A.deployer), Cl.stringAscii("admin")])).toBe(true);
    expect(h.ro(C.params, "has-role", [Cl.principal(C.gov), Cl.stringAscii("governance-executor")])).toBe(true);
    for (const role of ["guardian", "oracle-submitter", "quote-signer"])
      for (const who of Object.values(A)) expect(h.ro(C.params, "has-role", [Cl.principal(who), Cl.stringAscii(role)])).toBe(false);
    expect(h.ro(C.params, "get-param", [Cl.stringAscii("premium.max-bp")])).toBe(5000n);
    expect(h.ro(C.params, "get-param-entry", [Cl.stringAscii("nope")])).toBeNull();
    expect(h.ro(C.params, "get-tier", [Cl.stringAscii("provider"), Cl.stringAscii("balanced")])["max-utilization-bp"]).toBe(7000n);
    expect(h.ro(C.params, "get-policy-config")["fee-bp"]).toBe(300n);
    expect(h.ro(C.params, "get-gov-config")).toMatchObject({ "quorum-bp": 2000n, "voting-delay-blocks": 300n,
      "execution-grace-blocks": 1008n, "proposal-min-power": 1_000_000_000n });
    expect(h.ro(C.params, "get-param-entry", [Cl.stringAscii("policy.max-per-expiry")])).toBeNull(); // v1 key gone
    expect(h.ro(C.params, "is-valid-role", [Cl.stringAscii("keeper")])).toBe(false); // settlement is permissionless
  });

  it("grant-role / revoke-role: admin only, valid roles, events, no self-revoke", () => {
    h.expectErr(h.grant(A.keeper, "guardian", A.outsider), 100);
    h.expectErr(h.grant(A.keeper, "superuser"), 105);
    const e = h.onePrint(h.grant(A.keeper, "guardian"), "role-granted");
    expect(e).toMatchObject({ who: A.keeper, role: "guardian", sender: A.deployer });
    expect(h.ro(C.params, "has-role", [Cl.principal(A.keeper), Cl.stringAscii("guardian")])).toBe(true);
    // a non-admin role holder cannot grant
    h.expectErr(h.grant(A.p1, "guardian", A.keeper), 100);
    h.expectErr(h.call(C.params, "revoke-role", [Cl.principal(A.keeper), Cl.stringAscii("guardian")], A.outsider), 100);
    h.expectErr(h.call(C.params, "revoke-role", [Cl.principal(A.keeper), Cl.stringAscii("nope")], A.deployer), 105);
    h.expectErr(h.call(C.params, "revoke-role", [Cl.principal(A.deployer), Cl.stringAscii("admin")], A.deployer), 106);
    const r = h.onePrint(h.call(C.params, "revoke-role", [Cl.principal(A.keeper), Cl.stringAscii("guardian")], A.deployer), "role-revoked");
    expect(r).toMatchObject({ who: A.keeper, role: "guardian" });
    expect(h.ro(C.params, "has-role", [Cl.principal(A.keeper), Cl.stringAscii("guardian")])).toBe(false);
    // a second admin can revoke the first
    h.ok(h.grant(A.p1, "admin"));
    h.ok(h.call(C.params, "revoke-role", [Cl.principal(A.deployer), Cl.stringAscii("admin")], A.p1));
    h.expectErr(h.grant(A.keeper, "guardian", A.deployer), 100);
  });

  it("L-3: pair rules and tightened bounds refuse contradictory or self-weakening values", () => {
    const check = (k: string, v: number | bigint) => h.plain(h.roCV(C.params, "check-param", [Cl.stringAscii(k), Cl.uint(v)]));
    // the audit's list: every one is now out of bounds
    for (const [k, v] of [["gov.threshold-bp", 1], ["gov.quorum-bp", 1], ["gov.timelock-blocks", 0], ["gov.voting-period-blocks", 1],
      ["settle.max-price-delay-blocks", 0], ["premium.min-bp", 0], ["oracle.max-deviation-bp", 10000]] as const)
      expect(check(k, v), k).toEqual({ err: 102n });
    expect(check("gov.threshold-bp", 4999)).toEqual({ err: 102n });
    expect(check("gov.threshold-bp", 5000)).toEqual({ ok: true });
    // min-duration 52560 with max-duration 1: the second half of the pair is refused
    h.ok(h.setParam("policy.min-duration-blocks", 52560));
    h.expectErr(h.setParam("policy.max-duration-blocks", 1), 102);
    expect(check("policy.max-duration-blocks", 1)).toEqual({ err: 102n }); // governance validates proposals the same way
    h.ok(h.setParam("policy.min-duration-blocks", 6));
    h.ok(h.setParam("policy.max-duration-blocks", 100));
    h.expectErr(h.setParam("policy.min-duration-blocks", 101), 102);
    h.ok(h.setParam("policy.min-duration-blocks", 100)); // equal is fine
    // min-amount 1e10 with max-amount 1
    h.expectErr(h.setParam("policy.min-amount-sats", 10_000_000_000n), 102);
    h.ok(h.setParam("policy.max-amount-sats", 10_000n));
    h.expectErr(h.setParam("policy.min-amount-sats", 10_001), 102);
    h.expectErr(h.setParam("premium.min-bp", 5001), 102);    // > premium.max-bp 5000
    h.expectErr(h.setParam("premium.max-bp", 9), 102);       // < premium.min-bp 10
    h.expectErr(h.setParam("oracle.max-gap-deviation-bp", 999), 102); // < max-deviation 1000
    h.ok(h.setParam("fund.premium-bp", 2500));
    h.expectErr(h.setParam("fee.protocol-bp", 501), 102);    // fee + fund > 3000
    h.ok(h.setParam("fee.protocol-bp", 500));
    h.expectErr(h.setParam("fund.premium-bp", 2501), 102);
  });

  it("pause flags: admin and governance set both ways, guardian only pauses, unknown action, events", () => {
    h.ok(h.grant(A.keeper, "guardian"));
    const paused = (a: string) => h.ro(C.params, "is-paused", [Cl.stringAscii(a)]);
    for (const a of ["create-policy", "deposit", "proposals"]) expect(paused(a)).toBe(false);
    h.expectErr(h.setPaused("deposit", true, A.outsider), 100);
    h.expectErr(h.setPaused("withdraw", true), 108); // withdrawals have no flag
    const e = h.onePrint(h.setPaused("deposit", true, A.keeper), "pause-set");
    expect(e).toMatchObject({ action: "deposit", paused: true, previous: false, sender: A.keeper });
    expect(paused("deposit")).toBe(true);
    h.expectErr(h.setPaused("deposit", false, A.keeper), 100); // guardian cannot unpause
    expect(h.onePrint(h.setPaused("deposit", false), "pause-set")).toMatchObject({ paused: false, previous: true, sender: A.deployer });
    h.ok(h.grant(A.p2, "governance-executor"));
    h.ok(h.setPaused("proposals", true, A.p2));
    h.ok(h.setPaused("proposals", false, A.p2));
    h.ok(h.setPaused("create-policy", true, A.keeper));
    expect(paused("create-policy")).toBe(true);
  });

  it("set-param: auth, unknown key, bounds, event with old value", () => {
    h.expectErr(h.setParam("premium.max-bp", 4000, A.outsider), 100);
    h.expectErr(h.setParam("no.such-key", 1), 101);
    h.expectErr(h.setParam("premium.max-bp", 10001), 102);
    h.expectErr(h.setParam("premium.max-bp", 0), 102);
    const e = h.onePrint(h.setParam("premium.max-bp", 4000), "param-updated");
    expect(e).toMatchObject({ key: "premium.max-bp", "old-value": 5000n, value: 4000n, sender: A.deployer });
    expect(h.ro(C.params, "get-param", [Cl.stringAscii("premium.max-bp")])).toBe(4000n);
    expect(h.plain(h.roCV(C.params, "check-param", [Cl.stringAscii("gov.quorum-bp"), Cl.uint(20000)]))).toEqual({ err: 102n });
    expect(h.plain(h.roCV(C.params, "check-param", [Cl.stringAscii("x"), Cl.uint(1)]))).toEqual({ err: 101n });
    // governance-executor role holder (normally the governance contract) may set params
    h.ok(h.grant(A.p2, "governance-executor"));
    h.ok(h.setParam("premium.max-bp", 3000, A.p2));
  });

  it("set-tier: auth, kind, bounds, creates and replaces", () => {
    h.expectErr(h.call(C.params, "set-tier", tierArgs("provider", "new", [10000, 10000, 5000, 1000, 2000]), A.outsider), 100);
    h.expectErr(h.call(C.params, "set-tier", tierArgs("seller", "new", [10000, 10000, 5000, 1000, 2000]), A.deployer), 107);
    h.expectErr(h.call(C.params, "set-tier", tierArgs("buyer", "new", [9000, 10000, 5000, 1000, 2000]), A.deployer), 102);
    h.expectErr(h.call(C.params, "set-tier", tierArgs("buyer", "new", [10000, 999, 5000, 1000, 2000]), A.deployer), 102);
    h.expectErr(h.call(C.params, "set-tier", tierArgs("buyer", "new", [10000, 10000, 10001, 1000, 2000]), A.deployer), 102);
    const e = h.onePrint(h.call(C.params, "set-tier", tierArgs("provider", "new", [10000, 10000, 5000, 1000, 2000], false), A.deployer), "tier-updated");
    expect(e).toMatchObject({ "tier-kind": "provider", tier: "new", field: "all", "max-utilization-bp": 5000n, active: false });
  });

  it("set-tier-field: every field, unknown tier/field, bounds", () => {
    h.expectErr(setTierField("buyer", "standard", "active", 0, A.outsider), 100);
    h.expectErr(setTierField("buyer", "nope", "active", 0), 103);
    h.expectErr(setTierField("buyer", "standard", "colour", 1), 104);
    h.expectErr(setTierField("buyer", "standard", "active", 2), 102);
    h.expectErr(setTierField("buyer", "standard", "collateral-ratio-bp", 50001), 102);
    const fields: [string, number][] = [["collateral-ratio-bp", 13000], ["premium-adjustment-bp", 12000], ["max-utilization-bp", 100],
      ["max-exposure-policy-bp", 200], ["max-exposure-expiry-bp", 300], ["active", 0]];
    for (const [f, v] of fields) {
      const e = h.onePrint(setTierField("buyer", "standard", f, v), "tier-updated");
      expect(e.field).toBe(f);
      expect(e[f]).toBe(f === "active" ? false : BigInt(v));
    }
    const t = h.ro(C.params, "get-tier", [Cl.stringAscii("buyer"), Cl.stringAscii("standard")]);
    expect(t).toEqual({ "collateral-ratio-bp": 13000n, "premium-adjustment-bp": 12000n, "max-utilization-bp": 100n,
      "max-exposure-policy-bp": 200n, "max-exposure-expiry-bp": 300n, active: false });
    h.ok(setTierField("buyer", "standard", "active", 1));
    expect(h.ro(C.params, "get-tier", [Cl.stringAscii("buyer"), Cl.stringAscii("standard")]).active).toBe(true);
  });
});
