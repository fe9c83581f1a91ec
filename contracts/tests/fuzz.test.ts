// Property-based run (fast-check) over random action sequences from every actor. After every
// action the accounting invariants of helpers.checkInvariants hold (I1–I5: vault balances ==
// sum of pool assets, shares == sum of positions, voting power == STX shares, locked == collateral
// of active policies == sum of expiry-locked, no policy settled twice, pool assets == ledger of
// deposits − withdrawals + premiums − payouts from events) and failed calls change nothing.
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import * as h from "./helpers";
const { A } = h;

type Action =
  | { kind: "deposit"; who: number; token: number; tier: number; amount: bigint }
  | { kind: "withdraw"; who: number; token: number; tier: number; pct: number }
  | { kind: "create"; who: number; token: number; tier: number; btier: number; strikePct: number; amount: bigint; dur: number; premX: number }
  | { kind: "price"; btcPct: number; stxPct: number; blocks: number }
  | { kind: "settle"; extra: number; blocks: number }
  | { kind: "mine"; blocks: number };

const action: fc.Arbitrary<Action> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant("deposit" as const), who: fc.nat(2), token: fc.nat(1), tier: fc.nat(2), amount: fc.bigInt(1n, 5_000_000_000n) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant("withdraw" as const), who: fc.nat(2), token: fc.nat(1), tier: fc.nat(2), pct: fc.integer({ min: 1, max: 100 }) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("create" as const), who: fc.nat(1), token: fc.nat(1), tier: fc.nat(2), btier: fc.nat(2),
      strikePct: fc.integer({ min: 45, max: 155 }), amount: fc.bigInt(5_000n, 5_000_000n), dur: fc.integer({ min: 4, max: 30 }), premX: fc.integer({ min: 0, max: 4 }) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant("price" as const), btcPct: fc.integer({ min: -9, max: 9 }), stxPct: fc.integer({ min: -9, max: 9 }), blocks: fc.integer({ min: 0, max: 4 }) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant("settle" as const), extra: fc.nat(3), blocks: fc.integer({ min: 0, max: 30 }) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("mine" as const), blocks: fc.integer({ min: 1, max: 8 }) }), weight: 1 },
);

describe("fuzz: random action sequences keep the pool accounting exact", () => {
  it("invariants hold after every action", async () => {
    let invTime = 0;
    const createResults = new Map<string, number>();
    let runs = 0, created = 0, settledCount = 0, withdrawals = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 5, maxLength: 25 }), async (actions) => {
        await h.freshChain();
        runs++;
        const ledger = new Map<string, bigint>();
        const settled = new Map<bigint, number>();
        const prices: Record<string, bigint> = { BTC: h.BTC0, STX: h.STX0 };
        const priceAt: { height: bigint; btc: bigint; stx: bigint }[] = [];
        const record = (r: h.Res) => {
          for (const e of h.prints(r)) {
            const k = `${e.token}/${e.tier}`;
            if (e.event === "pool-deposit") ledger.set(k, (ledger.get(k) ?? 0n) + e.amount);
            if (e.event === "pool-withdraw") { ledger.set(k, ledger.get(k)! - e.amount); withdrawals++; }
            if (e.event === "policy-created") { ledger.set(k, ledger.get(k)! + e.premium); created++; }
            if (e.event === "policy-settled") {
              ledger.set(k, ledger.get(k)! - e.payout);
              settled.set(e["policy-id"], (settled.get(e["policy-id"]) ?? 0) + 1);
              settledCount++;
            }
          }
          if (r.result.type !== "ok") expect(r.events).toEqual([]);
        };
        const push = () => {
          record(h.submitPrice("BTC", prices.BTC));
          record(h.submitPrice("STX", prices.STX));
          priceAt.push({ height: h.burn(), btc: prices.BTC, stx: prices.STX });
        };
        push();
        // providers seed every pool so that random policies have capacity to hit
        for (const t of h.TOKENS) for (const tier of h.POOL_TIERS)
          record(h.deposit(A.p3, t, tier, t === "STX" ? 200_000_000_000n : 2_000_000_000n));
        for (const a of actions) {
          const token = "token" in a ? h.TOKENS[a.token] : "STX";
          const tier = "tier" in a ? h.POOL_TIERS[a.tier] : "balanced";
          if (a.kind === "deposit") {
            record(h.deposit(h.PROVIDERS[a.who], token, tier, token === "STX" ? a.amount * 100n : a.amount));
          } else if (a.kind === "withdraw") {
            const mine = h.shares(token, tier, h.PROVIDERS[a.who]);
            if (mine > 0n) record(h.withdraw(h.PROVIDERS[a.who], token, tier, (mine * BigInt(a.pct)) / 100n || 1n));
          } else if (a.kind === "create") {
            if (h.burn() - priceAt[priceAt.length - 1].height > 3n) push(); // quotes use fresh prices
            const btier = h.BUYER_TIERS[a.btier];
            const q = h.quote({ buyer: h.BUYERS[a.who], token, poolTier: tier, buyerTier: btier,
              strike: (prices.BTC * BigInt(a.strikePct)) / 100n, amount: a.amount, expiry: h.burn() + BigInt(a.dur) },
              { btc: prices.BTC, stxPrice: prices.STX });
            if (a.premX === 0) q.premium = q.premium / 4n; // often below the minimum: must fail cleanly
            else q.premium = (q.premium * BigInt(a.premX)) / 2n;
            const cr = h.createPolicy({ ...q }, h.signQuote(q), q.buyer);
            record(cr);
            const code = cr.result.type === "ok" ? "ok" : String(h.plain(cr.result).err);
            createResults.set(code, (createResults.get(code) ?? 0) + 1);
          } else if (a.kind === "price") {
            h.mineBurn(a.blocks);
            prices.BTC = (prices.BTC * BigInt(100 + a.btcPct)) / 100n;
            prices.STX = (prices.STX * BigInt(100 + a.stxPct)) / 100n;
            push();
          } else if (a.kind === "mine") {
            h.mineBurn(a.blocks);
          } else if (a.kind === "settle") {
            // time passes, the oracle pushes, then the keeper settles every expiry with a final price after it
            h.mineBurn(a.blocks);
            push();
            h.mineBurn(1);
            const last = BigInt(h.ro(h.C.registry, "get-last-policy-id"));
            const byExpiry = new Map<bigint, bigint[]>();
            for (let id = 1n; id <= last; id++) {
              const p = h.policy(id);
              if (p.status === "active" || a.extra === 0) byExpiry.set(p.expiry, [...(byExpiry.get(p.expiry) ?? []), id]);
            }
            for (const [expiry, ids] of byExpiry) {
              if (expiry >= h.burn()) continue;
              const first = priceAt.find((x) => x.height >= expiry);
              const hint = first ? first.height : expiry;
              const r = h.settle(expiry, hint, hint, [...ids, ...(a.extra === 1 ? [ids[0]] : []), ...(a.extra === 2 ? [999n] : [])].slice(0, 50));
              record(r);
            }
          }
          const t0 = performance.now();
          h.checkInvariants({ ledger, settledEvents: settled });
          invTime += performance.now() - t0;
        }
      }),
      { numRuns: 12, seed: 4242, endOnFailure: true },
    );
    console.log("create results", JSON.stringify([...createResults]));
    console.log(`invariant checks took ${invTime.toFixed(0)} ms`);
    console.log(`fuzz: ${runs} runs, ${created} policies created, ${settledCount} settled, ${withdrawals} withdrawals`);
    expect(created).toBeGreaterThan(12);
    expect(settledCount).toBeGreaterThan(5);
  });
});
