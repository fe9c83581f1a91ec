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

  it("deviation guard in bp with staleness bypass", () => {
    h.ok(h.submitPrice("BTC", 1_000_000n));
    h.mineBurn(1);
    h.expectErr(h.submitPrice("BTC", 1_100_001n), 203); // +10.00001% > 1000 bp
    h.expectErr(h.submitPrice("BTC", 899_999n), 203);
    h.ok(h.submitPrice("BTC", 1_100_000n)); // exactly +10%
    h.ok(h.setParam("oracle.max-deviation-bp", 500));
    h.mineBurn(1);
    h.expectErr(h.submitPrice("BTC", 1_160_000n), 203);
    h.mineBurn(6); // 7 blocks since the last price > stale-after 6
    const e = h.onePrint(h.submitPrice("BTC", 2_000_000n), "price-submitted");
    expect(e["guard-bypassed"]).toBe(true);
    expect(e["previous-price"]).toBe(1_100_000n);
  });

  it("records per burn height with links; same-height overwrite keeps the link", () => {
    const h1 = h.burn();
    h.ok(h.submitPrice("BTC", 1_000_000n));
    h.mineBurn(3);
    const h2 = h.burn();
    h.ok(h.submitPrice("BTC", 1_010_000n));
    const e = h.onePrint(h.submitPrice("BTC", 1_020_000n), "price-submitted");
    expect(e).toMatchObject({ replaced: true, "previous-price": 1_010_000n, "previous-height": h2 });
    expect(h.ro(C.oracle, "get-price-at", [Cl.stringAscii("BTC"), Cl.uint(h2)])).toEqual({ price: 1_020_000n, "prev-height": h1 });
    expect(h.ro(C.oracle, "get-price-at", [Cl.stringAscii("BTC"), Cl.uint(h1)])).toEqual({ price: 1_000_000n, "prev-height": 0n });
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
});
