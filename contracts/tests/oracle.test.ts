import { describe, it, expect, beforeEach } from "vitest";
import { Cl } from "@stacks/transactions";
import * as h from "./helpers";
const { A, C } = h;
const settlementPrice = (asset: string, expiry: bigint, hint: bigint, maxDelay = 144n) =>
  h.plain(h.roCV(C.oracle, "get-settlement-price", [Cl.stringAscii(asset), Cl.uint(expiry), Cl.uint(hint), Cl.uint(maxDelay)]));

describe("bithedge-oracle", () => {
  beforeEach(async () => { await h.freshChain(); });

  it("submit-price: role, asset, zero", () => {
    h.expectErr(h.submitPrice("BTC", 100n, A.outsider), 200);
    h.expectErr(h.submitPrice("ETH", 100n), 201);
    h.expectErr(h.submitPrice("BTC", 0n), 202);
    const e = h.onePrint(h.submitPrice("BTC", 6_000_000_000_000n), "price-submitted");
    expect(e).toMatchObject({ asset: "BTC", price: 6_000_000_000_000n, "previous-price": 0n, "previous-height": 0n,
      "guard-bypassed": true, replaced: false, submitter: A.submitter, "burn-height": h.burn() });
    expect(h.ro(C.oracle, "get-latest", [Cl.stringAscii("BTC")])).toEqual({ price: 6_000_000_000_000n, height: h.burn() });
    expect(h.ro(C.oracle, "get-latest", [Cl.stringAscii("STX")])).toBeNull();
    // revoking the role stops submissions
    h.ok(h.call(C.params, "revoke-role", [Cl.principal(A.submitter), Cl.stringAscii("oracle-submitter")], A.deployer));
    h.expectErr(h.submitPrice("BTC", 6_000_000_000_000n), 200);
  });

  it("deviation guard in bp against the reference of an earlier block", () => {
    h.ok(h.submitPrice("BTC", 1_000_000n));
    h.mineBurn(1);
    h.expectErr(h.submitPrice("BTC", 1_100_001n), 203); // +10.00001% > 1000 bp
    h.expectErr(h.submitPrice("BTC", 899_999n), 203);
    const e = h.onePrint(h.submitPrice("BTC", 1_100_000n), "price-submitted"); // exactly +10%
    expect(e).toMatchObject({ "reference-price": 1_000_000n, "allowed-bp": 1000n, updates: 1n, "guard-bypassed": false });
    h.ok(h.setParam("oracle.max-deviation-bp", 500));
    h.mineBurn(1);
    h.expectErr(h.submitPrice("BTC", 1_160_000n), 203);
    h.ok(h.submitPrice("BTC", 1_155_000n)); // +5% of the previous block's price
  });

  it("M-1: no walking within a burn block, bounded updates, bounded growth after a gap", () => {
    const p0 = 6_000_000_000_000n;
    h.ok(h.submitPrice("BTC", p0));
    h.mineBurn(1);
    // the audit walked BTC down 10 % ten times in one burn block; now the second step is measured
    // against the previous block's price (−19 %) and refused, and a third submission is refused outright
    const step = (p: bigint) => (p * 9n) / 10n;
    h.ok(h.submitPrice("BTC", step(p0)));
    h.expectErr(h.submitPrice("BTC", step(step(p0))), 203);
    h.ok(h.submitPrice("BTC", (p0 * 95n) / 100n)); // a correction within the band is still allowed
    h.expectErr(h.submitPrice("BTC", (p0 * 95n) / 100n), 208); // oracle.max-updates-per-block = 2
    const e = h.ro(C.oracle, "get-price-at", [Cl.stringAscii("BTC"), Cl.uint(h.burn())]);
    expect(e).toMatchObject({ price: (p0 * 95n) / 100n, updates: 2n });
    // after 7 quiet blocks the v1 guard accepted a price of 1; now the band is 1000 × (1 + 7/6) = 2000 bp
    h.mineBurn(7);
    const ref = (p0 * 95n) / 100n;
    h.expectErr(h.submitPrice("BTC", 1n), 203);
    h.expectErr(h.submitPrice("BTC", (ref * 7999n) / 10000n), 203);
    const g = h.onePrint(h.submitPrice("BTC", (ref * 8000n) / 10000n), "price-submitted");
    expect(g).toMatchObject({ "allowed-bp": 2000n, "reference-price": ref, "guard-bypassed": false });
    // however long the gap, one submission moves at most oracle.max-gap-deviation-bp (5000)
    h.mineBurn(500);
    const ref2 = (ref * 8000n) / 10000n;
    h.expectErr(h.submitPrice("BTC", ref2 / 2n - 1n), 203);
    expect(h.onePrint(h.submitPrice("BTC", ref2 / 2n), "price-submitted")["allowed-bp"]).toBe(5000n);
    expect(h.ro(C.oracle, "allowed-deviation-bp", [Cl.uint(1000), Cl.uint(6), Cl.uint(5000), Cl.uint(5)])).toBe(1000n);
    expect(h.ro(C.oracle, "allowed-deviation-bp", [Cl.uint(1000), Cl.uint(6), Cl.uint(5000), Cl.uint(6)])).toBe(2000n);
  });

  it("records per burn height with links; same-height overwrite keeps the link", () => {
    const h1 = h.burn();
    h.ok(h.submitPrice("BTC", 1_000_000n));
    h.mineBurn(3);
    const h2 = h.burn();
    h.ok(h.submitPrice("BTC", 1_010_000n));
    const e = h.onePrint(h.submitPrice("BTC", 1_020_000n), "price-submitted");
    expect(e).toMatchObject({ replaced: true, "previous-price": 1_010_000n, "previous-height": h2 });
    expect(e).toMatchObject({ "reference-price": 1_000_000n, "reference-height": h1, updates: 2n }); // compared with h1, not h2's first value
    expect(h.ro(C.oracle, "get-price-at", [Cl.stringAscii("BTC"), Cl.uint(h2)])).toEqual({ price: 1_020_000n, "prev-height": h1, updates: 2n });
    expect(h.ro(C.oracle, "get-price-at", [Cl.stringAscii("BTC"), Cl.uint(h1)])).toEqual({ price: 1_000_000n, "prev-height": 0n, updates: 1n });
    expect(h.ro(C.oracle, "get-price-at", [Cl.stringAscii("BTC"), Cl.uint(h1 + 1n)])).toBeNull();
    expect(h.ro(C.oracle, "is-supported-asset", [Cl.stringAscii("STX")])).toBe(true);
  });

  it("get-settlement-price: first price at/after expiry, final, not too late", () => {
    const h1 = h.burn();
    h.ok(h.submitPrice("BTC", 1_000_000n));
    h.mineBurn(5);
    const h2 = h.burn();
    h.ok(h.submitPrice("BTC", 1_050_000n));
    // not final while still in the same burn block
    expect(settlementPrice("BTC", h1 + 2n, h2)).toEqual({ err: 207n });
    h.mineBurn(1);
    const h3 = h.burn();
    h.ok(h.submitPrice("BTC", 1_060_000n));
    h.mineBurn(1);
    expect(settlementPrice("BTC", h1 + 2n, h2)).toEqual({ ok: 1_050_000n });
    expect(settlementPrice("BTC", h2, h2)).toEqual({ ok: 1_050_000n });
    expect(settlementPrice("BTC", h1 + 2n, h3)).toEqual({ err: 205n }); // h2 came first
    expect(settlementPrice("BTC", h2 + 1n, h2)).toEqual({ err: 205n }); // before expiry
    expect(settlementPrice("BTC", h1 + 2n, h2 + 2n)).toEqual({ err: 204n }); // nothing there
    expect(settlementPrice("BTC", h1 + 1n, h2, 2n)).toEqual({ err: 206n }); // 4 blocks late > 2
    expect(settlementPrice("STX", h1, h1)).toEqual({ err: 204n });
  });

  it("no-settlement-price: proves that no valid price can exist for an expiry", () => {
    const none = (asset: string, expiry: bigint, hint: bigint, delay: bigint) =>
      h.ro(C.oracle, "no-settlement-price", [Cl.stringAscii(asset), Cl.uint(expiry), Cl.uint(hint), Cl.uint(delay)]);
    const h1 = h.burn();
    h.ok(h.submitPrice("BTC", 1_000_000n));
    const expiry = h1 + 2n;
    expect(none("BTC", expiry, 0n, 10n)).toBe(false); // the window is still open
    h.mineBurn(12);
    expect(none("BTC", expiry, 0n, 10n)).toBe(false); // burn height = expiry + 10: a price now would still count
    h.mineBurn(1);
    expect(none("BTC", expiry, 0n, 10n)).toBe(true);   // nothing at or after expiry, window closed
    expect(none("STX", expiry, 0n, 10n)).toBe(true);   // never any STX price
    const h2 = h.burn();
    h.ok(h.submitPrice("BTC", 1_050_000n));           // first price after expiry, 11 blocks late
    expect(none("BTC", expiry, h2, 10n)).toBe(true);
    expect(none("BTC", expiry, h2, 11n)).toBe(false); // within an 11-block delay it is valid
    expect(none("BTC", expiry, h1, 10n)).toBe(false); // a wrong hint proves nothing
    h.mineBurn(1);
    expect(none("BTC", expiry - 1n, h2, 13n)).toBe(false);
  });
});
