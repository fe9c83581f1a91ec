// Shared test helpers: chain setup (replays devnet-setup.json), typed contract calls, quote
// signing over the contract's own digest (quote-hash), formulas read from the contracts'
// read-only functions (never recomputed here), and the accounting invariants.
import { initSimnet } from "@stacks/clarinet-sdk";
import { Cl, ClarityValue, signMessageHashRsv } from "@stacks/transactions";
import { readFileSync } from "node:fs";
import { expect } from "vitest";

/** EVENTS.md as { event name → documented field names }. */
export function eventCatalog(): Map<string, string[]> {
  const doc = readFileSync(new URL("../EVENTS.md", import.meta.url), "utf8");
  const catalog = new Map<string, string[]>();
  let current: string | null = null;
  for (const line of doc.split("\n")) {
    const head = line.match(/^### `([a-z-]+)`/);
    if (head) { current = head[1]; catalog.set(current, []); continue; }
    const row = line.match(/^\| `([a-z-]+)` \| ([^|]+) \|/);
    if (row && current) catalog.get(current)!.push(row[1]);
  }
  return catalog;
}

type Simnet = Awaited<ReturnType<typeof initSimnet>>;

const root = new URL("..", import.meta.url).pathname;
export const MANIFEST = `${root}Clarinet.toml`;
export const SETUP = JSON.parse(readFileSync(`${root}devnet-setup.json`, "utf8"));
const ACCOUNTS: { label: string; address: string; privateKey: string; role: string }[] = JSON.parse(
  readFileSync(`${root}settings/devnet-accounts.json`, "utf8"),
).accounts;
const addr = (label: string) => ACCOUNTS.find((a) => a.label === label)!.address;
export const KEY = (label: string) => ACCOUNTS.find((a) => a.label === label)!.privateKey;

export const A = {
  deployer: addr("deployer"),
  keeper: addr("wallet_1"), // runs settlement (permissionless) and holds the guardian role
  guardian: addr("wallet_1"),
  submitter: addr("wallet_2"),
  signer: addr("wallet_3"),
  p1: addr("wallet_4"),
  p2: addr("wallet_5"),
  p3: addr("wallet_6"),
  b1: addr("wallet_7"),
  b2: addr("wallet_8"),
  outsider: addr("faucet"),
};
export const PROVIDERS = [A.p1, A.p2, A.p3];
export const BUYERS = [A.b1, A.b2];
export const SIGNER_KEY = KEY("wallet_3");

export const SBTC = "SM3VDXK3WZZSA84XXFKAFAF15NNZX32CTSG82JFQ4.sbtc-token";
export const C = {
  params: `${A.deployer}.bithedge-parameters`,
  oracle: `${A.deployer}.bithedge-oracle`,
  vault: `${A.deployer}.bithedge-vault`,
  registry: `${A.deployer}.bithedge-policy-registry`,
  gov: `${A.deployer}.bithedge-governance`,
  treasury: `${A.deployer}.bithedge-treasury`,
  fund: `${A.deployer}.bithedge-insurance-fund`,
};
export const TOKENS = ["STX", "sBTC"] as const;
export const POOL_TIERS = ["conservative", "balanced", "aggressive"] as const;
/** Pools the invariant check sums over; tests that create extra pools add their tier here. */
export const INVARIANT_TIERS: string[] = [...POOL_TIERS];
export const BUYER_TIERS = ["conservative", "standard", "flexible"] as const;

// ------------------------------------------------------------------ chain
export let simnet: Simnet;

/** Fresh chain (same WASM instance), optionally with the devnet setup sequence replayed. */
export async function freshChain(opts: { setup?: boolean; trackCosts?: boolean } = {}): Promise<Simnet> {
  const { setup = true, trackCosts = false } = opts;
  simnet = trackCosts ? await initSimnet(MANIFEST, true, { trackCosts: true }) : await initSimnet(MANIFEST);
  if (setup) replaySetup();
  return simnet;
}

export function argToCV(a: { type: string; value: string }): ClarityValue {
  if (a.type === "uint") return Cl.uint(BigInt(a.value));
  if (a.type === "string-ascii") return Cl.stringAscii(a.value);
  if (a.type === "principal") return Cl.principal(a.value);
  throw new Error(`unknown arg type ${a.type}`);
}

export function replaySetup() {
  for (const step of SETUP.steps) {
    const r = simnet.callPublicFn(step.contract_id, step.function, step.args.map(argToCV), addr(step.sender));
    if (r.result.type !== "ok") throw new Error(`setup step failed: ${step.repr} -> ${JSON.stringify(r.result)}`);
  }
  for (const m of SETUP.sbtc_mints.mints) simnet.mintFT(SETUP.sbtc_mints.asset, m.recipient, BigInt(m.amount));
}

// ------------------------------------------------------------------ calls
/** Deep Clarity -> JS: uint/int -> bigint, optional -> value|null, response -> {ok}|{err}. */
export function plain(cv: any): any {
  switch (cv.type) {
    case "uint": case "int": return BigInt(cv.value);
    case "true": return true;
    case "false": return false;
    case "ascii": case "utf8": case "address": case "contract": return cv.value;
    case "buffer": return cv.value;
    case "none": return null;
    case "some": return plain(cv.value);
    case "ok": return { ok: plain(cv.value) };
    case "err": return { err: plain(cv.value) };
    case "list": return cv.value.map(plain);
    case "tuple": return Object.fromEntries(Object.entries(cv.value).map(([k, v]) => [k, plain(v)]));
    default: throw new Error(`unknown cv type ${cv.type}`);
  }
}
const cvToValue = (cv: any, _strict?: boolean) => plain(cv);
export type Res = { result: ClarityValue; events: any[]; costs?: any };

export function call(contract: string, fn: string, args: ClarityValue[], sender: string): Res {
  return simnet.callPublicFn(contract, fn, args, sender) as Res;
}
export function ro(contract: string, fn: string, args: ClarityValue[] = []): any {
  return cvToValue(simnet.callReadOnlyFn(contract, fn, args, A.deployer).result, true);
}
export function roCV(contract: string, fn: string, args: ClarityValue[] = []): ClarityValue {
  return simnet.callReadOnlyFn(contract, fn, args, A.deployer).result;
}

/** Asserts (ok ...) and returns the JS value. */
export function ok(r: Res): any {
  if (r.result.type !== "ok") throw new Error(`expected ok, got ${JSON.stringify(r.result)}`);
  return cvToValue((r.result as any).value, true);
}
/** Asserts (err uN) with the given code. */
export function expectErr(r: Res, code: number) {
  expect(r.result).toEqual(Cl.error(Cl.uint(code)));
  expect(r.events).toEqual([]);
}

/** The print events of a call, decoded to plain JS (uints as bigint). */
export function prints(r: Res): any[] {
  return r.events.filter((e) => e.event === "print_event").map((e) => cvToValue(e.data.value, true));
}
/** Exactly one print event with the given name. */
export function onePrint(r: Res, name: string): any {
  const ps = prints(r);
  expect(ps.length).toBe(1);
  expect(ps[0].event).toBe(name);
  return ps[0];
}

export const burn = () => BigInt(simnet.burnBlockHeight);
export const mineBurn = (n: number) => simnet.mineEmptyBurnBlocks(n);

// ------------------------------------------------------------------ domain helpers
export function grant(who: string, role: string, sender = A.deployer) {
  return call(C.params, "grant-role", [Cl.principal(who), Cl.stringAscii(role)], sender);
}
export function setParam(key: string, value: bigint | number, sender = A.deployer) {
  return call(C.params, "set-param", [Cl.stringAscii(key), Cl.uint(value)], sender);
}
export function submitPrice(asset: string, price: bigint, sender = A.submitter) {
  return call(C.oracle, "submit-price", [Cl.stringAscii(asset), Cl.uint(price)], sender);
}
/**
 * Walks the oracle to a crash level the guard allows: widens the per-block band to 50 % (admin
 * parameters) and halves towards the targets once per burn block. Returns the blocks used.
 */
export function walkPrices(btc: bigint, stx: bigint): number {
  ok(setParam("oracle.max-deviation-bp", 5000));
  let blocks = 0;
  for (;;) {
    const cur = (a: string) => ro(C.oracle, "get-latest", [Cl.stringAscii(a)]).price as bigint;
    const b = cur("BTC"), s = cur("STX");
    if (b === btc && s === stx) return blocks;
    mineBurn(1);
    blocks++;
    ok(submitPrice("BTC", b / 2n > btc ? b / 2n : btc));
    ok(submitPrice("STX", s / 2n > stx ? s / 2n : stx));
  }
}
/** Pushes BTC and STX prices in the current burn block. */
export function pushPrices(btc: bigint, stx: bigint) {
  ok(submitPrice("BTC", btc));
  ok(submitPrice("STX", stx));
}
export function deposit(provider: string, token: string, tier: string, amount: bigint) {
  return call(C.vault, "deposit", [Cl.stringAscii(token), Cl.stringAscii(tier), Cl.uint(amount)], provider);
}
export function withdraw(provider: string, token: string, tier: string, shares: bigint) {
  return call(C.vault, "withdraw", [Cl.stringAscii(token), Cl.stringAscii(tier), Cl.uint(shares)], provider);
}
export function requestWithdrawal(provider: string, token: string, tier: string, shares: bigint) {
  return call(C.vault, "request-withdrawal", [Cl.stringAscii(token), Cl.stringAscii(tier), Cl.uint(shares)], provider);
}
export function executeWithdrawal(provider: string, token: string, tier: string) {
  return call(C.vault, "execute-withdrawal", [Cl.stringAscii(token), Cl.stringAscii(tier)], provider);
}
export function cancelWithdrawal(provider: string, token: string, tier: string) {
  return call(C.vault, "cancel-withdrawal", [Cl.stringAscii(token), Cl.stringAscii(tier)], provider);
}
export function setPaused(action: string, paused: boolean, sender = A.deployer) {
  return call(C.params, "set-paused", [Cl.stringAscii(action), Cl.bool(paused)], sender);
}
export function fundDeposit(who: string, token: string, amount: bigint) {
  return call(C.fund, "deposit", [Cl.stringAscii(token), Cl.uint(amount)], who);
}

export interface Quote {
  quoteId: bigint; buyer: string; token: string; buyerTier: string; poolTier: string;
  strike: bigint; amount: bigint; expiry: bigint; premium: bigint; issuedAt: bigint; spot: bigint; validUntil: bigint;
}

/** The registry's own digest of a quote (read-only quote-hash), hex. */
export function quoteDigest(q: Quote): string {
  return ro(C.registry, "quote-hash", [Cl.uint(q.quoteId), Cl.principal(q.buyer), Cl.stringAscii(q.token),
    Cl.stringAscii(q.buyerTier), Cl.stringAscii(q.poolTier), Cl.uint(q.strike), Cl.uint(q.amount), Cl.uint(q.expiry),
    Cl.uint(q.premium), Cl.uint(q.issuedAt), Cl.uint(q.spot), Cl.uint(q.validUntil)]);
}
export function signDigest(digest: string, key = SIGNER_KEY): string {
  return signMessageHashRsv({ messageHash: digest, privateKey: key });
}
export function signQuote(q: Quote, key = SIGNER_KEY): string {
  return signDigest(quoteDigest(q), key);
}

export function createPolicy(q: Quote, sig = signQuote(q), sender = q.buyer) {
  return call(C.registry, "create-policy", [
    Cl.uint(q.quoteId), Cl.stringAscii(q.token), Cl.stringAscii(q.buyerTier), Cl.stringAscii(q.poolTier),
    Cl.uint(q.strike), Cl.uint(q.amount), Cl.uint(q.expiry), Cl.uint(q.premium), Cl.uint(q.issuedAt),
    Cl.uint(q.spot), Cl.uint(q.validUntil), Cl.bufferFromHex(sig),
  ], sender);
}

export interface Terms {
  "max-payout": bigint; collateral: bigint; intrinsic: bigint; "min-premium": bigint; "max-premium": bigint;
  "stress-price": bigint; "coverage-floor": bigint;
}
/** The registry's policy-terms for explicit prices and tier values (defaults: parameter defaults). */
export function policyTerms(token: string, strike: bigint, amount: bigint, spot: bigint, price: bigint,
                            ratioBp: bigint, adjBp: bigint, o: { minBp?: bigint; maxBp?: bigint; stressBp?: bigint } = {}): Terms {
  const stress = o.stressBp ?? (token === "sBTC" ? 5000n : 6000n);
  return ro(C.registry, "policy-terms", [Cl.stringAscii(token), Cl.uint(strike), Cl.uint(amount), Cl.uint(spot), Cl.uint(price),
    Cl.uint(ratioBp), Cl.uint(adjBp), Cl.uint(o.minBp ?? 10n), Cl.uint(o.maxBp ?? 5000n), Cl.uint(stress)]).ok;
}
/** The registry's quote-terms: policy-terms at the current oracle prices, tier and parameters. */
export function quoteTerms(token: string, buyerTier: string, strike: bigint, amount: bigint): Terms & { spot: bigint; "fee-bp": bigint; "fund-bp": bigint } {
  const r = ro(C.registry, "quote-terms", [Cl.stringAscii(token), Cl.stringAscii(buyerTier), Cl.uint(strike), Cl.uint(amount)]);
  if (!r.ok) throw new Error(`quote-terms failed: ${JSON.stringify(r)}`);
  return r.ok;
}
/** The registry's payout-terms: { uncapped, payout, shortfall }. */
export function payoutTerms(token: string, strike: bigint, amount: bigint, settle: bigint, price: bigint, collateral: bigint) {
  return ro(C.registry, "payout-terms", [Cl.stringAscii(token), Cl.uint(strike), Cl.uint(amount), Cl.uint(settle),
    Cl.uint(price), Cl.uint(collateral)]).ok as { uncapped: bigint; payout: bigint; shortfall: bigint };
}
/** The payout of a stored policy at settlement prices. */
export function payoutOf(p: any, btc: bigint, collPrice: bigint): bigint {
  return payoutTerms(p.token, p.strike, p.amount, btc, collPrice, p.collateral).payout;
}
/** The registry's premium-split at the current fee and fund rates. */
export function premiumSplit(premium: bigint): { fee: bigint; fund: bigint; pool: bigint } {
  const fee = ro(C.params, "get-param", [Cl.stringAscii("fee.protocol-bp")]);
  const fund = ro(C.params, "get-param", [Cl.stringAscii("fund.premium-bp")]);
  return ro(C.registry, "premium-split", [Cl.uint(premium), Cl.uint(fee), Cl.uint(fund)]);
}

let quoteCounter = 1000n;
export const nextQuoteId = () => ++quoteCounter;

// ------------------------------------------------------------------ invariants
export function tokenBalance(token: string, who: string): bigint {
  if (token === "STX") return simnet.getAssetsMap().get("STX")?.get(who) ?? 0n;
  return ro(SBTC, "get-balance", [Cl.principal(who)]).ok as bigint;
}
export type Pool = { assets: bigint; unearned: bigint; shares: bigint; locked: bigint; pending: bigint; premiums: bigint;
  payouts: bigint; generation: bigint; "next-expiry": bigint };
export function pool(token: string, tier: string): Pool | null {
  return ro(C.vault, "get-pool", [Cl.stringAscii(token), Cl.stringAscii(tier)]);
}
export function shares(token: string, tier: string, who: string): bigint {
  return ro(C.vault, "get-shares", [Cl.stringAscii(token), Cl.stringAscii(tier), Cl.principal(who)]);
}
export function request(token: string, tier: string, who: string): { shares: bigint; after: bigint } | null {
  return ro(C.vault, "get-withdrawal-request", [Cl.stringAscii(token), Cl.stringAscii(tier), Cl.principal(who)]);
}
/** Book value of a position: its share of earned assets and unearned premium (vault value-of-shares). */
export function bookValue(token: string, tier: string, who: string): bigint {
  const p = pool(token, tier)!;
  return ro(C.vault, "value-of-shares", [Cl.uint(shares(token, tier, who)), Cl.uint(p.assets + p.unearned), Cl.uint(p.shares)]);
}
export function policy(id: bigint | number): any {
  return ro(C.registry, "get-policy", [Cl.uint(id)]);
}
export const treasury = (token: string) => ro(C.treasury, "get-totals", [Cl.stringAscii(token)]);
export const fund = (token: string) => ro(C.fund, "get-totals", [Cl.stringAscii(token)]);

/** Reconstructs pool, treasury and fund balances from events alone (the off-chain view). */
export class Ledger {
  pools = new Map<string, { assets: bigint; unearned: bigint }>();
  treasury = new Map<string, bigint>();
  fund = new Map<string, bigint>();
  settled = new Map<bigint, number>();
  private p(k: string) { if (!this.pools.has(k)) this.pools.set(k, { assets: 0n, unearned: 0n }); return this.pools.get(k)!; }
  private add(m: Map<string, bigint>, k: string, v: bigint) { m.set(k, (m.get(k) ?? 0n) + v); }
  track(r: Res) {
    for (const e of prints(r)) {
      const k = `${e.token}/${e.tier}`;
      switch (e.event) {
        case "pool-deposit": this.p(k).assets += e.amount; break;
        case "pool-withdraw": case "withdrawal-executed": this.p(k).assets -= e.amount; break;
        case "policy-created": this.p(k).unearned += e["pool-premium"]; break;
        case "policy-settled":
          this.p(k).unearned -= e["pool-premium"]; this.p(k).assets += e["pool-premium"] - e.payout;
          this.settled.set(e["policy-id"], (this.settled.get(e["policy-id"]) ?? 0) + 1); break;
        case "policy-voided":
          this.p(k).unearned -= e.refund;
          this.settled.set(e["policy-id"], (this.settled.get(e["policy-id"]) ?? 0) + 1); break;
        case "fee-collected": this.add(this.treasury, e.token, e.amount); break;
        case "treasury-disbursed": this.add(this.treasury, e.token, -e.amount); break;
        case "fund-deposit": this.add(this.fund, e.token, e.amount); break;
        case "fund-cover": this.add(this.fund, e.token, -e.covered); break;
      }
      if (["pool-deposit", "pool-withdraw", "withdrawal-executed", "policy-created", "policy-settled", "policy-voided"].includes(e.event)) {
        expect(e["pool-assets"], e.event).toBe(this.p(k).assets); // the event's totals are the ledger's
        expect(e["pool-unearned"], e.event).toBe(this.p(k).unearned);
      }
    }
    if (r.result.type !== "ok") expect(r.events).toEqual([]);
    return r;
  }
}

/**
 * Accounting invariants, checked after every step of the lifecycle and fuzz tests:
 *  I1 vault token balance == sum of pool assets + unearned, per token; treasury and fund token
 *     balances == their internal balances (nothing is sent to them directly in the suite);
 *  I2 pool shares == sum of provider positions; pending == sum of withdrawal requests; the v1 power
 *     total == sum of the providers' power;
 *  I3 0 <= locked <= assets; locked == sum of collateral of the pool's active policies == sum of
 *     expiry-locked; unearned == sum of their pool premiums; the open-expiry list == their expiries;
 *  I4 every policy is active, settled or voided; settled: payout <= collateral, fund-cover <=
 *     uncapped − payout; closed policies were closed exactly once (ledger.settled);
 *  I5 pool assets, unearned, treasury and fund balances == the ledger rebuilt from events.
 */
export function checkInvariants(ledger?: Ledger) {
  const active = new Map<string, { collateral: bigint; premium: bigint; expiries: Set<bigint> }>();
  const expiryLocked = new Map<string, bigint>();
  const last = BigInt(ro(C.registry, "get-last-policy-id"));
  for (let id = 1n; id <= last; id++) {
    const p = policy(id);
    expect(p).not.toBeNull();
    const key = `${p.token}/${p["pool-tier"]}`;
    if (p.status === "active") {
      const a = active.get(key) ?? { collateral: 0n, premium: 0n, expiries: new Set<bigint>() };
      a.collateral += p.collateral; a.premium += p["pool-premium"]; a.expiries.add(p.expiry);
      active.set(key, a);
      const ek = `${key}/${p.expiry}`;
      expiryLocked.set(ek, (expiryLocked.get(ek) ?? 0n) + p.collateral);
      expect(p.payout).toBe(0n);
    } else {
      expect(["settled-itm", "settled-otm", "voided"]).toContain(p.status);
      expect(p.payout <= p.collateral).toBe(true);
      expect(p.status === "settled-itm").toBe(p.payout > 0n);
      if (p.status === "voided") expect(p.payout + p["fund-cover"]).toBe(0n);
    }
    if (ledger) expect(ledger.settled.get(id) ?? 0).toBe(p.status === "active" ? 0 : 1);
  }
  for (const [ek, v] of expiryLocked) {
    const [token, tier, expiry] = ek.split("/");
    expect(ro(C.vault, "get-expiry-locked", [Cl.stringAscii(token), Cl.stringAscii(tier), Cl.uint(BigInt(expiry))])).toBe(v);
  }
  for (const token of TOKENS) {
    let sum = 0n;
    for (const tier of INVARIANT_TIERS) {
      const p = pool(token, tier);
      if (!p) continue;
      const a = active.get(`${token}/${tier}`) ?? { collateral: 0n, premium: 0n, expiries: new Set<bigint>() };
      sum += p.assets + p.unearned;
      expect(p.locked <= p.assets).toBe(true);
      expect(p.locked).toBe(a.collateral);
      expect(p.unearned).toBe(a.premium);
      const open: bigint[] = ro(C.vault, "get-open-expiries", [Cl.stringAscii(token), Cl.stringAscii(tier)]);
      expect([...open].sort()).toEqual([...a.expiries].sort());
      expect(p["next-expiry"]).toBe(open.length ? open.reduce((m, e) => (e < m ? e : m)) : 0n);
      const held = PROVIDERS.reduce((s, who) => s + shares(token, tier, who), 0n);
      expect(held).toBe(p.shares);
      const requested = PROVIDERS.reduce((s, who) => s + (request(token, tier, who)?.shares ?? 0n), 0n);
      expect(requested).toBe(p.pending);
      if (ledger) {
        const l = ledger.pools.get(`${token}/${tier}`) ?? { assets: 0n, unearned: 0n };
        expect(p.assets).toBe(l.assets);
        expect(p.unearned).toBe(l.unearned);
      }
    }
    expect(tokenBalance(token, C.vault)).toBe(sum);
    const t = treasury(token), f = fund(token);
    expect(t.balance).toBe(t.fees - t.disbursed);
    expect(tokenBalance(token, C.treasury)).toBe(t.balance);
    expect(f.balance).toBe(f.deposits + f.premiums - f.covers);
    expect(f.balance >= 0n).toBe(true);
    expect(tokenBalance(token, C.fund)).toBe(f.balance);
    if (ledger) {
      expect(t.balance).toBe(ledger.treasury.get(token) ?? 0n);
      expect(f.balance).toBe(ledger.fund.get(token) ?? 0n);
    }
  }
  const power = PROVIDERS.reduce((s, who) => s + (ro(C.vault, "get-voting-power", [Cl.principal(who)]) as bigint), 0n);
  expect(ro(C.vault, "get-total-voting-power")).toBe(power);
}

// ------------------------------------------------------------------ scenario helpers
export const BTC0 = 6_000_000_000_000n; // $60,000
export const STX0 = 200_000_000n; // $2

/** Seeds every pool with provider liquidity and pushes prices; returns after one burn block. */
export function market(opts: { stx?: bigint; sbtc?: bigint; btc?: bigint; stxPrice?: bigint } = {}) {
  const { stx = 1_000_000_000_000n, sbtc = 10_000_000_000n, btc = BTC0, stxPrice = STX0 } = opts;
  for (const tier of POOL_TIERS) {
    ok(deposit(A.p1, "STX", tier, stx));
    ok(deposit(A.p2, "sBTC", tier, sbtc));
  }
  pushPrices(btc, stxPrice);
  return { btc, stxPrice };
}

/** A valid quote (premium = 2 × the contract's minimum at the current oracle prices), with overrides. */
export function quote(o: Partial<Quote> = {}): Quote {
  const now = burn();
  const latest = ro(C.oracle, "get-latest", [Cl.stringAscii("BTC")]);
  const spot = latest ? latest.price : BTC0;
  const q: Quote = { quoteId: nextQuoteId(), buyer: A.b1, token: "STX", buyerTier: "standard", poolTier: "balanced",
    strike: (spot * 9n) / 10n, amount: 10_000_000n, expiry: now + 20n, premium: 0n, issuedAt: now, spot,
    validUntil: now + 2n, ...o };
  if (o.premium === undefined) q.premium = quoteTerms(q.token, q.buyerTier, q.strike, q.amount)["min-premium"] * 2n;
  return q;
}

export function voidPolicy(id: bigint | number, btcH: bigint, stxH: bigint, sender = A.outsider) {
  return call(C.registry, "void-policy", [Cl.uint(id), Cl.uint(btcH), Cl.uint(stxH)], sender);
}

export function settle(expiry: bigint, btcH: bigint, stxH: bigint, ids: (bigint | number)[], sender = A.keeper) {
  return call(C.registry, "settle-expired", [Cl.uint(expiry), Cl.uint(btcH), Cl.uint(stxH), Cl.list(ids.map((i) => Cl.uint(i)))], sender);
}
