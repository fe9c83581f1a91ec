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
    for (const role of ["keeper", "oracle-submitter", "quote-signer"])
      for (const who of Object.values(A)) expect(h.ro(C.params, "has-role", [Cl.principal(who), Cl.stringAscii(role)])).toBe(false);
    expect(h.ro(C.params, "get-param", [Cl.stringAscii("premium.max-bp")])).toBe(5000n);
    expect(h.ro(C.params, "get-param-entry", [Cl.stringAscii("nope")])).toBeNull();
    expect(h.ro(C.params, "get-tier", [Cl.stringAscii("provider"), Cl.stringAscii("balanced")])["max-utilization-bp"]).toBe(7000n);
    expect(h.ro(C.params, "get-policy-config")["max-per-expiry"]).toBe(200n);
    expect(h.ro(C.params, "get-gov-config")["quorum-bp"]).toBe(2000n);
  });

  it("grant-role / revoke-role: admin only, valid roles, events, no self-revoke", () => {
    h.expectErr(h.grant(A.keeper, "keeper", A.outsider), 100);
    h.expectErr(h.grant(A.keeper, "superuser"), 105);
    const e = h.onePrint(h.grant(A.keeper, "keeper"), "role-granted");
    expect(e).toMatchObject({ who: A.keeper, role: "keeper", sender: A.deployer });
    expect(h.ro(C.params, "has-role", [Cl.principal(A.keeper), Cl.stringAscii("keeper")])).toBe(true);
    // a non-admin role holder cannot grant
    h.expectErr(h.grant(A.p1, "keeper", A.keeper), 100);
    h.expectErr(h.call(C.params, "revoke-role", [Cl.principal(A.keeper), Cl.stringAscii("keeper")], A.outsider), 100);
    h.expectErr(h.call(C.params, "revoke-role", [Cl.principal(A.keeper), Cl.stringAscii("nope")], A.deployer), 105);
    h.expectErr(h.call(C.params, "revoke-role", [Cl.principal(A.deployer), Cl.stringAscii("admin")], A.deployer), 106);
    const r = h.onePrint(h.call(C.params, "revoke-role", [Cl.principal(A.keeper), Cl.stringAscii("keeper")], A.deployer), "role-revoked");
    expect(r).toMatchObject({ who: A.keeper, role: "keeper" });
    expect(h.ro(C.params, "has-role", [Cl.principal(A.keeper), Cl.stringAscii("keeper")])).toBe(false);
    // a second admin can revoke the first
    h.ok(h.grant(A.p1, "admin"));
    h.ok(h.call(C.params, "revoke-role", [Cl.principal(A.deployer), Cl.stringAscii("admin")], A.p1));
    h.expectErr(h.grant(A.keeper, "keeper", A.deployer), 100);
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
