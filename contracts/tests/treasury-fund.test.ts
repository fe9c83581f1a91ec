// bithedge-treasury and bithedge-insurance-fund: every public function, its authorization failures
// and error codes, events, and the books against the token balances.
import { describe, it, expect, beforeEach } from "vitest";
import { Cl } from "@stacks/transactions";
import * as h from "./helpers";
const { A, C } = h;
const s = Cl.stringAscii;
const disburse = (token: string, amount: bigint, to: string, sender = A.deployer) =>
  h.call(C.treasury, "disburse", [s(token), Cl.uint(amount), Cl.principal(to)], sender);

describe("bithedge-treasury and bithedge-insurance-fund", () => {
  beforeEach(async () => { await h.freshChain(); h.market(); h.mineBurn(1); h.pushPrices(h.BTC0, h.STX0); });

  it("treasury: fees from create-policy per token; disburse by admin or governance executor only", () => {
    const q1 = h.quote(), q2 = h.quote({ token: "sBTC", poolTier: "aggressive", buyer: A.b2 });
    h.ok(h.createPolicy(q1));
    h.ok(h.createPolicy(q2));
    const fee1 = h.premiumSplit(q1.premium).fee, fee2 = h.premiumSplit(q2.premium).fee;
    expect(h.treasury("STX")).toEqual({ fees: fee1, disbursed: 0n, balance: fee1 });
    expect(h.treasury("sBTC")).toEqual({ fees: fee2, disbursed: 0n, balance: fee2 });
    expect(h.ro(C.treasury, "get-balance", [s("sBTC")])).toBe(fee2);
    for (const who of [A.deployer, A.b1])
      h.expectErr(h.call(C.treasury, "collect-fee", [s("STX"), Cl.uint(1), Cl.principal(who), Cl.uint(1)], who), 601);
    h.expectErr(disburse("STX", 1n, A.p1, A.p1), 600);
    h.expectErr(disburse("STX", 1n, A.p1, A.guardian), 600);
    h.expectErr(disburse("ETH", 1n, A.p1), 602);
    h.expectErr(disburse("STX", 0n, A.p1), 603);
    h.expectErr(disburse("STX", fee1 + 1n, A.p1), 604);
    const before = h.tokenBalance("sBTC", A.p1);
    const e = h.onePrint(disburse("sBTC", fee2, A.p1), "treasury-disbursed");
    expect(e).toMatchObject({ token: "sBTC", amount: fee2, recipient: A.p1, sender: A.deployer, balance: 0n, disbursed: fee2 });
    expect(h.tokenBalance("sBTC", A.p1)).toBe(before + fee2);
    h.ok(h.grant(A.p2, "governance-executor"));
    h.ok(disburse("STX", 1n, A.p3, A.p2));
    expect(h.treasury("STX").balance).toBe(fee1 - 1n);
    h.checkInvariants();
  });

  it("fund: anyone deposits (events, 701, 702); premium shares and covers are registry only (700)", () => {
    h.expectErr(h.fundDeposit(A.outsider, "ETH", 1n), 701);
    h.expectErr(h.fundDeposit(A.outsider, "STX", 0n), 702);
    const e = h.onePrint(h.fundDeposit(A.outsider, "STX", 5_000_000n), "fund-deposit");
    expect(e).toMatchObject({ token: "STX", amount: 5_000_000n, source: "direct", "policy-id": 0n, depositor: A.outsider, balance: 5_000_000n });
    h.ok(h.fundDeposit(A.p2, "sBTC", 1_000n));
    for (const who of [A.deployer, A.b1]) {
      h.expectErr(h.call(C.fund, "collect-premium", [s("STX"), Cl.uint(1), Cl.principal(who), Cl.uint(1)], who), 700);
      h.expectErr(h.call(C.fund, "cover", [s("STX"), Cl.uint(1), Cl.uint(1), Cl.principal(who)], who), 700);
    }
    const q = h.quote();
    h.ok(h.createPolicy(q));
    const share = h.premiumSplit(q.premium).fund;
    expect(h.fund("STX")).toEqual({ deposits: 5_000_000n, premiums: share, covers: 0n, balance: 5_000_000n + share });
    expect(h.fund("sBTC").balance).toBe(1_000n);
    h.checkInvariants();
  });
});
