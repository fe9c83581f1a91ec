// Governance calls and scenario steps shared by the governance-*.test.ts files.
import { Cl } from "@stacks/transactions";
import * as h from "./helpers";
const { A, C } = h;
const s = Cl.stringAscii;

/** Parameter holding the proposer's minimum voting power (micro-STX of value). */
export const PROPOSAL_MIN_KEY = "gov.proposal-min-power";

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

/**
 * Mines Stacks blocks (same burn block) past proposal `id`'s snapshot block, until read-only calls
 * (evaluated at the tip height) see voting open, as the next transaction does.
 */
export function openVoting(id: number) {
  const wait = proposal(id)["snapshot-height"] + 1n - BigInt(h.simnet.blockHeight);
  if (wait > 0n) h.simnet.mineEmptyStacksBlocks(Number(wait));
}

/** Asserts a proposal was created, waits for its voting delay and returns its id. */
export function opened(r: h.Res): number {
  const id = Number(h.ok(r));
  openVoting(id);
  return id;
}
export const proposeAndOpen = (key: string, v: bigint | number, who: string) => opened(proposeParam(key, v, who));

/** Burn blocks from a proposal's creation until it can be executed (voting period + timelock + 1). */
export function blocksToEta(id: number): number {
  const p = proposal(id);
  return Number(p["eta-burn-height"] - h.burn());
}

/** Walks prices to (btc, stx), records them as the first prices at `expiry` and settles `ids` there. */
export function settleAfterMove(expiry: bigint, ids: bigint[], btc: bigint, stx: bigint) {
  h.walkPrices(btc, stx);
  h.mineBurn(Number(expiry - h.burn()));
  h.pushPrices(btc, stx);
  h.mineBurn(1);
  return h.ok(h.settle(expiry, expiry, expiry, ids));
}

export const proposePause = (action: string, paused: boolean, who: string) =>
  h.call(C.gov, "propose-pause", [s(action), Cl.bool(paused)], who);
export const proposeDisburse = (token: string, amount: bigint | number, recipient: string, who: string) =>
  h.call(C.gov, "propose-disburse", [s(token), Cl.uint(amount), Cl.principal(recipient)], who);
