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
const { Admission } = require("./lib/admission.cjs");
const { Chain, FatalVmError, ProjectChanged, Rejection } = require("./lib/chain.cjs");
const { Router, send } = require("./lib/http.cjs");
const { Lock } = require("./lib/lock.cjs");
const { Observers } = require("./lib/observers.cjs");
const devnetRoutes = require("./lib/routes/devnet.cjs");
const hiroRoutes = require("./lib/routes/hiro.cjs");
const nodeRoutes = require("./lib/routes/node.cjs");
const { runSetup } = require("./lib/setup.cjs");
const { SigWorker } = require("./lib/sigworker.cjs");

const VERSION = "bithedge-devnet 0.1.0 (clarinet-sdk simnet, epoch 3.1)";
// Exit statuses read by bithedge/devnet.py: a poisoned VM (restart: the chain log replays), and a chain log
// built from other contracts or settings (restarting cannot help: start with --reset).
const EXIT_VM_PANIC = 70;
const EXIT_PROJECT_CHANGED = 78;

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

/** The chain (opened, replayed, and on a new chain set up) delivering to its observers. */
async function openChain(opts) {
  const chain = new Chain({
    manifest: opts.manifest, dataDir: opts.dataDir, burnRatio: opts.burnRatio, maxChaining: opts.maxChaining,
    maxBlockTxs: opts.maxBlockTxs, log,
  });
  const { fresh } = await chain.open({ reset: opts.reset });
  const observers = new Observers(opts.observers, path.join(opts.dataDir, "observers"), { timeoutMs: opts.observerTimeout, log });
  chain.emit = (p, body) => observers.push(p, body);
  if (fresh) {
    for (const [p, body] of chain.genesisPayloads()) observers.push(p, body);
    if (opts.setup) await runSetup(chain, log);
  }
  observers.start();
  return { chain, observers, fresh };
}

function httpServer(router, fatal) {
  const server = http.createServer((req, res) => {
    router.handle(req, res).catch((e) => {
      if (e instanceof FatalVmError) return fatal(e);
      if (e instanceof Rejection && e.reason === "BadRequest") return send(res, 400, { error: e.message });
      if (e instanceof Rejection) return send(res, 400, { error: e.message, reason: e.reason, reason_data: e.reasonData });
      const status = e.status || 500;
      if (status >= 500) log(`error on ${req.method} ${req.url}: ${e.stack || e}`);
      if (!res.headersSent) send(res, status, { error: String(e.message || e) });
    });
  });
  server.keepAliveTimeout = 30000;
  return server;
}

/** Mine every blockTime ms while state.mining; returns a function that stops the timer. */
function timedMining(blockTime, state, mineNow, fatal) {
  let timer = null;
  const tick = async () => {
    try {
      if (state.mining) await mineNow();
    } catch (e) {
      if (e instanceof FatalVmError) return fatal(e);
      log(`mining error: ${e.stack || e}`);
    }
    timer = setTimeout(tick, blockTime);
  };
  if (blockTime > 0) timer = setTimeout(tick, blockTime);
  return () => { if (timer) clearTimeout(timer); };
}

async function listen(server, host, port) {
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  return `http://${host.includes(":") ? `[${host}]` : host}:${server.address().port}`;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const { chain, observers, fresh } = await openChain(opts);
  const lock = new Lock();
  const afterBlock = async () => {
    if (opts.blocking) await observers.drained();
  };
  const mineNow = async () => {
    const blocks = await lock.run(() => chain.mine());
    await afterBlock();
    return blocks;
  };
  const sigWorker = opts.sigWorker ? new SigWorker({ log }) : null;
  const state = { mining: true };
  const ctx = {
    chain, lock, observers, opts, state, sigWorker, mineNow, afterBlock, version: VERSION,
    admission: new Admission(chain, lock, sigWorker),
  };
  const fatal = (e) => {
    log(`FATAL: ${e.stack || e}; exiting so the supervisor restarts the devnet (the chain log replays)`);
    observers.stop();
    process.exit(EXIT_VM_PANIC);
  };
  const server = httpServer(new Router([...nodeRoutes(ctx), ...hiroRoutes(ctx), ...devnetRoutes(ctx)]), fatal);
  const stopMining = timedMining(opts.blockTime, state, mineNow, fatal);
  const rpc = await listen(server, opts.host, opts.port);
  process.stdout.write(JSON.stringify({
    event: "ready", rpc, tip: chain.tip.height, data_dir: opts.dataDir, observers: opts.observers, fresh,
    chain: chain.identity(),
  }) + "\n");
  log(`serving ${rpc} (tip ${chain.tip.height}, block time ${opts.blockTime} ms, burn ratio ${chain.burnRatio})`);

  let stopping = false;
  const shutdown = (sig) => {
    if (stopping) return;
    stopping = true;
    log(`${sig}: shutting down`);
    stopMining();
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
  process.stderr.write(`devnet: ${e instanceof ProjectChanged ? e.message : e.stack || e}\n`);
  process.exit(e instanceof FatalVmError ? EXIT_VM_PANIC : e instanceof ProjectChanged ? EXIT_PROJECT_CHANGED : 1);
});
