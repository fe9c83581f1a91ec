"use strict";
// Shapes of the Hiro API subset the indexer backfill and the keeper use (stacks-blockchain-api).
const T = require("@stacks/transactions");

function iso(t) { return new Date(t * 1000).toISOString(); }

function repr(hex) {
  try {
    return T.cvToString(T.Cl.deserialize(hex));
  } catch (_e) {
    return null;
  }
}

// GET /extended/v2/burn-blocks/{height|hash}: one burn block and the Stacks blocks anchored to it.
function burnBlock(chain, bb) {
  const blocks = chain.blocks.filter((b) => b.burnHeight === bb.height);
  const times = blocks.map((b) => b.time);
  return {
    burn_block_time: bb.time,
    burn_block_time_iso: iso(bb.time),
    burn_block_hash: bb.hash,
    burn_block_height: bb.height,
    stacks_blocks: blocks.map((b) => b.hash),
    avg_block_time: times.length > 1 ? (times[times.length - 1] - times[0]) / (times.length - 1) : 0,
    total_tx_count: blocks.reduce((n, b) => n + b.txs.length, 0),
  };
}

function nakamotoBlock(chain, b) {
  const bb = chain.burnBlocks[b.burnHeight];
  return {
    canonical: true,
    height: b.height,
    hash: b.hash,
    block_time: b.time,
    block_time_iso: iso(b.time),
    tenure_height: b.tenureHeight,
    index_block_hash: b.indexHash,
    parent_block_hash: b.parentHash,
    parent_index_block_hash: b.parentIndexHash,
    burn_block_time: bb.time,
    burn_block_time_iso: iso(bb.time),
    burn_block_hash: bb.hash,
    burn_block_height: bb.height,
    miner_txid: bb.minerTxid,
    tx_count: b.txs.length,
    execution_cost_read_count: 0,
    execution_cost_read_length: 0,
    execution_cost_runtime: 0,
    execution_cost_write_count: 0,
    execution_cost_write_length: 0,
  };
}

function hiroEvent(e) {
  const b = e[e.type];
  const base = { event_index: e.event_index, tx_id: e.txid };
  switch (e.type) {
    case "contract_event":
      return { ...base, event_type: "smart_contract_log", contract_log: { contract_id: b.contract_identifier, topic: b.topic, value: { hex: b.raw_value, repr: repr(b.raw_value) } } };
    case "stx_transfer_event":
      return { ...base, event_type: "stx_asset", asset: { asset_event_type: "transfer", sender: b.sender, recipient: b.recipient, amount: b.amount, memo: b.memo ? "0x" + b.memo : "" } };
    case "stx_mint_event":
      return { ...base, event_type: "stx_asset", asset: { asset_event_type: "mint", sender: "", recipient: b.recipient, amount: b.amount } };
    case "stx_burn_event":
      return { ...base, event_type: "stx_asset", asset: { asset_event_type: "burn", sender: b.sender, recipient: "", amount: b.amount } };
    case "stx_lock_event":
      return { ...base, event_type: "stx_lock", stx_lock_event: { locked_amount: b.locked_amount, unlock_height: Number(b.unlock_height), locked_address: b.locked_address } };
    case "ft_transfer_event": case "ft_mint_event": case "ft_burn_event":
      return { ...base, event_type: "fungible_token_asset", asset: { asset_event_type: e.type.split("_")[1], asset_id: b.asset_identifier, sender: b.sender || "", recipient: b.recipient || "", amount: b.amount } };
    case "nft_transfer_event": case "nft_mint_event": case "nft_burn_event":
      return { ...base, event_type: "non_fungible_token_asset", asset: { asset_event_type: e.type.split("_")[1], asset_id: b.asset_identifier, sender: b.sender || "", recipient: b.recipient || "", value: { hex: b.raw_value, repr: repr(b.raw_value) } } };
    default:
      return { ...base, event_type: e.type };
  }
}

function typeString(ty) {
  if (typeof ty === "string") return ty === "uint128" ? "uint" : ty === "int128" ? "int" : ty;
  if (ty.buffer) return `(buff ${ty.buffer.length})`;
  if (ty["string-ascii"]) return `(string-ascii ${ty["string-ascii"].length})`;
  if (ty["string-utf8"]) return `(string-utf8 ${ty["string-utf8"].length})`;
  if (ty.optional) return `(optional ${typeString(ty.optional)})`;
  if (ty.response) return `(response ${typeString(ty.response.ok)} ${typeString(ty.response.error)})`;
  if (ty.list) return `(list ${ty.list.length} ${typeString(ty.list.type)})`;
  if (ty.tuple) return `(tuple ${ty.tuple.map((f) => `(${f.name} ${typeString(f.type)})`).join(" ")})`;
  return JSON.stringify(ty);
}

function txBase(chain, d) {
  const base = {
    tx_id: "0x" + d.txid,
    nonce: d.nonce,
    fee_rate: d.fee.toString(),
    sender_address: d.sender,
    sponsored: false,
    post_condition_mode: d.pcMode === 2 ? "deny" : "allow",
    post_conditions: [],
    anchor_mode: "any",
    tx_type: d.kind,
  };
  if (d.kind === "token_transfer") {
    base.token_transfer = { recipient_address: d.recipient, amount: d.amount.toString(), memo: "0x" + d.memoHex };
  } else if (d.kind === "contract_call") {
    const iface = chain.contractInterfaces().get(d.contractId);
    const f = iface && iface.functions.find((x) => x.name === d.functionName);
    base.contract_call = {
      contract_id: d.contractId,
      function_name: d.functionName,
      function_signature: f ? `(define-public (${f.name} ${f.args.map((a) => `(${a.name} ${typeString(a.type)})`).join(" ")}))` : "",
      function_args: d.args.map((cv, i) => {
        const hex = T.cvToHex(cv);
        return { hex, repr: repr(hex), name: f && f.args[i] ? f.args[i].name : "", type: f && f.args[i] ? typeString(f.args[i].type) : "" };
      }),
    };
  } else if (d.kind === "smart_contract") {
    base.smart_contract = { clarity_version: d.clarityVersion, contract_id: d.contractId, source_code: d.code };
  }
  return base;
}

function transaction(chain, loc, { eventLimit = 96, eventOffset = 0, withEvents = true } = {}) {
  const b = chain.blocks[loc.height];
  const tx = b.txs[loc.index];
  const bb = chain.burnBlocks[b.burnHeight];
  const pbb = chain.burnBlocks[b.parentBurnHeight] || bb;
  // event_index values are assigned per block in tx order
  let first = 0;
  for (let i = 0; i < loc.index; i++) first += b.txs[i].events.length;
  const events = tx.events.map((e, k) => hiroEvent({ ...e, event_index: first + k }));
  return {
    ...txBase(chain, tx.d),
    block_hash: b.hash,
    block_height: b.height,
    block_time: b.time,
    block_time_iso: iso(b.time),
    burn_block_time: bb.time,
    burn_block_time_iso: iso(bb.time),
    burn_block_height: bb.height,
    burn_block_hash: bb.hash,
    parent_burn_block_time: pbb.time,
    parent_burn_block_time_iso: iso(pbb.time),
    parent_block_hash: b.parentHash,
    index_block_hash: b.indexHash,
    canonical: true,
    tx_index: tx.index,
    tx_status: tx.status,
    tx_result: { hex: tx.rawResult, repr: repr(tx.rawResult) },
    vm_error: tx.vmError,
    is_unanchored: false,
    microblock_hash: "0x",
    microblock_sequence: 2147483647,
    microblock_canonical: true,
    execution_cost_read_count: 0,
    execution_cost_read_length: 0,
    execution_cost_runtime: 0,
    execution_cost_write_count: 0,
    execution_cost_write_length: 0,
    event_count: tx.events.length,
    events: withEvents ? events.slice(eventOffset, eventOffset + eventLimit) : [],
  };
}

// GET /extended/v1/tx/{txid}/raw: the signed transaction bytes, mined or pending (Hiro's shape)
function rawTransaction(d) {
  return { raw_tx: "0x" + d.hex };
}

function mempoolTransaction(chain, entry) {
  const t = Math.floor(entry.received / 1000);
  return { ...txBase(chain, entry.d), tx_status: "pending", replaced_by_tx_id: null, receipt_time: t, receipt_time_iso: iso(t) };
}

module.exports = { burnBlock, nakamotoBlock, transaction, rawTransaction, mempoolTransaction };
