// Execution cost of create-policy and of settle-expired batches, measured in the Clarity VM
// (clarinet-sdk trackCosts). Asserts that a full batch stays well inside one Stacks block.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { initSimnet } from "@stacks/clarinet-sdk";
import { Cl } from "@stacks/transactions";
import * as h from "./helpers";
const { A, C } = h;

// Stacks block limits (epoch 3.x, stacks-core `BLOCK_LIMIT_MAINNET_21`).
export const BLOCK_LIMITS = { runtime: 5_000_000_000, read_count: 15_000, read_length: 100_000_000, write_count: 15_000, write_length: 15_000_000 };
const BTC = 6_000_000_000_000n, STX = 200_000_000n;

function costOf(r: any) {
  const c = r.costs?.total ?? r.costs;
  return { runtime: Number(c.runtime), read_count: Number(c.readCount ?? c.read_count), read_length: Number(c.readLength ?? c.read_length),
           write_count: Number(c.writeCount ?? c.write_count), write_length: Number(c.writeLength ?? c.write_length) };
}
const share = (c: any) => Math.max(...Object.keys(BLOCK_LIMITS).map((k) => c[k] / (BLOCK_LIMITS as any)[k]));

describe("costs", () => {
  beforeAll(async () => { await h.freshChain({ trackCosts: true }); });
  // the suite shares one worker: give the following files a VM without cost tracking again
  afterAll(async () => { await initSimnet(h.MANIFEST, true); });

  it("create-policy and settle batches fit well inside a block", () => {
    for (const p of h.PROVIDERS) h.ok(h.deposit(p, "STX", "aggressive", 10_000_000_000_000n));
    h.pushPrices(BTC, STX);
    h.mineBurn(1);
    const expiry = h.burn() + 10n;
    const creates: any[] = [];
    const N = 86;
    for (let i = 0; i < N; i++) {
      const q = { quoteId: h.nextQuoteId(), buyer: i % 2 ? A.b1 : A.b2, token: "STX", buyerTier: "standard", poolTier: "aggressive",
        strike: 5_700_000_000_000n, amount: 1_000_000n, expiry, premium: 0n, validUntil: h.burn() + 5n };
      q.premium = h.terms(q.strike, q.amount, BTC, "STX", STX, 11000n, 10000n).minPremium;
      const r = h.createPolicy(q);
      h.ok(r);
      creates.push(costOf(r));
    }
    h.mineBurn(10);
    h.pushPrices(5_000_000_000_000n, 150_000_000n); // all ITM: the expensive path (transfers)
    const ph = h.burn();
    h.mineBurn(1);
    const results: Record<string, any> = { "create-policy": creates[1] };
    let id = 1;
    for (const n of [1, 10, 25, 50]) {
      const ids = Array.from({ length: n }, () => Cl.uint(id++));
      const r = h.call(C.registry, "settle-expired", [Cl.uint(expiry), Cl.uint(ph), Cl.uint(ph), Cl.list(ids)], A.keeper);
      const out = h.ok(r);
      expect(out.filter((x: any) => !("ok" in x))).toEqual([]);
      results[`settle-expired x${n}`] = costOf(r);
      if (id > N) break;
    }
    for (const [k, c] of Object.entries(results)) {
      console.log(`COST ${k}: ${JSON.stringify(c)} block-share=${(share(c) * 100).toFixed(2)}%`);
    }
    // A full batch must use < 10% of every block dimension, so batches never crowd a block.
    expect(share(results["settle-expired x50"])).toBeLessThan(0.1);
    expect(share(results["create-policy"])).toBeLessThan(0.02);
  });
});
