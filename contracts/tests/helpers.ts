// Shared test helpers: chain setup (replays devnet-setup.json), typed contract calls, quote
// signing exactly as the off-chain quote service does, and the accounting invariants.
import { initSimnet } from "@stacks/clarinet-sdk";
import { Cl, ClarityValue, serializeCV, signMessageHashRsv } from "@stacks/transactions";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { expect } from "vitest";

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
  keeper: addr("wallet_1"),
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
};
export const TOKENS = ["STX", "sBTC"] as const;
export const POOL_TIERS = ["conservative", "balanced", "aggressive"] as const;
/** Pools the invariant check sums over; tests that create extra pools add their tier here. */
export const INVARIANT_TIERS: string[] = [...POOL_TIERS];
export const BUYER_TIERS = ["conservative", "standard", "flexible"] as const;
export const ONE8 = 100_000_000n;
export const SCALE: Record<string, bigint> = { STX: 1_000_000n, sBTC: 100_000_000n };

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

export interface Quote {
  quoteId: bigint; buyer: string; token: string; buyerTier: string; poolTier: string;
  strike: bigint; amount: bigint; expiry: bigint; premium: bigint; validUntil: bigint;
}

/** The exact tuple the registry hashes (see README "Quotes"). */
export function quoteTuple(q: Quote, chainId = 0x80000000n, registry = C.registry): ClarityValue {
  return Cl.tuple({
    domain: Cl.stringAscii("bithedge-quote-v1"), "chain-id": Cl.uint(chainId), registry: Cl.principal(registry),
    "quote-id": Cl.uint(q.quoteId), buyer: Cl.principal(q.buyer), token: Cl.stringAscii(q.token),
    "buyer-tier": Cl.stringAscii(q.buyerTier), "pool-tier": Cl.stringAscii(q.poolTier),
    strike: Cl.uint(q.strike), amount: Cl.uint(q.amount), expiry: Cl.uint(q.expiry),
    premium: Cl.uint(q.premium), "valid-until": Cl.uint(q.validUntil),
  });
}
export function quoteDigest(q: Quote, chainId?: bigint, registry?: string): string {
  return createHash("sha256").update(Buffer.from(serializeCV(quoteTuple(q, chainId, registry)), "hex")).digest("hex");
}
export function signQuote(q: Quote, key = SIGNER_KEY, chainId?: bigint, registry?: string): string {
  return signMessageHashRsv({ messageHash: quoteDigest(q, chainId, registry), privateKey: key });
}

export function createPolicy(q: Quote, sig = signQuote(q), sender = q.buyer) {
  return call(C.registry, "create-policy", [
    Cl.uint(q.quoteId), Cl.stringAscii(q.token), Cl.stringAscii(q.buyerTier), Cl.stringAscii(q.poolTier),
    Cl.uint(q.strike), Cl.uint(q.amount), Cl.uint(q.expiry), Cl.uint(q.premium), Cl.uint(q.validUntil),
    Cl.bufferFromHex(sig),
  ], sender);
}

const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b;
/** JS mirror of the registry's policy-terms (README formulas). */
export function terms(strike: bigint, amount: bigint, spot: bigint, token: string, collPrice: bigint,
                      ratioBp: bigint, adjBp: bigint, minBp = 10n, maxBp = 5000n) {
  const scale = SCALE[token];
  const maxPayout = ceilDiv(strike * amount * scale, ONE8 * collPrice);
  const intrinsic = strike > spot ? ((strike - spot) * amount * scale) / (ONE8 * collPrice) : 0n;
  const floorPrem = ceilDiv(maxPayout * minBp, 10000n);
  const baseMin = intrinsic > floorPrem ? intrinsic : floorPrem;
  return {
    maxPayout, intrinsic,
    collateral: ceilDiv(maxPayout * ratioBp, 10000n),
    minPremium: ceilDiv(baseMin * adjBp, 10000n),
    maxPremium: (maxPayout * maxBp) / 10000n,
  };
}
export function payoutOf(strike: bigint, amount: bigint, btc: bigint, token: string, collPrice: bigint, collateral: bigint) {
  const intrinsic = strike > btc ? ((strike - btc) * amount * SCALE[token]) / (ONE8 * collPrice) : 0n;
  return intrinsic > collateral ? collateral : intrinsic;
}

let quoteCounter = 1000n;
export const nextQuoteId = () => ++quoteCounter;

// ------------------------------------------------------------------ invariants
export function tokenBalance(token: string, who: string): bigint {
  if (token === "STX") return simnet.getAssetsMap().get("STX")?.get(who) ?? 0n;
  return ro(SBTC, "get-balance", [Cl.principal(who)]).ok as bigint;
}
export function pool(token: string, tier: string): { assets: bigint; shares: bigint; locked: bigint; premiums: bigint; payouts: bigint } | null {
  const v = ro(C.vault, "get-pool", [Cl.stringAscii(token), Cl.stringAscii(tier)]);
  return v === null ? null : v;
}
export function shares(token: string, tier: string, who: string): bigint {
  return ro(C.vault, "get-shares", [Cl.stringAscii(token), Cl.stringAscii(tier), Cl.principal(who)]);
}
export function policy(id: bigint | number): any {
  return ro(C.registry, "get-policy", [Cl.uint(id)]);
}

/**
 * Pool accounting invariants, checked after every step of the lifecycle and fuzz tests:
 *  I1 vault token balance == sum of pool assets, per token (no token created or lost);
 *  I2 pool shares == sum of provider positions; STX voting power total == sum of STX pool shares;
 *  I3 0 <= locked <= assets, and locked == sum of collateral of active policies in the pool,
 *     and == sum of expiry-locked over those policies' expiries;
 *  I4 every policy is active XOR settled; settled policies have payout <= collateral;
 *     policy-settled was emitted at most once per policy (settledEvents);
 *  I5 premiums - payouts + deposits - withdrawals == assets per pool (tracked by the caller via ledger).
 */
export function checkInvariants(extra: { settledEvents?: Map<bigint, number>; ledger?: Map<string, bigint> } = {}) {
  const activeCollateral = new Map<string, bigint>();
  const expiryLocked = new Map<string, bigint>();
  const last = BigInt(ro(C.registry, "get-last-policy-id"));
  for (let id = 1n; id <= last; id++) {
    const p = policy(id);
    expect(p).not.toBeNull();
    const key = `${p.token}/${p["pool-tier"]}`;
    if (p.status === "active") {
      activeCollateral.set(key, (activeCollateral.get(key) ?? 0n) + p.collateral);
      const ek = `${key}/${p.expiry}`;
      expiryLocked.set(ek, (expiryLocked.get(ek) ?? 0n) + p.collateral);
      expect(p.payout).toBe(0n);
    } else {
      expect(["settled-itm", "settled-otm"]).toContain(p.status);
      expect(p.payout <= p.collateral).toBe(true);
      expect(p.status === "settled-itm").toBe(p.payout > 0n);
    }
    if (extra.settledEvents) expect(extra.settledEvents.get(id) ?? 0).toBe(p.status === "active" ? 0 : 1);
  }
  for (const [ek, v] of expiryLocked) {
    const [token, tier, expiry] = ek.split("/");
    expect(ro(C.vault, "get-expiry-locked", [Cl.stringAscii(token), Cl.stringAscii(tier), Cl.uint(BigInt(expiry))])).toBe(v);
  }
  let stxShares = 0n;
  for (const token of TOKENS) {
    let sumAssets = 0n;
    for (const tier of INVARIANT_TIERS) {
      const p = pool(token, tier);
      if (!p) continue;
      sumAssets += p.assets;
      expect(p.locked <= p.assets).toBe(true);
      expect(p.locked).toBe(activeCollateral.get(`${token}/${tier}`) ?? 0n);
      const held = PROVIDERS.reduce((s, who) => s + shares(token, tier, who), 0n);
      expect(held).toBe(p.shares);
      if (token === "STX") stxShares += p.shares;
      if (extra.ledger) expect(p.assets).toBe(extra.ledger.get(`${token}/${tier}`) ?? 0n);
    }
    expect(tokenBalance(token, C.vault)).toBe(sumAssets);
  }
  expect(ro(C.vault, "get-total-voting-power")).toBe(stxShares);
  const power = PROVIDERS.reduce((s, who) => s + (ro(C.vault, "get-voting-power", [Cl.principal(who)]) as bigint), 0n);
  expect(power).toBe(stxShares);
}

// ------------------------------------------------------------------ scenario helpers
export const BTC0 = 6_000_000_000_000n; // $60,000
export const STX0 = 200_000_000n; // $2
export const BUYER_TIER: Record<string, { ratio: bigint; adj: bigint }> = {
  conservative: { ratio: 12000n, adj: 11000n }, standard: { ratio: 11000n, adj: 10000n }, flexible: { ratio: 10000n, adj: 9000n },
};

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

/** A valid quote (premium = 2 × minimum) for the current prices, with overrides. */
export function quote(o: Partial<Quote> = {}, prices = { btc: BTC0, stxPrice: STX0 }): Quote {
  const now = burn();
  const q: Quote = { quoteId: nextQuoteId(), buyer: A.b1, token: "STX", buyerTier: "standard", poolTier: "balanced",
    strike: (prices.btc * 9n) / 10n, amount: 10_000_000n, expiry: now + 20n, premium: 0n, validUntil: now + 2n, ...o };
  if (o.premium === undefined) {
    const t = BUYER_TIER[q.buyerTier] ?? BUYER_TIER.standard;
    const coll = q.token === "STX" ? prices.stxPrice : prices.btc;
    q.premium = terms(q.strike, q.amount, prices.btc, q.token, coll, t.ratio, t.adj).minPremium * 2n;
  }
  return q;
}

export function settle(expiry: bigint, btcH: bigint, stxH: bigint, ids: (bigint | number)[], sender = A.keeper) {
  return call(C.registry, "settle-expired", [Cl.uint(expiry), Cl.uint(btcH), Cl.uint(stxH), Cl.list(ids.map((i) => Cl.uint(i)))], sender);
}
