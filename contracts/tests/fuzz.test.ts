// Property-based run (fast-check) over random action sequences from every actor: deposits,
// immediate and requested withdrawals (request, cancel, execute), policy creation, price moves,
// settlement, voids after oracle gaps, fund deposits, pauses by the guardian and unpauses by the
// admin. After every action helpers.checkInvariants holds (vault, treasury and fund balances
// reconcile with their books and with the events; locked/unearned/open expiries match the active
// policies; shares and requests add up; nothing closes twice), failed calls emit nothing, and when
// a provider enters or leaves a pool no other provider's book value drops by more than 1 base unit.
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { Cl } from "@stacks/transactions";
import * as h from "./helpers";
const { A } = h;

type Action =
  | { kind: "deposit"; who: number; token: number; tier: number; amount: bigint }
  | { kind: "withdraw"; who: number; token: number; tier: number; pct: number }
  | { kind: "request"; who: number; token: number; tier: number; pct: number }
  | { kind: "execute"; who: number; token: number; tier: number; cancel: boolean }
  | { kind: "create"; who: number; token: number; tier: number; btier: number; strikePct: number; amount: bigint; dur: number; premX: number }
  | { kind: "price"; btcPct: number; stxPct: number; blocks: number }
  | { kind: "settle"; extra: number; blocks: number }
  | { kind: "void"; pick: number }
  | { kind: "fund"; token: number; amount: bigint }
  | { kind: "pause"; action: number; on: number }
  | { kind: "mine"; blocks: number };

const who = fc.nat(2), token = fc.nat(1), tier = fc.nat(2);
const action: fc.Arbitrary<Action> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant("deposit" as const), who, token, tier, amount: fc.bigInt(1n, 5_000_000_000n) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant("withdraw" as const), who, token, tier, pct: fc.integer({ min: 1, max: 100 }) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("request" as const), who, token, tier, pct: fc.integer({ min: 1, max: 100 }) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant("execute" as const), who, token, tier, cancel: fc.boolean() }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant("create" as const), who: fc.nat(1), token, tier, btier: fc.nat(2),
      strikePct: fc.integer({ min: 45, max: 155 }), amount: fc.bigInt(5_000n, 5_000_000n), dur: fc.integer({ min: 4, max: 30 }), premX: fc.integer({ min: 0, max: 4 }) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant("price" as const), btcPct: fc.integer({ min: -9, max: 9 }), stxPct: fc.integer({ min: -9, max: 9 }), blocks: fc.integer({ min: 0, max: 4 }) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant("settle" as const), extra: fc.nat(3), blocks: fc.integer({ min: 0, max: 30 }) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant("void" as const), pick: fc.nat(40) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("fund" as const), token, amount: fc.bigInt(1n, 1_000_000_000n) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("pause" as const), action: fc.nat(1), on: fc.nat(2) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("mine" as const), blocks: fc.integer({ min: 1, max: 16 }) }), weight: 1 },
);

describe("fuzz: random action sequences keep the accounting exact", () => {
  it("invariants hold after every action", async () => {
    const results = new Map<string, number>();
    const count = (k: string) => results.set(k, (results.get(k) ?? 0) + 1);
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 5, maxLength: 30 }), async (actions) => {
        await h.freshChain();
        runs++;
        const ledger = new h.Ledger();
        const priceAt: { height: bigint }[] = [];
        const record = (name: string, r: h.Res) => {
          ledger.track(r);
          count(`${name}:${r.result.type === "ok" ? "ok" : String(h.plain(r.result).err)}`);
          return r;
        };
        const latest = (a: string) => h.ro(h.C.oracle, "get-latest", [Cl.stringAscii(a)])?.price as bigint;
        const push = (btc: bigint, stx: bigint) => {
          record("price", h.submitPrice("BTC", btc));
          record("price", h.submitPrice("STX", stx));
          if (priceAt.at(-1)?.height !== h.burn()) priceAt.push({ height: h.burn() });
        };
        // short price delay and grace so that oracle gaps make some policies voidable
        h.ok(h.setParam("settle.max-price-delay-blocks", 6));
        h.ok(h.setParam("settle.void-grace-blocks", 6));
        push(h.BTC0, h.STX0);
        for (const t of h.TOKENS) for (const tr of h.POOL_TIERS)
          record("seed", h.deposit(A.p3, t, tr, t === "STX" ? 200_000_000_000n : 2_000_000_000n));
        for (const a of actions) {
          const tk = "token" in a ? h.TOKENS[a.token] : "STX";
          const tr = "tier" in a ? h.POOL_TIERS[a.tier] : "balanced";
          const picked = "who" in a ? h.PROVIDERS[a.who] : A.p1;
          // execute/cancel act for a provider that has a request in this pool, if any
          const lp = a.kind === "execute" ? (h.PROVIDERS.find((p) => h.request(tk, tr, p)) ?? picked) : picked;
          // book values of the other providers, to check entries and exits cannot move them
          const others = h.PROVIDERS.filter((p) => p !== lp);
          const watch = ["deposit", "withdraw", "execute"].includes(a.kind);
          const before = watch ? others.map((p) => h.bookValue(tk, tr, p)) : [];
          if (a.kind === "deposit") {
            record("deposit", h.deposit(lp, tk, tr, tk === "STX" ? a.amount * 100n : a.amount));
          } else if (a.kind === "withdraw") {
            const mine = h.shares(tk, tr, lp) - (h.request(tk, tr, lp)?.shares ?? 0n);
            if (mine > 0n) record("withdraw", h.withdraw(lp, tk, tr, (mine * BigInt(a.pct)) / 100n || 1n));
          } else if (a.kind === "request") {
            const mine = h.shares(tk, tr, lp);
            if (mine > 0n) record("request", h.requestWithdrawal(lp, tk, tr, (mine * BigInt(a.pct)) / 100n || 1n));
          } else if (a.kind === "execute") {
            record(a.cancel ? "cancel" : "execute", a.cancel ? h.cancelWithdrawal(lp, tk, tr) : h.executeWithdrawal(lp, tk, tr));
          } else if (a.kind === "create") {
            if (h.burn() - priceAt[priceAt.length - 1].height > 3n) push(latest("BTC"), latest("STX")); // quotes need fresh prices
            const btc = latest("BTC");
            const q = h.quote({ buyer: h.BUYERS[a.who], token: tk, poolTier: tr, buyerTier: h.BUYER_TIERS[a.btier],
              strike: (btc * BigInt(a.strikePct)) / 100n, amount: a.amount, expiry: h.burn() + BigInt(a.dur), premium: 1n });
            const t = h.ro(h.C.registry, "quote-terms", [Cl.stringAscii(tk), Cl.stringAscii(q.buyerTier), Cl.uint(q.strike), Cl.uint(q.amount)]).ok;
            q.premium = a.premX === 0 ? t["min-premium"] / 2n : (t["min-premium"] * BigInt(a.premX + 1)) / 2n; // premX 0: below the minimum
            record("create", h.createPolicy(q));
          } else if (a.kind === "price") {
            h.mineBurn(a.blocks);
            push((latest("BTC") * BigInt(100 + a.btcPct)) / 100n, (latest("STX") * BigInt(100 + a.stxPct)) / 100n);
          } else if (a.kind === "mine") {
            h.mineBurn(a.blocks);
          } else if (a.kind === "fund") {
            record("fund", h.fundDeposit(A.b2, tk, a.amount));
          } else if (a.kind === "pause") {
            const act = ["deposit", "create-policy"][a.action];
            record("pause", a.on === 0 ? h.setPaused(act, true, A.guardian) : h.setPaused(act, false));
          } else if (a.kind === "void") {
            const last = BigInt(h.ro(h.C.registry, "get-last-policy-id"));
            if (last > 0n) {
              const id = BigInt(a.pick) % last + 1n;
              const p = h.policy(id);
              const first = priceAt.find((x) => x.height >= p.expiry);
              const hint = first ? first.height : 0n;
              record("void", h.voidPolicy(id, hint, hint));
            }
          } else if (a.kind === "settle") {
            // time passes, the oracle pushes, then anyone settles every expiry with a final price after it
            h.mineBurn(a.blocks);
            push(latest("BTC"), latest("STX"));
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
              const list = [...ids, ...(a.extra === 1 ? [ids[0]] : []), ...(a.extra === 2 ? [999n] : [])].slice(0, 50);
              record("settle", h.settle(expiry, hint, hint, list, a.extra === 3 ? A.b1 : A.outsider));
            }
          }
          if (watch) others.forEach((p, i) => expect(h.bookValue(tk, tr, p) >= before[i] - 1n, `${a.kind} moved ${p}`).toBe(true));
          h.checkInvariants(ledger);
        }
      }),
      { numRuns: 12, seed: 4242, endOnFailure: true },
    );
    console.log("fuzz results", JSON.stringify([...results].sort()));
    const n = (prefix: string) => [...results].filter(([k]) => k === `${prefix}:ok`).reduce((s, [, v]) => s + v, 0);
    console.log(`fuzz: ${runs} runs`);
    expect(n("create")).toBeGreaterThan(8);
    expect(n("settle")).toBeGreaterThan(5);
    expect(n("execute")).toBeGreaterThan(0);
    expect(n("withdraw")).toBeGreaterThan(1);
  });
});
