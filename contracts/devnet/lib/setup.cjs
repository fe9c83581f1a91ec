"use strict";
// Genesis setup of a new chain: the calls of devnet-setup.json, signed by the labelled accounts and mined in
// the first block (DEVNET ONLY keys).
const codec = require("./txcodec.cjs");

async function runSetup(chain, log) {
  const setup = chain.setup;
  if (!setup || !Array.isArray(setup.steps) || !setup.steps.length) return;
  const byLabel = new Map(chain.accounts.map((a) => [a.label, a]));
  const buffers = [];
  const nonces = new Map();
  for (const step of setup.steps) {
    const acct = byLabel.get(step.sender) || chain.accounts.find((a) => a.address === step.sender);
    if (!acct) throw new Error(`devnet-setup.json: unknown sender ${step.sender}`);
    const nonce = nonces.get(acct.address) ?? chain.confirmedNonce(acct.address);
    nonces.set(acct.address, nonce + 1);
    buffers.push(await codec.makeCall({
      contractId: step.contract_id || `${setup.deployer || chain.raw.deployer}.${step.contract}`,
      functionName: step.function, args: (step.args || []).map(codec.cvFromTyped), nonce, fee: 2000,
      senderKey: acct.private_key, publicKey: acct.public_key,
    }));
  }
  chain.admitBatch(buffers).forEach((r, i) => {
    if (r.rejection) throw new Error(`devnet-setup.json step ${i} rejected: ${r.rejection.reason} ${JSON.stringify(r.rejection.reasonData)}`);
  });
  const blocks = await chain.mine();
  const txs = blocks[blocks.length - 1].txs;
  const failed = txs.filter((t) => t.status !== "success");
  log(`genesis setup: ${txs.length} calls mined at height ${chain.tip.height}${failed.length ? `, ${failed.length} FAILED: ${failed.map((t) => t.rawResult).join(",")}` : ""}`);
}

module.exports = { runSetup };
