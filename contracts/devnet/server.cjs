#!/usr/bin/env node
"use strict";
// BitHedge devnet: a local Stacks chain over @stacks/clarinet-sdk simnet that really executes the
// contracts, with a stacks-node compatible RPC (/v2/*), a Hiro-API subset (/extended/*), devnet
// controls (/devnet/*) and stacks-node style event-observer delivery. Loopback only. DEVNET ONLY.
//
//   node contracts/devnet/server.cjs [--port 20443] [--host 127.0.0.1] [--observer URL]...
//        [--block-time MS] [--burn-ratio N] [--data-dir DIR] [--reset] [--manifest Clarinet.toml]
//        [--blocking] [--max-chaining 25] [--max-block-txs 500] [--observer-timeout MS] [--sig-worker]
//
// Prints one JSON line {"event":"ready","rpc":...} on stdout once it serves requests.
const fs = require("node:fs");
const path = require("node:path");
const http = require("node:http");
const T = require("@stacks/transactions");
const { Chain, FatalVmError, Rejection, u128hex, unhex } = require("./lib/chain.cjs");
const { Observers } = require("./lib/observers.cjs");
const hiro = require("./lib/hiro.cjs");
const codec = require("./lib/txcodec.cjs");
const { SigWorker } = require("./lib/sigworker.cjs");

const VERSION = "bithedge-devnet 0.1.0 (clarinet-sdk simnet, epoch 3.1)";

function parseArgs(argv) {
  const o = {
    port: 20443, host: "127.0.0.1", observers: [], blockTime: 2000, burnRatio: 2, dataDir: null, reset: false,
    manifest: path.resolve(__dirname, "..", "Clarinet.toml"), blocking: false, maxChaining: 25, maxBlockTxs: 500,
    observerTimeout: 1000, setup: true, sigWorker: process.env.BITHEDGE_DEVNET_SIG_WORKER === "1",
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    const int = (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${a}: expected a non-negative integer, got ${v}`);
      return n;
    };
    switch (a) {
      case "--port": o.port = int(next()); break;
      case "--host": o.host = next(); break;
      case "--observer": o.observers.push(next()); break;
      case "--block-time": o.blockTime = int(next()); break;
      case "--burn-ratio": o.burnRatio = int(next()); break;
      case "--data-dir": o.dataDir = path.resolve(next()); break;
      case "--reset": o.reset = true; break;
      case "--manifest": o.manifest = path.resolve(next()); break;
      case "--blocking": o.blocking = true; break;
      case "--max-chaining": o.maxChaining = int(next()); break;
      case "--max-block-txs": o.maxBlockTxs = int(next()); break;
      case "--observer-timeout": o.observerTimeout = int(next()); break;
      case "--no-setup": o.setup = false; break;
      case "--sig-worker": o.sigWorker = true; break;
      case "--no-sig-worker": o.sigWorker = false; break;
      case "-h": case "--help":
        process.stdout.write(fs.readFileSync(__filename, "utf8").split("\n").slice(2, 10).join("\n") + "\n");
        process.exit(0);
        break;
      default: throw new Error(`unknown argument ${a}`);
    }
  }
  if (o.burnRatio < 2) throw new Error("--burn-ratio must be at least 2 (one tenure-start block per burn block)");
  if (!["127.0.0.1", "localhost", "::1"].includes(o.host)) throw new Error("the devnet only listens on loopback");
  if (!o.dataDir) o.dataDir = path.resolve(__dirname, "..", "..", ".bithedge", "devnet");
  return o;
}

function log(msg) {
  process.stderr.write(`${new Date().toISOString()} devnet ${msg}\n`);
}

// ---- a tiny async lock: every chain mutation runs one at a time --------------------------------
class Lock {
  constructor() { this.p = Promise.resolve(); }
  run(fn) {
    const r = this.p.then(fn);
    this.p = r.catch(() => {});
    return r;
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const chain = new Chain({
    manifest: opts.manifest, dataDir: opts.dataDir, burnRatio: opts.burnRatio, maxChaining: opts.maxChaining,
    maxBlockTxs: opts.maxBlockTxs, log,
  });
  const { fresh } = await chain.open({ reset: opts.reset });
  const observers = new Observers(opts.observers, path.join(opts.dataDir, "observers"), { timeoutMs: opts.observerTimeout, log });
  let mining = true;
  chain.emit = (p, body) => observers.push(p, body);
  const lock = new Lock();

  if (fresh) {
    for (const [p, body] of chain.genesisPayloads()) observers.push(p, body);
    if (opts.setup) await runSetup(chain);
  }
  observers.start();

  async function afterBlock() {
    if (opts.blocking) await observers.drained();
  }

  async function mineNow() {
    const blocks = await lock.run(() => chain.mine());
    await afterBlock();
    return blocks;
  }

  async function runSetup(c) {
    const setup = c.setup;
    const byLabel = new Map(c.accounts.map((a) => [a.label, a]));
    if (setup && Array.isArray(setup.steps) && setup.steps.length) {
      const buffers = [];
      const nonces = new Map();
      for (const step of setup.steps) {
        const acct = byLabel.get(step.sender) || c.accounts.find((a) => a.address === step.sender);
        if (!acct) throw new Error(`devnet-setup.json: unknown sender ${step.sender}`);
        const nonce = nonces.get(acct.address) ?? c.confirmedNonce(acct.address);
        nonces.set(acct.address, nonce + 1);
        buffers.push(await codec.makeCall({
          contractId: step.contract_id || `${setup.deployer || c.raw.deployer}.${step.contract}`,
          functionName: step.function, args: (step.args || []).map(codec.cvFromTyped), nonce, fee: 2000,
          senderKey: acct.private_key, publicKey: acct.public_key,
        }));
      }
      const res = c.admitBatch(buffers);
      res.forEach((r, i) => {
        if (r.rejection) throw new Error(`devnet-setup.json step ${i} rejected: ${r.rejection.reason} ${JSON.stringify(r.rejection.reasonData)}`);
      });
      const blocks = await c.mine();
      const tx = blocks[blocks.length - 1].txs;
      const failed = tx.filter((t) => t.status !== "success");
      log(`genesis setup: ${tx.length} calls mined at height ${c.tip.height}${failed.length ? `, ${failed.length} FAILED: ${failed.map((t) => t.rawResult).join(",")}` : ""}`);
    }
  }

  // sBTC (and other SIP-010) balances for devnet accounts come from simnet mints at session init
  // (see chain.cjs _initSession); nothing to do here.

  // ---- HTTP --------------------------------------------------------------------------------------
  // Submissions are batched (up to 256). With --sig-worker (opt-in: it cut the main thread's admission
  // time for contract calls but measured slower for STX transfers on 2 shared cores), they are decoded
  // and their signatures recovered on a worker thread, overlapping mineBlock on the main thread;
  // batches are then admitted under the lock in arrival order.
  const sigWorker = opts.sigWorker ? new SigWorker({ log }) : null;
  const pendingAdmits = [];
  let admitScheduled = false;
  let admitChain = Promise.resolve();
  function admit(bytes) {
    return new Promise((resolve, reject) => {
      pendingAdmits.push({ bytes, resolve, reject });
      if (!admitScheduled) {
        admitScheduled = true;
        setImmediate(flushAdmits);
      }
    });
  }
  function flushAdmits() {
    admitScheduled = false;
    while (pendingAdmits.length) {
      const batch = pendingAdmits.splice(0, 256);
      const bytes = batch.map((x) => x.bytes);
      const recovered = sigWorker ? sigWorker.recover(bytes) : Promise.resolve(null);
      admitChain = admitChain
        .then(() => recovered)
        .then((rec) => lock.run(() => chain.admitBatch(bytes, rec)))
        .then((res) => batch.forEach((x, i) => x.resolve(res[i])), (e) => batch.forEach((x) => x.reject(e)));
    }
  }

  function send(res, status, body, type = "application/json") {
    const data = type === "application/json" ? JSON.stringify(body, (k, v) => (typeof v === "bigint" ? v.toString() : v)) : body;
    res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(data) });
    res.end(data);
  }

  function readBody(req, limit = 8 * 1024 * 1024) {
    return new Promise((resolve, reject) => {
      const chunks = [];
      let n = 0;
      req.on("data", (c) => {
        n += c.length;
        if (n > limit) { reject(Object.assign(new Error("body too large"), { status: 413 })); req.destroy(); return; }
        chunks.push(c);
      });
      req.on("end", () => resolve(Buffer.concat(chunks)));
      req.on("error", reject);
    });
  }

  function jsonBody(buf) {
    if (!buf.length) return {};
    try {
      return JSON.parse(buf.toString("utf8"));
    } catch (_e) {
      throw Object.assign(new Error("invalid JSON body"), { status: 400 });
    }
  }

  function intParam(q, name, def, max) {
    const v = q.get(name);
    if (v === null || v === "") return def;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || (max !== undefined && n > max)) {
      throw Object.assign(new Error(`${name} must be an integer between 0 and ${max ?? "∞"}`), { status: 400 });
    }
    return n;
  }

  function findBlock(id) {
    if (id === "latest") return chain.tip;
    if (/^\d+$/.test(id)) return chain.blocks[Number(id)] || null;
    const h = "0x" + id.replace(/^0x/, "").toLowerCase();
    return chain.blocks.find((b) => b.hash === h || b.indexHash === h) || null;
  }

  function nodeInfo() {
    const tip = chain.tip;
    const bb = chain.burnBlocks[chain.burnBlocks.length - 1];
    const prev = chain.burnBlocks[Math.max(0, bb.height - 1)];
    return {
      peer_version: 4207599116,
      pox_consensus: bb.consensusHash.slice(2),
      burn_block_height: bb.height,
      stable_pox_consensus: prev.consensusHash.slice(2),
      stable_burn_block_height: prev.height,
      server_version: VERSION,
      network_id: 2147483648,
      parent_network_id: 3669344250,
      stacks_tip_height: tip.height,
      stacks_tip: tip.hash.slice(2),
      stacks_tip_consensus_hash: chain.burnBlocks[tip.burnHeight].consensusHash.slice(2),
      genesis_chainstate_hash: chain.blocks[0].indexHash.slice(2),
      unanchored_tip: null,
      unanchored_seq: null,
      tenure_height: tip.tenureHeight,
      exit_at_block_height: null,
      is_fully_synced: true,
      node_public_key: chain.miner.publicKey,
      node_public_key_hash: require("./lib/keys.cjs").hash160(Buffer.from(chain.miner.publicKey, "hex")).toString("hex"),
      last_pox_anchor: { anchor_block_hash: "00".repeat(32), anchor_block_txid: "00".repeat(32) },
      stackerdbs: [],
    };
  }

  async function route(req, res) {
    const url = new URL(req.url, "http://devnet");
    const p = url.pathname.replace(/\/+$/, "") || "/";
    const q = url.searchParams;
    const m = req.method;
    let mm;

    // ---- node RPC
    if (m === "GET" && p === "/v2/info") return send(res, 200, nodeInfo());
    if (m === "GET" && (mm = p.match(/^\/v2\/accounts\/([A-Za-z0-9.\-_]+)$/))) {
      const who = mm[1];
      let bal;
      try {
        bal = await lock.run(() => chain.balance(who));
      } catch (_e) {
        return send(res, 400, { error: `invalid principal ${who}` });
      }
      const out = { balance: u128hex(bal), locked: u128hex(0), unlock_height: 0, nonce: chain.confirmedNonce(who) };
      if (q.get("proof") !== "0") { out.balance_proof = ""; out.nonce_proof = ""; }
      return send(res, 200, out);
    }
    if (m === "POST" && p === "/v2/transactions") {
      const body = await readBody(req);
      let bytes = body;
      if ((req.headers["content-type"] || "").includes("json")) {
        const j = jsonBody(body);
        if (typeof j.tx !== "string") return send(res, 400, { error: "transaction rejected", reason: "Deserialization", reason_data: { message: "expected {\"tx\": \"<hex>\"}" }, txid: null });
        bytes = unhex(j.tx);
      }
      const r = await admit(bytes);
      if (r.rejection) {
        const out = { error: "transaction rejected", reason: r.rejection.reason, txid: r.txid };
        if (r.rejection.reasonData) out.reason_data = r.rejection.reasonData;
        return send(res, 400, out);
      }
      return send(res, 200, r.txid);
    }
    if (m === "GET" && p === "/v2/fees/transfer") return send(res, 200, 1);
    if (m === "POST" && p === "/v2/fees/transaction") {
      const j = jsonBody(await readBody(req));
      if (typeof j.transaction_payload !== "string") return send(res, 400, { error: "transaction_payload (hex) is required" });
      const payloadLen = unhex(j.transaction_payload).length;
      const len = Number.isInteger(j.estimated_len) && j.estimated_len > 0 ? j.estimated_len : payloadLen + 180;
      const rates = [1, 2, 4];
      return send(res, 200, {
        estimated_cost: { read_count: 0, read_length: 0, runtime: 0, write_count: 0, write_length: 0 },
        estimated_cost_scalar: 1, cost_scalar_change_by_byte: 0.0,
        estimations: rates.map((r) => ({ fee_rate: r, fee: Math.max(len * r, 180 * r) })),
      });
    }
    if (m === "POST" && (mm = p.match(/^\/v2\/contracts\/call-read\/([A-Z0-9]+)\/([A-Za-z0-9\-_]+)\/([^/]+)$/))) {
      const j = jsonBody(await readBody(req));
      const args = Array.isArray(j.arguments) ? j.arguments : [];
      const sender = typeof j.sender === "string" && j.sender ? j.sender : mm[1];
      const r = await lock.run(() => chain.callRead(`${mm[1]}.${mm[2]}`, decodeURIComponent(mm[3]), args, sender));
      return send(res, 200, r);
    }
    if (m === "GET" && (mm = p.match(/^\/v2\/contracts\/interface\/([A-Z0-9]+)\/([A-Za-z0-9\-_]+)$/))) {
      const iface = chain.contractInterfaces().get(`${mm[1]}.${mm[2]}`);
      if (!iface) return send(res, 404, { error: `No contract interface data found for ${mm[1]}.${mm[2]}` });
      const { functions, variables, maps, fungible_tokens, non_fungible_tokens, epoch, clarity_version } = iface;
      return send(res, 200, { functions, variables, maps, fungible_tokens, non_fungible_tokens, epoch, clarity_version });
    }
    if (m === "GET" && (mm = p.match(/^\/v2\/contracts\/source\/([A-Z0-9]+)\/([A-Za-z0-9\-_]+)$/))) {
      const src = chain.raw.getContractSource(`${mm[1]}.${mm[2]}`);
      if (src === undefined) return send(res, 404, { error: "no such contract" });
      return send(res, 200, { source: src, publish_height: 0, proof: "" });
    }

    // ---- Hiro API subset
    if (m === "GET" && p === "/extended/v1/status") {
      const tip = chain.tip;
      return send(res, 200, {
        server_version: VERSION, status: "ready",
        pox_v1_unlock_height: 0, pox_v2_unlock_height: 0, pox_v3_unlock_height: 0,
        chain_tip: {
          block_height: tip.height, block_hash: tip.hash, index_block_hash: tip.indexHash,
          microblock_hash: null, microblock_sequence: null, burn_block_height: tip.burnHeight,
        },
      });
    }
    if (m === "GET" && p === "/extended/v2/blocks") {
      const limit = intParam(q, "limit", 20, 30);
      const total = chain.blocks.length;
      let offset = intParam(q, "offset", 0);
      const cursor = q.get("cursor");
      if (cursor) {
        const b = findBlock(cursor);
        if (!b) return send(res, 404, { error: "cursor not found" });
        offset = total - 1 - b.height;
      }
      const results = [];
      for (let i = offset; i < Math.min(total, offset + limit); i++) results.push(hiro.nakamotoBlock(chain, chain.blocks[total - 1 - i]));
      const at = (o) => (o >= 0 && o < total ? chain.blocks[total - 1 - o].indexHash : null);
      return send(res, 200, {
        limit, offset, total, next_cursor: at(offset + limit), prev_cursor: offset > 0 ? at(Math.max(0, offset - limit)) : null,
        cursor: at(offset), results,
      });
    }
    if (m === "GET" && (mm = p.match(/^\/extended\/v2\/blocks\/([^/]+)$/))) {
      const b = findBlock(mm[1]);
      if (!b) return send(res, 404, { error: "cannot find block by height, hash or index block hash", id: mm[1] });
      return send(res, 200, hiro.nakamotoBlock(chain, b));
    }
    if (m === "GET" && (mm = p.match(/^\/extended\/v2\/burn-blocks\/([^/]+)$/))) {
      const id = mm[1];
      let bb = null;
      if (id === "latest") bb = chain.burnBlocks[chain.burnBlocks.length - 1];
      else if (/^\d+$/.test(id)) bb = chain.burnBlocks[Number(id)] || null;
      else {
        const h = "0x" + id.replace(/^0x/, "").toLowerCase();
        bb = chain.burnBlocks.find((x) => x && x.hash === h) || null;
      }
      if (!bb) return send(res, 404, { error: "cannot find burn block by height or hash", id });
      return send(res, 200, hiro.burnBlock(chain, bb));
    }
    if (m === "GET" && (mm = p.match(/^\/extended\/v2\/blocks\/([^/]+)\/transactions$/))) {
      const b = findBlock(mm[1]);
      if (!b) return send(res, 404, { error: "cannot find block by height, hash or index block hash", id: mm[1] });
      const limit = intParam(q, "limit", 20, 50);
      const offset = intParam(q, "offset", 0);
      const results = b.txs.slice(offset, offset + limit).map((t) => hiro.transaction(chain, { height: b.height, index: t.index }, { withEvents: false }));
      return send(res, 200, { limit, offset, total: b.txs.length, results });
    }
    if (m === "GET" && (mm = p.match(/^\/extended\/v1\/tx\/(0x)?([0-9a-fA-F]{64})$/))) {
      const txid = mm[2].toLowerCase();
      const eventLimit = intParam(q, "event_limit", 96, 100);
      const eventOffset = intParam(q, "event_offset", 0);
      const loc = chain.txIndex.get(txid);
      if (loc) return send(res, 200, hiro.transaction(chain, loc, { eventLimit, eventOffset }));
      const entry = chain.byTxid.get(txid);
      if (entry) return send(res, 200, hiro.mempoolTransaction(chain, entry));
      return send(res, 404, { error: `could not find transaction by ID 0x${txid}` });
    }
    if (m === "GET" && (mm = p.match(/^\/extended\/v1\/tx\/(0x)?([0-9a-fA-F]{64})\/raw$/))) {
      const txid = mm[2].toLowerCase();
      const loc = chain.txIndex.get(txid);
      const d = loc ? chain.blocks[loc.height].txs[loc.index].d : chain.byTxid.get(txid)?.d;
      if (d) return send(res, 200, hiro.rawTransaction(d));
      return send(res, 404, { error: `could not find transaction by ID 0x${txid}` });
    }
    if (m === "GET" && (mm = p.match(/^\/extended\/v1\/address\/([A-Za-z0-9.\-_]+)\/nonces$/))) {
      const who = mm[1];
      const confirmed = chain.confirmedNonce(who);
      const pending = chain.pendingNonces(who);
      return send(res, 200, {
        last_mempool_tx_nonce: pending.length ? pending[pending.length - 1] : null,
        last_executed_tx_nonce: confirmed > 0 ? confirmed - 1 : null,
        possible_next_nonce: pending.length ? pending[pending.length - 1] + 1 : confirmed,
        detected_missing_nonces: [], detected_mempool_nonces: pending,
      });
    }

    // ---- devnet controls
    if (m === "POST" && p === "/devnet/mine") {
      const j = jsonBody(await readBody(req));
      const count = Number.isInteger(j.blocks) && j.blocks > 0 ? Math.min(j.blocks, 10000) : 1;
      const out = [];
      for (let i = 0; i < count; i++) out.push(...(await mineNow()));
      return send(res, 200, {
        tip: chain.tip.height, index_block_hash: chain.tip.indexHash,
        blocks: out.map((b) => ({ height: b.height, index_block_hash: b.indexHash, txs: b.txs.length, events: b.eventCount })),
        mempool: chain.mempool.size,
      });
    }
    if (m === "POST" && p === "/devnet/fork") {
      const j = jsonBody(await readBody(req));
      const depth = Number(j.depth);
      const r = await lock.run(() => chain.fork(depth));
      await afterBlock();
      return send(res, 200, r);
    }
    if (m === "GET" && p === "/devnet/accounts") {
      return send(res, 200, { warning: "DEVNET ONLY keys; never use them with real funds", accounts: chain.accounts });
    }
    if (m === "POST" && p === "/devnet/faucet") {
      const j = jsonBody(await readBody(req));
      if (typeof j.address !== "string") return send(res, 400, { error: "address is required" });
      const amount = BigInt(j.amount ?? 1_000_000_000n);
      const txid = await lock.run(() => chain.faucet(j.address, amount));
      return send(res, 200, { txid });
    }
    if (m === "GET" && p === "/devnet/status") {
      return send(res, 200, {
        tip: chain.tip.height, index_block_hash: chain.tip.indexHash, burn_block_height: chain.tip.burnHeight,
        genesis_height: chain.genesisHeight, burn_ratio: chain.burnRatio, block_time_ms: opts.blockTime,
        mempool: chain.mempool.size, forks: chain.forks, stats: chain.stats, timing: chain.timing, observers: observers.status(),
        sig_worker: sigWorker ? (sigWorker.failed ? "failed" : sigWorker.ready ? "ready" : "starting") : "off",
        data_dir: opts.dataDir, mining,
      });
    }
    if (m === "POST" && p === "/devnet/pause") { mining = false; return send(res, 200, { mining }); }
    if (m === "POST" && p === "/devnet/resume") { mining = true; return send(res, 200, { mining }); }
    return send(res, 404, { error: `no route for ${m} ${p}` });
  }

  const server = http.createServer((req, res) => {
    route(req, res).catch((e) => {
      if (e instanceof FatalVmError) return fatal(e);
      if (e instanceof Rejection && e.reason === "BadRequest") return send(res, 400, { error: e.message });
      if (e instanceof Rejection) return send(res, 400, { error: e.message, reason: e.reason, reason_data: e.reasonData });
      const status = e.status || 500;
      if (status >= 500) log(`error on ${req.method} ${req.url}: ${e.stack || e}`);
      if (!res.headersSent) send(res, status, { error: String(e.message || e) });
    });
  });
  server.keepAliveTimeout = 30000;

  function fatal(e) {
    log(`FATAL: ${e.stack || e}; exiting so the supervisor restarts the devnet (the chain log replays)`);
    observers.stop();
    process.exit(70);
  }

  // timed mining
  let timer = null;
  if (opts.blockTime > 0) {
    const tick = async () => {
      try {
        if (mining) await mineNow();
      } catch (e) {
        if (e instanceof FatalVmError) return fatal(e);
        log(`mining error: ${e.stack || e}`);
      }
      timer = setTimeout(tick, opts.blockTime);
    };
    timer = setTimeout(tick, opts.blockTime);
  }

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, resolve);
  });
  const port = server.address().port;
  const rpc = `http://${opts.host.includes(":") ? `[${opts.host}]` : opts.host}:${port}`;
  process.stdout.write(JSON.stringify({
    event: "ready", rpc, tip: chain.tip.height, data_dir: opts.dataDir, observers: opts.observers, fresh,
  }) + "\n");
  log(`serving ${rpc} (tip ${chain.tip.height}, block time ${opts.blockTime} ms, burn ratio ${chain.burnRatio})`);

  let stopping = false;
  const shutdown = (sig) => {
    if (stopping) return;
    stopping = true;
    log(`${sig}: shutting down`);
    if (timer) clearTimeout(timer);
    server.close();
    server.closeAllConnections?.();
    lock.run(() => {}).finally(() => {
      observers.stop();
      process.exit(0);
    });
    setTimeout(() => process.exit(0), 3000).unref();
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
  // die with the parent (bithedge devnet) if it goes away without signalling
  process.stdin.on("end", () => shutdown("stdin closed"));
  process.stdin.resume();
}

main().catch((e) => {
  process.stderr.write(`devnet: ${e.stack || e}\n`);
  process.exit(e instanceof FatalVmError ? 70 : 1);
});
