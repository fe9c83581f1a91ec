"use strict";
// The Hiro API subset (/extended/*) that the indexer backfill and the keeper read: status, blocks (newest
// first, canonical only), burn blocks, a block's transactions, transactions (mined or pending), nonces.
const hiro = require("../hiro.cjs");
const { intParam, send } = require("../http.cjs");

const TXID = "(?:0x)?([0-9a-fA-F]{64})";

function normHash(id) {
  return "0x" + id.replace(/^0x/, "").toLowerCase();
}

module.exports = ({ chain, version }) => {
  function findBlock(id) {
    if (id === "latest") return chain.tip;
    if (/^\d+$/.test(id)) return chain.blocks[Number(id)] || null;
    const h = normHash(id);
    return chain.blocks.find((b) => b.hash === h || b.indexHash === h) || null;
  }

  function findBurnBlock(id) {
    if (id === "latest") return chain.burnBlocks[chain.burnBlocks.length - 1];
    if (/^\d+$/.test(id)) return chain.burnBlocks[Number(id)] || null;
    const h = normHash(id);
    return chain.burnBlocks.find((x) => x && x.hash === h) || null;
  }

  const noBlock = (res, id) => send(res, 404, { error: "cannot find block by height, hash or index block hash", id });
  const noTx = (res, txid) => send(res, 404, { error: `could not find transaction by ID 0x${txid}` });

  function status(req, res) {
    const tip = chain.tip;
    return send(res, 200, {
      server_version: version, status: "ready",
      pox_v1_unlock_height: 0, pox_v2_unlock_height: 0, pox_v3_unlock_height: 0,
      chain_tip: {
        block_height: tip.height, block_hash: tip.hash, index_block_hash: tip.indexHash,
        microblock_hash: null, microblock_sequence: null, burn_block_height: tip.burnHeight,
      },
    });
  }

  function blocks(req, res, { query }) {
    const limit = intParam(query, "limit", 20, 30);
    const total = chain.blocks.length;
    let offset = intParam(query, "offset", 0);
    const cursor = query.get("cursor");
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

  function block(req, res, { params: [id] }) {
    const b = findBlock(id);
    return b ? send(res, 200, hiro.nakamotoBlock(chain, b)) : noBlock(res, id);
  }

  function burnBlock(req, res, { params: [id] }) {
    const bb = findBurnBlock(id);
    if (!bb) return send(res, 404, { error: "cannot find burn block by height or hash", id });
    return send(res, 200, hiro.burnBlock(chain, bb));
  }

  function blockTransactions(req, res, { params: [id], query }) {
    const b = findBlock(id);
    if (!b) return noBlock(res, id);
    const limit = intParam(query, "limit", 20, 50);
    const offset = intParam(query, "offset", 0);
    const results = b.txs.slice(offset, offset + limit).map((t) => hiro.transaction(chain, { height: b.height, index: t.index }, { withEvents: false }));
    return send(res, 200, { limit, offset, total: b.txs.length, results });
  }

  function transaction(req, res, { params: [id], query }) {
    const txid = id.toLowerCase();
    const eventLimit = intParam(query, "event_limit", 96, 100);
    const eventOffset = intParam(query, "event_offset", 0);
    const loc = chain.txIndex.get(txid);
    if (loc) return send(res, 200, hiro.transaction(chain, loc, { eventLimit, eventOffset }));
    const entry = chain.byTxid.get(txid);
    if (entry) return send(res, 200, hiro.mempoolTransaction(chain, entry));
    return noTx(res, txid);
  }

  function rawTransaction(req, res, { params: [id] }) {
    const txid = id.toLowerCase();
    const loc = chain.txIndex.get(txid);
    const d = loc ? chain.blocks[loc.height].txs[loc.index].d : chain.byTxid.get(txid)?.d;
    return d ? send(res, 200, hiro.rawTransaction(d)) : noTx(res, txid);
  }

  function nonces(req, res, { params: [who] }) {
    const confirmed = chain.confirmedNonce(who);
    const pending = chain.pendingNonces(who);
    return send(res, 200, {
      last_mempool_tx_nonce: pending.length ? pending[pending.length - 1] : null,
      last_executed_tx_nonce: confirmed > 0 ? confirmed - 1 : null,
      possible_next_nonce: pending.length ? pending[pending.length - 1] + 1 : confirmed,
      detected_missing_nonces: [], detected_mempool_nonces: pending,
    });
  }

  return [
    ["GET", "/extended/v1/status", status],
    ["GET", "/extended/v2/blocks", blocks],
    ["GET", /^\/extended\/v2\/blocks\/([^/]+)$/, block],
    ["GET", /^\/extended\/v2\/burn-blocks\/([^/]+)$/, burnBlock],
    ["GET", /^\/extended\/v2\/blocks\/([^/]+)\/transactions$/, blockTransactions],
    ["GET", new RegExp(`^/extended/v1/tx/${TXID}$`), transaction],
    ["GET", new RegExp(`^/extended/v1/tx/${TXID}/raw$`), rawTransaction],
    ["GET", /^\/extended\/v1\/address\/([A-Za-z0-9.\-_]+)\/nonces$/, nonces],
  ];
};
