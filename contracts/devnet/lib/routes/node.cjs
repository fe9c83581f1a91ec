"use strict";
// The stacks-node RPC subset (/v2/*): info, accounts, transaction submission, fee estimates, read-only calls,
// contract interfaces and sources.
const { u128hex, unhex } = require("../chain.cjs");
const { hash160 } = require("../keys.cjs");
const { jsonBody, readBody, readJson, send } = require("../http.cjs");

const PRINCIPAL = "([A-Za-z0-9.\\-_]+)";
const CONTRACT = "([A-Z0-9]+)\\/([A-Za-z0-9\\-_]+)";

function nodeInfo({ chain, version }) {
  const tip = chain.tip;
  const bb = chain.burnBlocks[chain.burnBlocks.length - 1];
  const prev = chain.burnBlocks[Math.max(0, bb.height - 1)];
  return {
    peer_version: 4207599116,
    pox_consensus: bb.consensusHash.slice(2),
    burn_block_height: bb.height,
    stable_pox_consensus: prev.consensusHash.slice(2),
    stable_burn_block_height: prev.height,
    server_version: version,
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
    node_public_key_hash: hash160(Buffer.from(chain.miner.publicKey, "hex")).toString("hex"),
    last_pox_anchor: { anchor_block_hash: "00".repeat(32), anchor_block_txid: "00".repeat(32) },
    stackerdbs: [],
  };
}

function rejected(res, reason, txid, reasonData) {
  const out = { error: "transaction rejected", reason, txid };
  if (reasonData) out.reason_data = reasonData;
  return send(res, 400, out);
}

module.exports = (ctx) => {
  const { chain, lock, admission } = ctx;

  async function account(req, res, { params: [who], query }) {
    let bal;
    try {
      bal = await lock.run(() => chain.balance(who));
    } catch (_e) {
      return send(res, 400, { error: `invalid principal ${who}` });
    }
    const out = { balance: u128hex(bal), locked: u128hex(0), unlock_height: 0, nonce: chain.confirmedNonce(who) };
    if (query.get("proof") !== "0") { out.balance_proof = ""; out.nonce_proof = ""; }
    return send(res, 200, out);
  }

  async function submit(req, res) {
    let bytes = await readBody(req);
    if ((req.headers["content-type"] || "").includes("json")) {
      const j = jsonBody(bytes);
      if (typeof j.tx !== "string") return rejected(res, "Deserialization", null, { message: "expected {\"tx\": \"<hex>\"}" });
      bytes = unhex(j.tx);
    }
    const r = await admission.admit(bytes);
    if (r.rejection) return rejected(res, r.rejection.reason, r.txid, r.rejection.reasonData);
    return send(res, 200, r.txid);
  }

  async function estimate(req, res) {
    const j = await readJson(req);
    if (typeof j.transaction_payload !== "string") return send(res, 400, { error: "transaction_payload (hex) is required" });
    const payloadLen = unhex(j.transaction_payload).length;
    const len = Number.isInteger(j.estimated_len) && j.estimated_len > 0 ? j.estimated_len : payloadLen + 180;
    return send(res, 200, {
      estimated_cost: { read_count: 0, read_length: 0, runtime: 0, write_count: 0, write_length: 0 },
      estimated_cost_scalar: 1, cost_scalar_change_by_byte: 0.0,
      estimations: [1, 2, 4].map((r) => ({ fee_rate: r, fee: Math.max(len * r, 180 * r) })),
    });
  }

  async function callRead(req, res, { params: [addr, name, fn] }) {
    const j = await readJson(req);
    const args = Array.isArray(j.arguments) ? j.arguments : [];
    const sender = typeof j.sender === "string" && j.sender ? j.sender : addr;
    return send(res, 200, await lock.run(() => chain.callRead(`${addr}.${name}`, decodeURIComponent(fn), args, sender)));
  }

  function contractInterface(req, res, { params: [addr, name] }) {
    const iface = chain.contractInterfaces().get(`${addr}.${name}`);
    if (!iface) return send(res, 404, { error: `No contract interface data found for ${addr}.${name}` });
    const { functions, variables, maps, fungible_tokens, non_fungible_tokens, epoch, clarity_version } = iface;
    return send(res, 200, { functions, variables, maps, fungible_tokens, non_fungible_tokens, epoch, clarity_version });
  }

  function contractSource(req, res, { params: [addr, name] }) {
    const src = chain.raw.getContractSource(`${addr}.${name}`);
    if (src === undefined) return send(res, 404, { error: "no such contract" });
    return send(res, 200, { source: src, publish_height: 0, proof: "" });
  }

  return [
    ["GET", "/v2/info", (req, res) => send(res, 200, nodeInfo(ctx))],
    ["GET", new RegExp(`^/v2/accounts/${PRINCIPAL}$`), account],
    ["POST", "/v2/transactions", submit],
    ["GET", "/v2/fees/transfer", (req, res) => send(res, 200, 1)],
    ["POST", "/v2/fees/transaction", estimate],
    ["POST", new RegExp(`^/v2/contracts/call-read/${CONTRACT}/([^/]+)$`), callRead],
    ["GET", new RegExp(`^/v2/contracts/interface/${CONTRACT}$`), contractInterface],
    ["GET", new RegExp(`^/v2/contracts/source/${CONTRACT}$`), contractSource],
  ];
};
