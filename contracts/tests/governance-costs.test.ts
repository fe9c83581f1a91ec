// Execution cost of the governance calls (clarinet-sdk trackCosts): vote and the proposer check read
// every voting pool at the snapshot through at-block. Printed for contracts/README.md "Governance".
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { initSimnet } from "@stacks/clarinet-sdk";
import * as h from "./helpers";
import * as g from "./governance-helpers";
const { A } = h;

// One tenure's budget (costs.test.ts TENURE_LIMITS): read_count is the dimension at-block reads load.
const READ_COUNT = 15_000, RUNTIME = 5_000_000_000;

describe("governance costs", () => {
  beforeAll(async () => { await h.freshChain({ trackCosts: true }); });
  afterAll(async () => { await initSimnet(h.MANIFEST, true); }); // later files get a VM without cost tracking

  it("propose, vote, execute and cancel each take well under 1 % of a tenure", () => {
    for (const tier of h.POOL_TIERS) h.ok(h.deposit(A.p1, "STX", tier, 5_000_000_000n));
    const rows: Record<string, h.Res> = {};
    rows["propose-param"] = g.proposeParam("premium.min-bp", 20, A.p1);
    g.openVoting(1);
    rows.vote = g.vote(1, true, A.p1);
    rows.cancel = g.cancel(Number(h.ok(g.proposeParam("premium.min-bp", 30, A.p1))), A.p1);
    h.mineBurn(g.blocksToEta(1));
    rows.execute = g.execute(1);
    for (const [name, r] of Object.entries(rows)) {
      h.ok(r);
      const c = r.costs!.total;
      console.log(`${name}: runtime ${c.runtime}, read_count ${c.readCount}, read_length ${c.readLength}, write_count ${c.writeCount}, write_length ${c.writeLength}`);
      expect(Number(c.readCount)).toBeLessThan(READ_COUNT / 100);
      expect(Number(c.runtime)).toBeLessThan(RUNTIME / 100);
    }
  });
});
