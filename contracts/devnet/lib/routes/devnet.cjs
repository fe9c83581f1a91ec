"use strict";
// Devnet controls (/devnet/*): mine, fork, faucet, accounts (DEVNET ONLY keys), status, pause/resume.
const { readJson, send } = require("../http.cjs");

module.exports = ({ chain, lock, observers, opts, state, mineNow, afterBlock, sigWorker }) => {
  async function mine(req, res) {
    const j = await readJson(req);
    const count = Number.isInteger(j.blocks) && j.blocks > 0 ? Math.min(j.blocks, 10000) : 1;
    const out = [];
    for (let i = 0; i < count; i++) out.push(...(await mineNow()));
    return send(res, 200, {
      tip: chain.tip.height, index_block_hash: chain.tip.indexHash,
      blocks: out.map((b) => ({ height: b.height, index_block_hash: b.indexHash, txs: b.txs.length, events: b.eventCount })),
      mempool: chain.mempool.size,
    });
  }

  async function fork(req, res) {
    const j = await readJson(req);
    const r = await lock.run(() => chain.fork(Number(j.depth)));
    await afterBlock();
    return send(res, 200, r);
  }

  async function faucet(req, res) {
    const j = await readJson(req);
    if (typeof j.address !== "string") return send(res, 400, { error: "address is required" });
    const amount = BigInt(j.amount ?? 1_000_000_000n);
    return send(res, 200, { txid: await lock.run(() => chain.faucet(j.address, amount)) });
  }

  function status(req, res) {
    return send(res, 200, {
      tip: chain.tip.height, index_block_hash: chain.tip.indexHash, burn_block_height: chain.tip.burnHeight,
      genesis_height: chain.genesisHeight, burn_ratio: chain.burnRatio, block_time_ms: opts.blockTime,
      mempool: chain.mempool.size, forks: chain.forks, stats: chain.stats, timing: chain.timing, observers: observers.status(),
      sig_worker: sigWorker ? (sigWorker.failed ? "failed" : sigWorker.ready ? "ready" : "starting") : "off",
      data_dir: opts.dataDir, mining: state.mining, chain: chain.identity(),
    });
  }

  return [
    ["POST", "/devnet/mine", mine],
    ["POST", "/devnet/fork", fork],
    ["GET", "/devnet/accounts", (req, res) => send(res, 200, { warning: "DEVNET ONLY keys; never use them with real funds", accounts: chain.accounts })],
    ["POST", "/devnet/faucet", faucet],
    ["GET", "/devnet/status", status],
    ["POST", "/devnet/pause", (req, res) => { state.mining = false; send(res, 200, { mining: false }); }],
    ["POST", "/devnet/resume", (req, res) => { state.mining = true; send(res, 200, { mining: true }); }],
  ];
};
