// Execution cost of create-policy, settle-expired batches, void-policy and the withdrawal path,
// measured in the Clarity VM (clarinet-sdk trackCosts). Under Nakamoto the limits below are a
// per-TENURE budget (reset by a tenure extend), shared with the whole network (audit I-2); a full
// settlement batch must stay well inside it.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { initSimnet } from "@stacks/clarinet-sdk";
import { Cl } from "@stacks/transactions";
import * as h from "./helpers";
const { A, C } = h;

// Tenure cost limits (epoch 3.x, stacks-core `BLOCK_LIMIT_MAINNET_21`, applied per tenure).
export const TENURE_LIMITS = { runtime: 5_000_000_000, read_count: 15_000, read_length: 100_000_000, write_count: 15_000, write_length: 15_000_000 };
const BTC = 6_000_000_000_000n, STX = 200_000_000n;

function costOf(r: any) {
  const c = r.costs?.total ?? r.costs;
  return { runtime: Number(c.runtime), read_count: Number(c.readCount ?? c.read_count), read_length: Number(c.readLength ?? c.read_length),
           write_count: Number(c.writeCount ?? c.write_count), write_length: Number(c.writeLength ?? c.write_length) };
}
const share = (c: any) => Math.max(...Object.keys(TENURE_LIMITS).map((k) => c[k] / (TENURE_LIMITS as any)[k]));

describe("costs", () => {
  beforeAll(async () => { await h.freshChain({ trackCosts: true }); });
  // the suite shares one worker: give the following files a VM without cost tracking again
  afterAll(async () => { await initSimnet(h.MANIFEST, true); });

  it("create-policy, settle batches, void and withdrawals fit well inside a tenure", () => {
    for (const p of h.PROVIDERS) h.ok(h.deposit(p, "STX", "aggressive", 10_000_000_000_000n));
    h.ok(h.fundDeposit(A.outsider, "STX", 100_000_000_000n));
    h.pushPrices(BTC, STX);
    h.mineBurn(1);
    h.pushPrices(BTC, STX);
    const expiry = h.burn() + 10n;
    const results: Record<string, any> = {};
    const N = 86;
    for (let i = 0; i < N; i++) {
      const q = h.quote({ buyer: i % 2 ? A.b1 : A.b2, poolTier: "aggressive", strike: 5_700_000_000_000n, amount: 1_000_000n,
        expiry, validUntil: h.burn() + 5n, premium: 0n });
      q.premium = h.quoteTerms("STX", "standard", q.strike, q.amount)["min-premium"];
      const r = h.createPolicy(q);
      h.ok(r);
      if (i === 1) results["create-policy"] = costOf(r);
    }
    h.ok(h.requestWithdrawal(A.p1, "STX", "aggressive", 1_000_000n));
    // BTC −83 %, STX −60 %: every policy ITM and capped, the insurance fund tops up (the expensive path)
    h.walkPrices(1_000_000_000_000n, 80_000_000n);
    h.mineBurn(Number(expiry - h.burn()));
    h.pushPrices(1_000_000_000_000n, 80_000_000n);
    const ph = expiry;
    h.mineBurn(1);
    let id = 1;
    for (const n of [1, 10, 25, 50]) {
      const ids = Array.from({ length: n }, () => Cl.uint(id++));
      const r = h.call(C.registry, "settle-expired", [Cl.uint(expiry), Cl.uint(ph), Cl.uint(ph), Cl.list(ids)], A.keeper);
      const out = h.ok(r);
      expect(out.filter((x: any) => !("ok" in x))).toEqual([]);
      expect(h.prints(r).filter((e) => e.event === "fund-cover")).toHaveLength(n);
      results[`settle-expired x${n}`] = costOf(r);
    }
    results["execute-withdrawal"] = costOf(h.executeWithdrawal(A.p1, "STX", "aggressive"));
    // a void: a policy whose first BTC price comes later than its delay
    h.ok(h.setParam("settle.max-price-delay-blocks", 6));
    h.ok(h.setParam("settle.void-grace-blocks", 6));
    h.pushPrices(1_000_000_000_000n, 80_000_000n);
    const ev = h.burn() + 6n;
    h.ok(h.createPolicy(h.quote({ poolTier: "aggressive", expiry: ev })));
    h.mineBurn(20);
    h.pushPrices(1_000_000_000_000n, 80_000_000n);
    const late = h.burn();
    h.mineBurn(1);
    const v = h.voidPolicy(N + 1, late, late);
    h.ok(v);
    results["void-policy"] = costOf(v);
    for (const [k, c] of Object.entries(results)) {
      console.log(`COST ${k}: ${JSON.stringify(c)} tenure-share=${(share(c) * 100).toFixed(2)}%`);
    }
    // A full batch must use < 10% of every tenure dimension, so batches never crowd a tenure out.
    expect(share(results["settle-expired x50"])).toBeLessThan(0.1);
    expect(share(results["create-policy"])).toBeLessThan(0.02);
    expect(share(results["void-policy"])).toBeLessThan(0.02);
  });
});
