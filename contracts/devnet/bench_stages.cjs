#!/usr/bin/env node
"use strict";
// Where the time of a vault `deposit` goes, measured side by side in one process (DEVNET ONLY):
//
//   1. vm:      a bare simnet session (no devnet) mining N `callPublicFn` deposits in blocks of B:
//               the Clarity VM bound for this contract call on this machine;
//   2. vm+fee:  the same with one STX transfer before each call (how the devnet debits fees);
//   3. devnet:  the devnet's Chain in-process (no HTTP): N signed deposits through admitBatch
//               (decode, signature batch on the main thread, checks) and mine() (calls, mineBlock,
//               event mapping, post-conditions, block assembly, payload build, serialisation,
//               chain log), per stage.
// The three run interleaved block by block (vm, devnet, vm+fee, vm, ...), so that a load change on a
// shared machine hits all three alike and the ratios hold.
//
//   node contracts/devnet/bench_stages.cjs [--txs 3000] [--block 500] [--senders 50] [--json]
//
// benchmarks/bench_devnet.py runs it next to the full RPC path and prints the ratio devnet / VM.
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const T = require("@stacks/transactions");
const { Chain, quiet } = require("./lib/chain.cjs");
const codec = require("./lib/txcodec.cjs");
const { accountFromLabel } = require("./lib/keys.cjs");

const sdkMain = require.resolve("@stacks/clarinet-sdk");
const { vfs } = require(path.join(path.dirname(sdkMain), "vfs.js"));
const wasm = require("@stacks/clarinet-sdk-wasm");

function arg(name, def) {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}
const N = arg("--txs", 3000);
const B = arg("--block", 500);
const S = arg("--senders", 50);
const JSON_OUT = process.argv.includes("--json");
const MANIFEST = path.resolve(__dirname, "..", "Clarinet.toml");
const clock = () => performance.now();

const senders = Array.from({ length: S }, (_, i) => accountFromLabel(`bench-sender-${i}`));
const depositArgs = [T.Cl.stringAscii("STX"), T.Cl.stringAscii("balanced"), T.Cl.uint(1_000_000)];

/** A bare simnet session over the same project copy: setup steps as direct calls, senders minted. */
async function vmLane(chain, withFees) {
  const sdk = new wasm.SDK(vfs, new wasm.SDKOptions(false, false, false));
  await quiet(() => sdk.initSession(chain.projectDir, chain.manifestCopy, null));
  const accounts = new Map(chain.accounts.map((a) => [a.label, a.address]));
  const setup = chain.setup || { steps: [] };
  const steps = setup.steps.map((st) => ({
    callPublicFn: {
      contract: st.contract_id || `${setup.deployer}.${st.contract}`, method: st.function,
      args_maps: (st.args || []).map((a) => T.serializeCVBytes(codec.cvFromTyped(a))),
      sender: accounts.get(st.sender) || st.sender,
    },
  }));
  if (steps.length) quiet(() => sdk.mineBlock(steps));
  const miner = accountFromLabel("miner").address;
  for (const s of senders) sdk.mintSTX(s.address, 10n ** 13n);
  const argBytes = depositArgs.map((a) => T.serializeCVBytes(a));
  const lane = { ms: 0, ok: 0 };
  lane.step = (from, to) => {
    const calls = [];
    for (let k = from; k < to; k++) {
      const sender = senders[k % S].address;
      if (withFees) calls.push({ transferSTX: { amount: 1000, recipient: miner, sender } });
      calls.push({ callPublicFn: { contract: `${setup.deployer}.bithedge-vault`, method: "deposit", args_maps: argBytes, sender } });
    }
    const t0 = clock();
    const res = quiet(() => sdk.mineBlock(calls));
    lane.ms += clock() - t0;
    lane.ok += res.filter((r) => r.result.startsWith("07") || r.result.startsWith("0x07")).length;
  };
  lane.finish = () => {
    // the cost of two ways to read balances (for the notes in README)
    const t0 = clock();
    for (let i = 0; i < 100; i++) sdk.execute(`(stx-get-balance '${senders[i % S].address})`);
    const balanceMs = (clock() - t0) / 100;
    const t1 = clock();
    for (let i = 0; i < 10; i++) sdk.getAssetsMap();
    const assetsMapMs = (clock() - t1) / 10;
    sdk.free();
    return { ms: lane.ms, per_tx_ms: lane.ms / N, tx_per_s: N / (lane.ms / 1000), ok: lane.ok, balance_ms: balanceMs, assets_map_ms: assetsMapMs };
  };
  return lane;
}

/** The devnet's Chain in-process: setup as the server does it, senders funded, N deposits signed. */
async function devnetLane(chain) {
  const setup = chain.setup;
  const byLabel = new Map(chain.accounts.map((a) => [a.label, a]));
  const nonces = new Map();
  const setupTxs = [];
  for (const st of setup.steps) {
    const acct = byLabel.get(st.sender);
    const nonce = nonces.get(acct.address) ?? chain.confirmedNonce(acct.address);
    nonces.set(acct.address, nonce + 1);
    setupTxs.push(await codec.makeCall({
      contractId: st.contract_id || `${setup.deployer}.${st.contract}`, functionName: st.function,
      args: (st.args || []).map(codec.cvFromTyped), nonce, fee: 2000, senderKey: acct.private_key, publicKey: acct.public_key,
    }));
  }
  chain.admitBatch(setupTxs);
  await chain.mine();
  for (const s of senders) await chain.faucet(s.address, 10n ** 13n);
  while (chain.mempool.size) await chain.mine();
  const signed = [];
  const t0s = clock();
  for (let n = 0; signed.length < N; n++) {
    for (const s of senders) {
      if (signed.length >= N) break;
      signed.push(await codec.makeCall({
        contractId: `${setup.deployer}.bithedge-vault`, functionName: "deposit", args: depositArgs,
        nonce: n, fee: 1000, senderKey: s.privateKey, publicKey: s.publicKey,
      }));
    }
  }
  const signMs = clock() - t0s;
  for (const k of Object.keys(chain.timing)) chain.timing[k] = 0;
  const lane = { ms: 0, ok: 0, mined: 0, emitMs: 0, emitBytes: 0 };
  chain.emit = (p, body) => {
    const t = clock();
    const s = JSON.stringify(body); // what Observers.push does before it writes the queue file
    lane.emitBytes += s.length;
    lane.emitMs += clock() - t;
  };
  lane.step = async (from, to) => {
    const t0 = clock();
    // admit in 256-tx batches (like the HTTP server), then mine what was admitted
    for (let i = from; i < to; i += 256) {
      const res = chain.admitBatch(signed.slice(i, Math.min(to, i + 256)));
      const bad = res.filter((r) => r.rejection);
      if (bad.length) throw new Error(`rejected: ${bad[0].rejection.reason} ${JSON.stringify(bad[0].rejection.reasonData)}`);
    }
    while (chain.mempool.size) {
      for (const b of await chain.mine()) { lane.mined += b.txs.length; lane.ok += b.txs.filter((t) => t.status === "success").length; }
    }
    lane.ms += clock() - t0;
  };
  lane.finish = () => {
    const tm = { ...chain.timing, serialise: lane.emitMs };
    return { ms: lane.ms, per_tx_ms: lane.ms / N, tx_per_s: N / (lane.ms / 1000), mined: lane.mined, ok: lane.ok, sign_ms: signMs, stages: tm, payload_bytes: lane.emitBytes };
  };
  return lane;
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-stages-"));
  const chain = new Chain({ manifest: MANIFEST, dataDir: dir, maxChaining: 1e9, maxBlockTxs: B });
  try {
    await chain.open({ reset: true });
    const vmL = await vmLane(chain, false);
    const feeL = await vmLane(chain, true);
    const devL = await devnetLane(chain);
    // interleaved block by block, so the three lanes see the same load on a shared machine
    const gc0 = gcTotal();
    for (let k = 0; k < N; k += B) {
      const to = Math.min(N, k + B);
      vmL.step(k, to);
      await devL.step(k, to);
      feeL.step(k, to);
    }
    await new Promise((r) => setTimeout(r, 50)); // let the gc PerformanceObserver deliver its entries
    const vm = vmL.finish();
    const vmFee = feeL.finish();
    const dev = devL.finish();
    const out = { txs: N, block: B, senders: S, vm, vm_fee: vmFee, devnet: dev, gc_ms: gcTotal() - gc0, ratio: dev.ms / vm.ms };
    if (JSON_OUT) {
      process.stdout.write(JSON.stringify(out) + "\n");
    } else {
      print(out);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

let gcMs = 0;
function gcTotal() { return gcMs; }
try {
  const { PerformanceObserver } = require("node:perf_hooks");
  new PerformanceObserver((l) => { for (const e of l.getEntries()) gcMs += e.duration; }).observe({ entryTypes: ["gc"] });
} catch (_e) { /* no gc entries */ }

function print(o) {
  const f = (x) => x.toFixed(3);
  console.log(`${o.txs} vault deposits, blocks of ${o.block}, ${o.senders} senders (one process, side by side)`);
  console.log(`  VM bound (bare simnet mineBlock)      ${f(o.vm.per_tx_ms)} ms/tx  ${o.vm.tx_per_s.toFixed(0)} tx/s`);
  console.log(`  VM + one fee transfer per tx          ${f(o.vm_fee.per_tx_ms)} ms/tx  ${o.vm_fee.tx_per_s.toFixed(0)} tx/s`);
  console.log(`  devnet Chain in-process (no HTTP)     ${f(o.devnet.per_tx_ms)} ms/tx  ${o.devnet.tx_per_s.toFixed(0)} tx/s  (ratio devnet/VM ${o.ratio.toFixed(2)})`);
  for (const [k, v] of Object.entries(o.devnet.stages)) {
    if (["admitted", "mined", "blocks"].includes(k)) continue;
    console.log(`    ${k.padEnd(18)} ${f(v / o.txs)} ms/tx`);
  }
  console.log(`  GC during the run: ${o.gc_ms.toFixed(0)} ms; stx-get-balance ${f(o.vm.balance_ms)} ms; getAssetsMap ${f(o.vm.assets_map_ms)} ms`);
}

main().catch((e) => { console.error(e.stack || e); process.exit(1); });
