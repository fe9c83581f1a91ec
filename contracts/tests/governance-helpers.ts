// Governance calls and scenario steps shared by the governance-*.test.ts files.
import { Cl } from "@stacks/transactions";
import * as h from "./helpers";
const { A, C } = h;
const s = Cl.stringAscii;

/** Parameter holding the proposer's minimum voting power (micro-STX of value). */
export const PROPOSAL_MIN_KEY = "gov.proposal-min-shares";

export const proposeParam = (key: string, v: bigint | number, who: string) =>
  h.call(C.gov, "propose-param", [s(key), Cl.uint(v)], who);
export const proposeTier = (kind: string, tier: string, field: string, v: bigint | number, who: string) =>
  h.call(C.gov, "propose-tier-field", [s(kind), s(tier), s(field), Cl.uint(v)], who);
export const vote = (id: number, yes: boolean, who: string) => h.call(C.gov, "vote", [Cl.uint(id), Cl.bool(yes)], who);
export const execute = (id: number, who = A.outsider) => h.call(C.gov, "execute", [Cl.uint(id)], who);
export const cancel = (id: number, who: string) => h.call(C.gov, "cancel", [Cl.uint(id)], who);
export const state = (id: number) => h.ro(C.gov, "get-proposal-state", [Cl.uint(id)]);
export const proposal = (id: number) => h.ro(C.gov, "get-proposal", [Cl.uint(id)]);
export const param = (key: string): bigint => h.ro(C.params, "get-param", [s(key)]);
export const paramBounds = (key: string): { min: bigint; max: bigint } => h.ro(C.params, "get-param-entry", [s(key)]);

/** Voting power (micro-STX) of `who` at Stacks height `height`, as governance reads it. */
export function powerAt(who: string, height: bigint | number): bigint {
  return h.plain(h.roCV(C.gov, "power-at", [Cl.principal(who), Cl.uint(height)])).ok;
}
export function totalPowerAt(height: bigint | number): bigint {
  return h.plain(h.roCV(C.gov, "total-power-at", [Cl.uint(height)])).ok;
}
/** Mines an empty block and returns the height before it: the latest block whose state power can be read at. */
export function settledHeight(): bigint {
  h.simnet.mineEmptyBlock();
  return BigInt(h.simnet.blockHeight) - 1n;
}

/** Burn blocks from a proposal's creation until it can be executed (voting period + timelock + 1). */
export function blocksToEta(id: number): number {
  const p = proposal(id);
  return Number(p["eta-burn-height"] - h.burn());
}

/** One price per burn block from (BTC0, STX0), each step within the oracle's deviation guard, to (btc, stx). */
function moveTo(btc: bigint, stx: bigint) {
  let b = h.BTC0, p = h.STX0;
  while (b !== btc || p !== stx) {
    h.mineBurn(1);
    b = b > btc ? ((b * 9n) / 10n < btc ? btc : (b * 9n) / 10n) : btc;
    p = p > stx ? ((p * 9n) / 10n < stx ? stx : (p * 9n) / 10n) : stx;
    h.pushPrices(b, p);
  }
}

/** Moves prices to (btc, stx), records them as the first prices at `expiry` and settles `ids` there. */
export function settleAfterMove(expiry: bigint, ids: bigint[], btc: bigint, stx: bigint) {
  moveTo(btc, stx);
  h.mineBurn(Number(expiry - h.burn()));
  h.pushPrices(btc, stx);
  h.mineBurn(1);
  return h.ok(h.settle(expiry, expiry, expiry, ids));
}
