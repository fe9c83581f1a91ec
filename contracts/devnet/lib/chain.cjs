"use strict";
// The devnet chain: a clarinet-sdk simnet session that really executes the contracts, plus what
// simnet lacks and a stacks-node has: signature/nonce/fee/balance checks and a mempool, block and
// burn-block hashes chained by parent, fee debits, post-condition checks, runtime-error receipts,
// forks (reset + replay + a longer competing branch), a persistent transaction log, and
// stacks-node observer payloads.
const fs = require("node:fs");
const path = require("node:path");
const crypto = require("node:crypto");
const T = require("@stacks/transactions");
const { sha512_256, sha256, hash160, accountFromMnemonic, accountFromLabel } = require("./keys.cjs");
const codec = require("./txcodec.cjs");
const { Rejection } = codec;

const sdkMain = require.resolve("@stacks/clarinet-sdk");
const { vfs } = require(path.join(path.dirname(sdkMain), "vfs.js"));
const { getSessionProxy } = require(path.join(path.dirname(sdkMain), "sdkProxy.js"));
const wasm = require("@stacks/clarinet-sdk-wasm");

const ZERO32 = "0x" + "00".repeat(32);
const LOG_VERSION = 1;
const MINT_AMOUNT = 10n ** 15n; // µSTX for the devnet's own accounts
const ZERO_COST = { read_count: 0, read_length: 0, runtime: 0, write_count: 0, write_length: 0 };

function hx(b) { return "0x" + Buffer.from(b).toString("hex"); }
function unhex(s) { return Buffer.from(String(s).replace(/^0x/, ""), "hex"); }
function u64(n) { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return b; }
function u128hex(n) { return "0x" + BigInt(n).toString(16).padStart(32, "0"); }
function now() { return Math.floor(Date.now() / 1000); }
const clock = () => performance.now();

/** Stage timers (ms, cumulative) reported in /devnet/status as `timing` and by the benchmarks. */
function newTiming() {
  return {
    decode: 0, sig_batch: 0, checks: 0, build_calls: 0, mine_block: 0, event_map: 0, post_conditions: 0,
    block_assemble: 0, payload_build: 0, emit: 0, chain_log: 0, admitted: 0, mined: 0, blocks: 0,
  };
}

/** Run fn with console output from the WASM (runtime-error traces, print echoes) silenced. A promise
 * returned by fn keeps the console silenced until it settles. */
function quiet(fn) {
  const saved = { log: console.log, error: console.error, warn: console.warn, info: console.info };
  console.log = console.error = console.warn = console.info = () => {};
  const restore = () => Object.assign(console, saved);
  let result;
  try {
    result = fn();
  } catch (e) {
    restore();
    throw e;
  }
  if (result && typeof result.then === "function") return result.finally(restore);
  restore();
  return result;
}

class FatalVmError extends Error {}
/** The chain log in the data dir was built from other contracts or devnet settings: only --reset helps. */
class ProjectChanged extends Error {}

// ---- the Clarinet project ---------------------------------------------------------------------
function projectFiles(manifest) {
  const root = path.dirname(manifest);
  const toml = fs.readFileSync(manifest, "utf8");
  const files = new Set(["Clarinet.toml"]);
  for (const m of toml.matchAll(/^\s*path\s*=\s*"([^"]+)"/gm)) files.add(path.normalize(m[1]));
  const settings = path.join(root, "settings");
  if (fs.existsSync(settings)) {
    for (const f of fs.readdirSync(settings)) if (f.endsWith(".toml")) files.add(path.join("settings", f));
  }
  if (fs.existsSync(path.join(root, "devnet-setup.json"))) files.add("devnet-setup.json");
  return { root, files: [...files].sort() };
}

function parseAccounts(tomlText) {
  // minimal reader for [accounts.<label>] sections of settings/Devnet.toml
  const out = [];
  let cur = null;
  for (const raw of tomlText.split("\n")) {
    const line = raw.replace(/#.*$/, "").trim();
    const sec = line.match(/^\[accounts\.([A-Za-z0-9_\-]+)\]$/);
    if (sec) { cur = { label: sec[1] }; out.push(cur); continue; }
    if (line.startsWith("[")) { cur = null; continue; }
    if (!cur) continue;
    const kv = line.match(/^([a-z_]+)\s*=\s*(.+)$/);
    if (!kv) continue;
    const v = kv[2].trim();
    if (kv[1] === "mnemonic") cur.mnemonic = v.replace(/^"|"$/g, "");
    if (kv[1] === "balance") cur.balance = v.replace(/[_"]/g, "");
  }
  return out.filter((a) => a.mnemonic);
}

// ---- post-conditions ------------------------------------------------------------------------
function pcPrincipal(pc, origin) {
  const p = pc.principal;
  if (!p || p.prefix === 1) return origin;
  const addr = T.addressToString(p.address);
  return p.prefix === 3 ? `${addr}.${p.contractName.content}` : addr;
}

function pcAsset(pc) {
  const a = pc.asset;
  return a ? `${T.addressToString(a.address)}.${a.contractName.content}::${a.assetName.content}` : null;
}

function cmp(code, actual, amount) {
  switch (code) {
    case 1: return actual === amount;
    case 2: return actual > amount;
    case 3: return actual >= amount;
    case 4: return actual < amount;
    case 5: return actual <= amount;
    default: return false;
  }
}

/** True when the executed events satisfy the transaction's post-conditions (and deny mode). */
function postConditionsHold(d, events) {
  const pcs = d.postConditions || [];
  if (d.pcMode !== 2 && pcs.length === 0) return true;
  // outflows per principal and asset ("STX" or asset id), NFTs as sets of raw values
  const out = new Map();
  const nftOut = new Map();
  const add = (who, asset, amt) => {
    const k = `${who}|${asset}`;
    out.set(k, (out.get(k) || 0n) + amt);
  };
  for (const e of events) {
    const b = e[e.type];
    switch (e.type) {
      case "stx_transfer_event": case "stx_burn_event": add(b.sender, "STX", BigInt(b.amount)); break;
      case "ft_transfer_event": case "ft_burn_event": add(b.sender, b.asset_identifier, BigInt(b.amount)); break;
      case "nft_transfer_event": case "nft_burn_event": {
        const k = `${b.sender}|${b.asset_identifier}`;
        if (!nftOut.has(k)) nftOut.set(k, new Set());
        nftOut.get(k).add(b.raw_value);
        break;
      }
      default: break;
    }
  }
  const covered = new Set();
  for (const pc of pcs) {
    const who = pcPrincipal(pc, d.sender);
    if (pc.conditionType === 0 || pc.conditionType === 1) {
      const asset = pc.conditionType === 0 ? "STX" : pcAsset(pc);
      const k = `${who}|${asset}`;
      covered.add(k);
      if (!cmp(pc.conditionCode, out.get(k) || 0n, BigInt(pc.amount))) return false;
    } else if (pc.conditionType === 2) {
      const k = `${who}|${pcAsset(pc)}`;
      covered.add(k);
      const sent = (nftOut.get(k) || new Set()).has(T.cvToHex(pc.assetName || pc.tokenId || pc.value || T.Cl.none()));
      if (pc.conditionCode === 0x10 && !sent) return false;
      if (pc.conditionCode === 0x11 && sent) return false;
    }
  }
  if (d.pcMode === 2) {
    for (const k of [...out.keys(), ...nftOut.keys()]) {
      const who = k.split("|")[0];
      if (!covered.has(k) && who !== "") return false; // asset left a principal without a post-condition
    }
  }
  return true;
}

// ---- the chain --------------------------------------------------------------------------------
class Chain {
  constructor(opts) {
    this.opts = {
      burnRatio: 2, maxChaining: 25, maxBlockTxs: 500, minFeeRate: 1, log: () => {}, ...opts,
    };
    this.log = this.opts.log;
    this.emit = () => {}; // (path, body) -> delivered to observers; set by the server
    this.blocks = []; // canonical chain, index = height
    this.burnBlocks = []; // index = burn height
    this.txIndex = new Map(); // txid (no 0x) -> {height, index}
    this.nonces = new Map(); // address -> next nonce confirmed on chain
    this.mempool = new Map(); // seq -> entry {d, seq, received}
    this.byTxid = new Map(); // txid -> entry
    this.bySender = new Map(); // address -> Map(nonce -> entry)
    this.seq = 0;
    this.forks = 0;
    this.lineEnd = new Map(); // height -> byte offset after its log line
    this.interfaces = null;
    this.stats = { admitted: 0, rejected: 0, mined_txs: 0, runtime_failures: 0, replays: 0 };
    this.timing = newTiming();
  }

  // ---- opening, genesis and replay ----------------------------------------------------------
  async open({ reset = false } = {}) {
    const { manifest, dataDir } = this.opts;
    fs.mkdirSync(dataDir, { recursive: true });
    const { root, files } = projectFiles(manifest);
    const digest = crypto.createHash("sha256");
    this.projectDir = path.join(dataDir, "project");
    fs.rmSync(this.projectDir, { recursive: true, force: true });
    for (const rel of files) {
      const src = path.join(root, rel);
      if (!fs.existsSync(src)) throw new Error(`${rel} (from ${manifest}) does not exist`);
      const content = fs.readFileSync(src);
      digest.update(rel + "\0" + content.length + "\0").update(content);
      fs.mkdirSync(path.dirname(path.join(this.projectDir, rel)), { recursive: true });
      fs.writeFileSync(path.join(this.projectDir, rel), content);
    }
    this.digest = digest.digest("hex");
    this.manifestCopy = path.join(this.projectDir, "Clarinet.toml");
    const devnetToml = path.join(this.projectDir, "settings", "Devnet.toml");
    this.tomlAccounts = fs.existsSync(devnetToml) ? parseAccounts(fs.readFileSync(devnetToml, "utf8")) : [];
    const setupPath = path.join(this.projectDir, "devnet-setup.json");
    this.setup = fs.existsSync(setupPath) ? JSON.parse(fs.readFileSync(setupPath, "utf8")) : null;

    this.logPath = path.join(dataDir, "chain.log");
    if (reset) {
      fs.rmSync(this.logPath, { force: true });
      fs.rmSync(path.join(dataDir, "observers"), { recursive: true, force: true });
    }
    let lines = [];
    if (fs.existsSync(this.logPath)) {
      const text = fs.readFileSync(this.logPath, "utf8");
      let off = 0;
      for (const l of text.split("\n")) {
        const end = off + Buffer.byteLength(l) + 1;
        if (l.trim()) {
          try {
            lines.push({ rec: JSON.parse(l), end });
          } catch (_e) {
            break; // torn final line after a crash: drop it and everything after
          }
        }
        off = end;
      }
    }
    const fresh = lines.length === 0;
    if (fresh) {
      this.header = {
        v: LOG_VERSION, digest: this.digest, created: now(), genesis: crypto.randomBytes(16).toString("hex"),
        burn_ratio: this.opts.burnRatio,
      };
    } else {
      this.header = lines[0].rec;
      if (this.header.v !== LOG_VERSION) throw new ProjectChanged(`${this.logPath}: unknown log version; start with --reset`);
      if (this.header.digest !== this.digest) {
        throw new ProjectChanged(
          `the contracts or devnet settings changed since the chain in ${dataDir} was built` +
          (this.header.code_hash ? ` (its contracts' code hash is ${this.header.code_hash})` : "") +
          "; start with --reset (or another --data-dir) to begin a new chain",
        );
      }
      if (this.header.burn_ratio !== this.opts.burnRatio) {
        this.log(`keeping burn ratio ${this.header.burn_ratio} of the existing chain (asked for ${this.opts.burnRatio})`);
      }
      // truncate a torn tail so appends continue on a clean line
      const goodEnd = lines[lines.length - 1].end;
      if (fs.statSync(this.logPath).size > goodEnd) fs.truncateSync(this.logPath, goodEnd);
    }
    this.burnRatio = this.header.burn_ratio;

    // the devnet's own accounts (DEVNET ONLY keys)
    this.miner = accountFromLabel("miner");
    this.faucetAccount = accountFromLabel("faucet");
    this.forker = accountFromLabel("fork-marker");

    const t0 = Date.now();
    await this._initSession();
    this.log(`simnet ready in ${Date.now() - t0} ms (height ${this.raw.blockHeight}, burn ${this.raw.burnBlockHeight})`);
    this.contractIds = this.deployedContracts();
    const codeHash = this._codeHash();
    if (fresh) {
      this.header.code_hash = codeHash; // recorded at genesis: what the indexer's database is checked against
      fs.writeFileSync(this.logPath, JSON.stringify(this.header) + "\n");
    } else if ((this.header.code_hash ?? codeHash) !== codeHash) {
      throw new ProjectChanged(`${this.logPath} was built from contracts with code hash ${this.header.code_hash}, ` +
        `the project deploys ${codeHash}; start with --reset`);
    }
    this.header.code_hash = codeHash;
    this.logFd = fs.openSync(this.logPath, "a");
    this.accounts = this._accounts();
    this._genesis();
    const replayed = lines.slice(1);
    for (const { rec, end } of replayed) {
      this._replayLine(rec);
      this.lineEnd.set(rec.h, end);
    }
    if (replayed.length) this.log(`replayed ${replayed.length} blocks from ${this.logPath}; tip ${this.tip.height}`);
    return { fresh };
  }

  async _initSession() {
    if (!this.raw) {
      this.raw = new wasm.SDK(vfs, new wasm.SDKOptions(false, false, false));
      this.simnet = new Proxy(this.raw, getSessionProxy());
    }
    await quiet(() => this.raw.initSession(this.projectDir, this.manifestCopy, null));
    this.interfaces = null;
    for (const a of [this.miner, this.faucetAccount, this.forker]) this.raw.mintSTX(a.address, MINT_AMOUNT);
    // SIP-010 balances the setup file asks for (e.g. sBTC for providers and buyers): simnet mints
    const mints = this.setup && this.setup.sbtc_mints;
    if (mints && Array.isArray(mints.mints)) {
      for (const mt of mints.mints) quiet(() => this.raw.mintFT(mints.asset, mt.recipient, BigInt(mt.amount)));
    }
  }

  /**
   * The deployed contracts, in deploy order (the simnet deployment plan generated from the manifest): those
   * of the setup file's deployer, or every contract the project itself publishes when there is no setup file.
   */
  deployedContracts() {
    const plan = fs.readFileSync(path.join(this.projectDir, "deployments", "default.simnet-plan.yaml"), "utf8");
    const deployer = this.setup && this.setup.deployer;
    const out = [];
    for (const m of plan.matchAll(/contract-name:\s*(\S+)\s*\n\s*emulated-sender:\s*(\S+)\s*\n\s*path:\s*(\S+)/g)) {
      const [, name, sender, file] = m;
      const ours = deployer ? sender === deployer : fs.existsSync(path.join(this.projectDir, file));
      if (ours) out.push(`${sender}.${name}`);
    }
    return out;
  }

  /** sha256 over the deployed contracts' sources in deploy order, each as `id NUL length NUL source`. */
  _codeHash() {
    const h = crypto.createHash("sha256");
    for (const id of this.contractIds) {
      const src = Buffer.from(this.raw.getContractSource(id) ?? "", "utf8");
      h.update(`${id}\0${src.length}\0`).update(src);
    }
    return h.digest("hex");
  }

  /** What identifies this chain to a database indexing it: its contracts and its genesis. */
  identity() {
    return { code_hash: this.header.code_hash, genesis_id: this.header.genesis, contracts: this.contractIds };
  }

  _accounts() {
    const simAccounts = this.raw.getAccounts();
    const out = [];
    for (const a of this.tomlAccounts) {
      const k = accountFromMnemonic(a.mnemonic);
      const simAddr = simAccounts.get(a.label);
      if (simAddr && simAddr !== k.address) this.log(`warning: derived ${k.address} != simnet ${simAddr} for ${a.label}`);
      out.push({ label: a.label, address: k.address, private_key: k.privateKey, public_key: k.publicKey });
    }
    for (const [label, a] of [["faucet", this.faucetAccount], ["miner", this.miner], ["fork-marker", this.forker]]) {
      out.push({ label: `devnet-${label}`, address: a.address, private_key: a.privateKey, public_key: a.publicKey });
    }
    return out;
  }

  get tip() { return this.blocks[this.blocks.length - 1]; }

  _burnHash(parentHash, height, salt) {
    return hx(sha256(sha256(Buffer.concat([unhex(parentHash), u64(height), Buffer.from(salt)]))));
  }

  _newBurnBlock(height, time, salt) {
    const parent = this.burnBlocks[height - 1];
    const parentHash = parent ? parent.hash : ZERO32;
    const hash = this._burnHash(parentHash, height, `${this.header.genesis}:${salt}`);
    const bb = {
      height, hash, parentHash, time,
      consensusHash: hx(sha512_256(Buffer.concat([Buffer.from("consensus"), unhex(hash)])).subarray(0, 20)),
      minerTxid: hx(sha512_256(Buffer.concat([Buffer.from("miner-commit"), unhex(hash)]))),
    };
    this.burnBlocks[height] = bb;
    this.burnBlocks.length = height + 1;
    return bb;
  }

  _genesis() {
    this.blocks = [];
    this.burnBlocks = [];
    const H0 = this.raw.blockHeight;
    const B0 = this.raw.burnBlockHeight;
    this.genesisHeight = H0;
    const t = this.header.created;
    for (let b = 0; b <= B0; b++) this._newBurnBlock(b, t, "genesis");
    for (let h = 0; h <= H0; h++) {
      this._appendBlock({ height: h, time: t, salt: "genesis", burnHeight: Math.min(h, B0), txs: [], tenureStart: h <= B0 });
    }
  }

  _appendBlock({ height, time, salt, burnHeight, txs, tenureStart }) {
    const parent = this.blocks[height - 1];
    const parentIndexHash = parent ? parent.indexHash : ZERO32;
    const bb = this.burnBlocks[burnHeight];
    const h = crypto.createHash("sha512-256");
    h.update(unhex(parentIndexHash)).update(u64(height)).update(u64(time)).update(`${this.header.genesis}:${salt}`);
    for (const tx of txs) h.update(unhex(tx.txid));
    const hash = hx(h.digest());
    const indexHash = hx(sha512_256(Buffer.concat([unhex(hash), unhex(bb.consensusHash)])));
    let eventCount = 0;
    txs.forEach((tx, i) => { tx.index = i; eventCount += tx.events.length; });
    const block = {
      height, hash, indexHash, time, salt, burnHeight, tenureStart,
      parentHash: parent ? parent.hash : ZERO32, parentIndexHash,
      parentBurnHeight: parent ? parent.burnHeight : 0,
      tenureHeight: burnHeight, txs, eventCount,
    };
    this.blocks[height] = block;
    this.blocks.length = height + 1;
    for (const tx of txs) {
      this.txIndex.set(tx.txid, { height, index: tx.index });
      this.nonces.set(tx.d.sender, tx.d.nonce + 1);
    }
    return block;
  }

  _replayLine(rec) {
    const expect = this.raw.blockHeight + 1;
    if (rec.h !== expect) throw new Error(`chain log out of step: line for height ${rec.h}, simnet at ${expect - 1}`);
    if (rec.b) {
      quiet(() => this.raw.mineEmptyBurnBlock());
      this._newBurnBlock(this.raw.burnBlockHeight, rec.t, rec.s);
      this._appendBlock({ height: rec.h, time: rec.t, salt: rec.s, burnHeight: this.raw.burnBlockHeight, txs: [], tenureStart: true });
      return;
    }
    const entries = rec.x.map(([hex, fail]) => ({ d: codec.decode(unhex(hex)), fail: fail || null }));
    const txs = this._execute(entries, { replay: true });
    this._appendBlock({ height: rec.h, time: rec.t, salt: rec.s, burnHeight: this.raw.burnBlockHeight, txs, tenureStart: false });
  }

  /** Reset simnet and replay the logged chain up to `height` (inclusive). */
  async _resetTo(height) {
    const t0 = Date.now();
    this.stats.replays++;
    await this._initSession();
    const lines = this._readLog();
    this.txIndex = new Map();
    this.nonces = new Map();
    this._genesis();
    for (const { rec } of lines) {
      if (rec.h > height) break;
      this._replayLine(rec);
    }
    if (this.tip.height !== height) throw new Error(`replay reached ${this.tip.height}, wanted ${height}`);
    this.log(`reset and replayed to height ${height} in ${Date.now() - t0} ms`);
  }

  _readLog() {
    const text = fs.readFileSync(this.logPath, "utf8");
    const out = [];
    let first = true;
    for (const l of text.split("\n")) {
      if (!l.trim()) continue;
      if (first) { first = false; continue; }
      out.push({ rec: JSON.parse(l) });
    }
    return out;
  }

  _appendLog(rec) {
    const line = JSON.stringify(rec) + "\n";
    fs.writeSync(this.logFd, line);
    const prev = this.lineEnd.get(rec.h - 1) ?? fs.fstatSync(this.logFd).size - Buffer.byteLength(line);
    this.lineEnd.set(rec.h, prev + Buffer.byteLength(line));
  }

  _truncateLog(height) {
    // keep lines up to `height`
    let end = this.lineEnd.get(height);
    if (end === undefined) {
      // genesis: keep only the header
      end = Buffer.byteLength(JSON.stringify(this.header) + "\n");
    }
    fs.ftruncateSync(this.logFd, end);
    for (const h of [...this.lineEnd.keys()]) if (h > height) this.lineEnd.delete(h);
  }

  // ---- state reads ----------------------------------------------------------------------------
  contractInterfaces() {
    if (!this.interfaces) this.interfaces = this.raw.getContractsInterfaces();
    return this.interfaces;
  }

  balance(principal) {
    const r = quiet(() => this.raw.execute(`(stx-get-balance '${principal})`));
    return BigInt("0x" + r.result.slice(4));
  }

  confirmedNonce(addr) { return this.nonces.get(addr) || 0; }

  pendingNonces(addr) {
    const q = this.bySender.get(addr);
    return q ? [...q.keys()].sort((a, b) => a - b) : [];
  }

  callRead(contractId, fn, argsHex, sender) {
    const iface = this.contractInterfaces().get(contractId);
    if (!iface) return { okay: false, cause: `NoSuchContract(${contractId})` };
    const f = iface.functions.find((x) => x.name === fn);
    if (!f) return { okay: false, cause: `NoSuchFunction(${fn})` };
    if (f.access !== "read_only") return { okay: false, cause: "NotReadOnly" };
    if (f.args.length !== argsHex.length) return { okay: false, cause: `IncorrectArgumentCount(${f.args.length}, ${argsHex.length})` };
    try {
      const args = argsHex.map((h) => unhex(h));
      const r = quiet(() => this.raw.callReadOnlyFn(new wasm.CallFnArgs(contractId, fn, args, sender)));
      return { okay: true, result: r.result.startsWith("0x") ? r.result : "0x" + r.result };
    } catch (e) {
      return { okay: false, cause: String(e && e.message ? e.message : e).slice(0, 2000) };
    }
  }

  // ---- admission --------------------------------------------------------------------------------
  /**
   * Admit a batch of raw transactions. Signatures of single-sig txs are recovered in one Clarity
   * `secp256k1-recover?` batch (the WASM VM is ~5x faster than pure-JS recovery); balances are read
   * in the same call. `pre` (optional, aligned with `buffers`) is what the signature worker already
   * did: {d: decoded fields, h: hash160 hex of the recovered public key or "" when recovery failed},
   * or null for "not done there". Returns [{txid} | {rejection}] in input order.
   */
  admitBatch(buffers, pre = null) {
    const tm = this.timing;
    let t0 = clock();
    const results = new Array(buffers.length);
    const decoded = [];
    for (let i = 0; i < buffers.length; i++) {
      try {
        const p = pre && pre[i];
        const fromWorker = !!(p && p.d && typeof p.h === "string");
        const d = fromWorker ? Object.assign(p.d, { bytes: buffers[i] }) : codec.decode(buffers[i]);
        if (d.version !== codec.TESTNET_VERSION || d.chainId !== codec.TESTNET_CHAIN_ID) {
          throw new Rejection("BadTransactionVersion", null, `version ${d.version} chain ${d.chainId}`);
        }
        if (fromWorker) decoded.push({ i, d, fs: null, pre: p.h });
        else decoded.push({ i, d, fs: codec.fastSighash(d) });
      } catch (e) {
        results[i] = { rejection: e instanceof Rejection ? e : new Rejection("Deserialization", { message: String(e) }), txid: null };
      }
    }
    let t1 = clock();
    tm.decode += t1 - t0;
    if (decoded.length) {
      const recovers = [];
      const senders = [...new Set(decoded.map((x) => x.d.sender))];
      for (const x of decoded) {
        if (x.fs) {
          x.ri = recovers.length;
          const rsv = Buffer.concat([x.fs.rs, Buffer.from([x.fs.recid])]).toString("hex");
          recovers.push(`(secp256k1-recover? 0x${x.fs.presign.toString("hex")} 0x${rsv})`);
        }
      }
      const snippet = `{r: (list ${recovers.join(" ")}), b: (list ${senders.map((s) => `(stx-get-balance '${s})`).join(" ")})}`;
      const cv = T.Cl.deserialize(quiet(() => this.raw.execute(snippet)).result);
      const recoveredHere = cv.value.r.value;
      const balances = new Map(senders.map((s, k) => [s, BigInt(cv.value.b.value[k].value)]));
      t0 = clock();
      tm.sig_batch += t0 - t1;
      const batchEmits = [];
      for (const x of decoded) {
        const { d } = x;
        try {
          let ok;
          if (x.pre !== undefined) {
            ok = x.pre === d.signer;
          } else if (x.fs) {
            const r = recoveredHere[x.ri];
            ok = false;
            if (r.type === "ok") {
              let pub = Buffer.from(r.value.value, "hex");
              if (x.fs.keyEncoding === 1) pub = Buffer.from(require("@noble/secp256k1").Point.fromHex(pub).toRawBytes(false));
              ok = hash160(pub).toString("hex") === d.signer;
            }
          } else {
            ok = codec.slowVerify(d);
          }
          if (!ok) throw new Rejection("SignatureValidation", { message: "Signer hash does not equal hash of public key(s)" });
          const res = this._admitChecked(d, balances.get(d.sender));
          results[x.i] = { txid: d.txid, duplicate: res.duplicate };
          if (!res.duplicate) batchEmits.push("0x" + d.hex);
        } catch (e) {
          if (!(e instanceof Rejection)) throw e;
          results[x.i] = { rejection: e, txid: d.txid };
        }
      }
      t1 = clock();
      tm.checks += t1 - t0;
      if (batchEmits.length) this.emit("/new_mempool_tx", batchEmits);
      tm.emit += clock() - t1;
    }
    for (const r of results) (r.rejection ? this.stats.rejected++ : this.stats.admitted++);
    tm.admitted += buffers.length;
    return results;
  }

  /** Nonce, fee, balance and payload checks; puts the tx in the mempool or throws a Rejection. */
  _admitChecked(d, balance, { readmit = false } = {}) {
    if (d.authType !== 0x04) throw new Rejection("SignatureValidation", { message: "sponsored transactions are not supported by the devnet" });
    if (d.kind === "coinbase") throw new Rejection("NoCoinbaseViaMempool");
    if (d.kind === "tenure_change") throw new Rejection("NoTenureChangeViaMempool");
    if (d.kind === "poison_microblock") throw new Rejection("Other", { message: "poison microblocks are not accepted" });
    const minFee = BigInt(d.bytes.length * this.opts.minFeeRate);
    if (d.fee < minFee) throw new Rejection("FeeTooLow", { expected: Number(minFee), actual: Number(d.fee) });
    const existing = this.byTxid.get(d.txid);
    if (existing) return { duplicate: true };
    if (this.txIndex.has(d.txid) && !readmit) throw new Rejection("BadNonce", this._badNonce(d, this.confirmedNonce(d.sender)));
    const confirmed = this.confirmedNonce(d.sender);
    if (d.nonce < confirmed) throw new Rejection("BadNonce", this._badNonce(d, confirmed));
    const q = this.bySender.get(d.sender);
    const same = q && q.get(d.nonce);
    if (!same) {
      const expected = confirmed + (q ? q.size : 0);
      if (d.nonce !== expected) {
        if (q && q.size >= this.opts.maxChaining) throw new Rejection("TooMuchChaining", this._chaining(d, confirmed));
        throw new Rejection("BadNonce", this._badNonce(d, expected));
      }
      if (q && q.size >= this.opts.maxChaining) throw new Rejection("TooMuchChaining", this._chaining(d, confirmed));
    } else if (d.fee <= same.d.fee) {
      throw new Rejection("ConflictingNonceInMempool", { message: `nonce ${d.nonce} already in mempool as ${same.d.txid} with fee ${same.d.fee}; replace-by-fee needs a higher fee` });
    }
    const need = d.fee + (d.kind === "token_transfer" ? d.amount : 0n);
    if (balance < need) throw new Rejection("NotEnoughFunds", { expected: u128hex(need), actual: u128hex(balance) });
    if (d.kind === "token_transfer") {
      if (d.recipient === d.sender) throw new Rejection("TransferRecipientCannotEqualSender", { recipient: d.recipient });
      if (d.amount === 0n) throw new Rejection("TransferAmountMustBePositive");
    } else if (d.kind === "contract_call") {
      const iface = this.contractInterfaces().get(d.contractId);
      if (!iface) throw new Rejection("NoSuchContract", { message: d.contractId });
      const f = iface.functions.find((x) => x.name === d.functionName);
      if (!f || f.access !== "public") throw new Rejection("NoSuchPublicFunction", { message: `${d.contractId}::${d.functionName}` });
      if (f.args.length !== d.args.length) {
        throw new Rejection("BadFunctionArgument", { message: `expected ${f.args.length} arguments, got ${d.args.length}` });
      }
      for (let k = 0; k < f.args.length; k++) {
        if (!codec.typeMatches(d.args[k], f.args[k].type)) {
          throw new Rejection("BadFunctionArgument", { message: `argument ${k} (${f.args[k].name}) has the wrong type` });
        }
      }
    } else if (d.kind === "smart_contract") {
      if (!/^[a-zA-Z]([a-zA-Z0-9]|[-_])*$/.test(d.contractName) || d.contractName.length > 40) {
        throw new Rejection("Other", { message: `invalid contract name ${d.contractName}` });
      }
      if (d.clarityVersion > 3) throw new Rejection("Other", { message: `Clarity ${d.clarityVersion} is not available in epoch 3.1` });
      const pendingDeploy = [...this.byTxid.values()].some((e) => e.d.kind === "smart_contract" && e.d.contractId === d.contractId && e.d.txid !== (same && same.d.txid));
      if (this.contractInterfaces().has(d.contractId) || pendingDeploy) {
        throw new Rejection("ContractAlreadyExists", { contract_identifier: d.contractId });
      }
    }
    if (same) {
      // replace-by-fee: the new tx takes the old one's place in line
      this.byTxid.delete(same.d.txid);
      const entry = { d, seq: same.seq, received: Date.now() };
      this.mempool.set(same.seq, entry);
      this.byTxid.set(d.txid, entry);
      q.set(d.nonce, entry);
      this.emit("/drop_mempool_tx", { dropped_txids: ["0x" + same.d.txid], reason: "ReplaceByFee", new_txid: "0x" + d.txid });
      return { duplicate: false, replaced: same.d.txid };
    }
    const entry = { d, seq: ++this.seq, received: Date.now() };
    this.mempool.set(entry.seq, entry);
    this.byTxid.set(d.txid, entry);
    if (!this.bySender.has(d.sender)) this.bySender.set(d.sender, new Map());
    this.bySender.get(d.sender).set(d.nonce, entry);
    return { duplicate: false };
  }

  _badNonce(d, expected) {
    return { expected, actual: d.nonce, is_origin: true, principal: d.sender };
  }

  _chaining(d, confirmed) {
    return { max_nonce: confirmed + this.opts.maxChaining - 1, actual_nonce: d.nonce, principal: d.sender, is_origin: true };
  }

  _removeFromMempool(entry) {
    this.mempool.delete(entry.seq);
    this.byTxid.delete(entry.d.txid);
    const q = this.bySender.get(entry.d.sender);
    if (q) {
      q.delete(entry.d.nonce);
      if (!q.size) this.bySender.delete(entry.d.sender);
    }
  }

  /** Sign and admit a transaction from one of the devnet's own accounts. */
  async submitOwn(account, build) {
    const nonce = this.confirmedNonce(account.address) + (this.bySender.get(account.address)?.size || 0);
    const bytes = await build({ nonce, senderKey: account.privateKey, publicKey: account.publicKey });
    const [r] = this.admitBatch([bytes]);
    if (r.rejection) throw r.rejection;
    return r.txid;
  }

  faucet(address, amount) {
    return this.submitOwn(this.faucetAccount, ({ nonce, senderKey, publicKey }) =>
      codec.makeTransfer({ recipient: address, amount, memo: "devnet faucet", nonce, fee: 1000, senderKey, publicKey }));
  }

  // ---- mining -----------------------------------------------------------------------------------
  _nextTime() {
    return Math.max(now(), this.tip ? this.tip.time : 0);
  }

  _isTenureStart(height) {
    return height % this.burnRatio === 0;
  }

  /** Mine the next block (preceded by a tenure-start block when a burn block is due). */
  async mine({ salt = "", only = null } = {}) {
    const produced = [];
    if (this._isTenureStart(this.raw.blockHeight + 1)) produced.push(this._mineTenureBlock(salt));
    produced.push(await this._mineTxBlock({ salt, only }));
    return produced;
  }

  _mineTenureBlock(salt) {
    const time = this._nextTime();
    quiet(() => this.raw.mineEmptyBurnBlock());
    const height = this.raw.blockHeight;
    const bb = this._newBurnBlock(this.raw.burnBlockHeight, time, salt);
    this.emit("/new_burn_block", this.burnPayload(bb));
    const block = this._appendBlock({ height, time, salt, burnHeight: bb.height, txs: [], tenureStart: true });
    this.emit("/new_block", this.blockPayload(block));
    this._appendLog({ h: height, t: time, s: salt, b: 1 });
    return block;
  }

  async _mineTxBlock({ salt, only }) {
    const parentHeight = this.raw.blockHeight;
    let entries;
    if (only) {
      entries = only.map((e) => ({ d: e.d, entry: e, fail: null }));
    } else {
      entries = [];
      for (const e of this.mempool.values()) {
        if (entries.length >= this.opts.maxBlockTxs) break;
        entries.push({ d: e.d, entry: e, fail: null });
      }
    }
    const time = this._nextTime();
    let txs;
    for (;;) {
      try {
        txs = this._execute(entries, { replay: false });
        break;
      } catch (e) {
        if (!(e && e.retryAfterReset)) throw e;
        this.stats.runtime_failures++;
        await this._resetTo(parentHeight);
      }
    }
    const tm = this.timing;
    let t0 = clock();
    const height = this.raw.blockHeight;
    for (const x of entries) if (x.entry) this._removeFromMempool(x.entry);
    const block = this._appendBlock({ height, time, salt, burnHeight: this.raw.burnBlockHeight, txs, tenureStart: false });
    if (entries.some((x) => x.d.kind === "smart_contract")) this.interfaces = null;
    this.stats.mined_txs += txs.length;
    let t1 = clock();
    tm.block_assemble += t1 - t0;
    const payload = this.blockPayload(block);
    t0 = clock();
    tm.payload_build += t0 - t1;
    this.emit("/new_block", payload);
    t1 = clock();
    tm.emit += t1 - t0;
    this._appendLog({ h: height, t: time, s: salt, x: entries.map((x) => (x.fail ? [x.d.hex, x.fail] : [x.d.hex])) });
    tm.chain_log += clock() - t1;
    tm.mined += txs.length;
    tm.blocks++;
    return block;
  }

  /**
   * Execute entries as one simnet block. Each tx is preceded by its fee debit (an STX transfer to
   * the miner, whose events are not reported). A tx whose execution throws (a Clarity runtime
   * error) or breaks its post-conditions is marked failed on its entry and the caller resets and
   * re-mines (simnet cannot roll back a committed prefix); failed txs then only pay their fee.
   */
  _execute(entries, { replay }) {
    const tm = this.timing;
    let t0 = clock();
    const calls = [];
    const slots = [];
    for (const x of entries) {
      const d = x.d;
      calls.push({ transferSTX: { amount: Number(d.fee), recipient: this.miner.address, sender: d.sender } });
      if (x.fail) { slots.push(-1); continue; }
      slots.push(calls.length);
      if (d.kind === "contract_call") {
        calls.push({ callPublicFn: { contract: d.contractId, method: d.functionName, args_maps: d.args.map((a) => T.serializeCVBytes(a)), sender: d.sender } });
      } else if (d.kind === "token_transfer") {
        calls.push({ transferSTX: { amount: Number(d.amount), recipient: d.recipient, sender: d.sender } });
      } else if (d.kind === "smart_contract") {
        calls.push({ deployContract: { name: d.contractName, content: d.code, options: { clarityVersion: d.clarityVersion }, sender: d.sender } });
      } else {
        throw new Error(`cannot execute ${d.kind}`);
      }
    }
    if (calls.length === 0) {
      quiet(() => this.raw.mineEmptyStacksBlock());
      return [];
    }
    const minerBefore = replay ? 0n : this.balance(this.miner.address);
    let t1 = clock();
    tm.build_calls += t1 - t0;
    let res;
    try {
      res = quiet(() => this.raw.mineBlock(calls));
      t0 = clock();
      tm.mine_block += t0 - t1;
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError || /unreachable|recursive use of an object/.test(String(e))) {
        throw new FatalVmError(`Clarity VM panic: ${e}`);
      }
      if (replay) throw new Error(`replay failed: a logged block no longer executes (${String(e).slice(0, 300)})`);
      const msg = String(e && e.message ? e.message : e);
      this._blameRuntimeError(entries, msg, this.balance(this.miner.address) - minerBefore);
      const err = new Error("runtime error in block");
      err.retryAfterReset = true;
      throw err;
    }
    const txs = [];
    let pcFailed = false;
    let tpc = 0;
    entries.forEach((x, i) => {
      const d = x.d;
      const rec = { txid: d.txid, d, vmError: null, events: [], rawResult: "0x0809", status: "abort_by_response", abi: null };
      if (x.fail) {
        rec.status = x.fail === "pc" ? "abort_by_post_condition" : "abort_by_response";
        rec.vmError = x.fail === "pc" ? "post-condition check failed" : x.fail;
        rec.rawResult = x.fail === "pc" ? "0x0703" : "0x0809";
      } else {
        const r = res[slots[i]];
        const raw = r.result.startsWith("0x") ? r.result : "0x" + r.result;
        if (d.kind === "smart_contract") {
          rec.rawResult = "0x0703";
          rec.status = "success";
          const iface = this.raw.getContractsInterfaces().get(d.contractId);
          rec.abi = iface || null;
        } else {
          rec.rawResult = raw;
          rec.status = raw.startsWith("0x07") ? "success" : "abort_by_response";
        }
        rec.events = JSON.parse(r.events).map((s) => this._mapEvent(JSON.parse(s), d));
        const tp = clock();
        const pcOk = rec.status !== "success" || postConditionsHold(d, rec.events);
        tpc += clock() - tp;
        if (!pcOk) {
          if (replay) throw new Error("replay failed: post-conditions changed outcome");
          x.fail = "pc";
          pcFailed = true;
        }
        if (rec.status !== "success") rec.events = [];
      }
      txs.push(rec);
    });
    t1 = clock();
    tm.event_map += t1 - t0 - tpc;
    tm.post_conditions += tpc;
    if (pcFailed) {
      const err = new Error("post-condition failure in block");
      err.retryAfterReset = true;
      throw err;
    }
    return txs;
  }

  _blameRuntimeError(entries, msg, minerDelta) {
    // Every tx's fee debit runs right before it, so the miner's balance tells how far the block got.
    let sum = 0n;
    let blamed = -1;
    for (let k = 0; k < entries.length; k++) {
      sum += entries[k].d.fee;
      if (sum === minerDelta && !entries[k].fail) { blamed = k; break; }
    }
    if (blamed < 0) {
      const m = msg.match(/error: ([^\s:]+)::([^\s(]+)\(/);
      blamed = entries.findIndex((x) => !x.fail && m && x.d.contractId === m[1] && x.d.functionName === m[2]);
      if (blamed < 0) blamed = entries.findIndex((x) => !x.fail && x.d.kind !== "token_transfer");
      if (blamed < 0) blamed = entries.findIndex((x) => !x.fail);
    }
    const vm = msg.replace(/\s+/g, " ").slice(0, 1000);
    entries[blamed].fail = vm || "runtime error";
    this.log(`tx ${entries[blamed].d.txid} failed at runtime: ${vm.slice(0, 200)}`);
  }

  _mapEvent(e, d) {
    const data = { ...e.data };
    let type = e.event;
    let body;
    if (type === "print_event") {
      type = "contract_event";
      body = { contract_identifier: data.contract_identifier, topic: data.topic, raw_value: data.raw_value };
    } else {
      delete data.value;
      if (type === "stx_transfer_event" && d.kind === "token_transfer" && data.sender === d.sender && data.recipient === d.recipient) {
        data.memo = d.memoHex;
      }
      body = data;
    }
    return { txid: "0x" + d.txid, event_index: 0, committed: true, type, [type]: body };
  }

  // ---- forks --------------------------------------------------------------------------------------
  /**
   * Orphan the top `depth` blocks: reset simnet, replay to tip - depth, mine a longer competing
   * branch (a marker transfer in its first block, so different transactions and hashes), then return
   * the orphaned transactions to the mempool when they are still valid.
   */
  async fork(depth) {
    const tipHeight = this.tip.height;
    const forkPoint = tipHeight - depth;
    if (!Number.isInteger(depth) || depth < 1) throw new Rejection("BadRequest", null, "depth must be a positive integer");
    if (forkPoint < this.genesisHeight) {
      throw new Rejection("BadRequest", null, `depth ${depth} reaches below genesis (tip ${tipHeight}, genesis ${this.genesisHeight})`);
    }
    const orphanedBlocks = this.blocks.slice(forkPoint + 1);
    const orphaned = orphanedBlocks.flatMap((b) => b.txs.map((t) => t.d));
    const pending = [...this.mempool.values()].map((e) => e.d);
    this.forks++;
    const salt = `fork-${this.forks}-${crypto.randomBytes(4).toString("hex")}`;
    this._truncateLog(forkPoint);
    this.mempool.clear(); this.byTxid.clear(); this.bySender.clear();
    await this._resetTo(forkPoint);
    // competing branch: depth + 1 blocks (so it is longer), its first tx block carries a marker tx
    const markerNonce = this.confirmedNonce(this.forker.address);
    const markerBytes = await codec.makeTransfer({
      recipient: this.faucetAccount.address, amount: 1, memo: `fork ${this.forks}`, nonce: markerNonce, fee: 1000,
      senderKey: this.forker.privateKey, publicKey: this.forker.publicKey,
    });
    const marker = { d: codec.decode(markerBytes) };
    let first = true;
    while (this.tip.height < tipHeight + 1) {
      if (this._isTenureStart(this.raw.blockHeight + 1)) {
        this._mineTenureBlock(salt);
        continue;
      }
      await this._mineTxBlock({ salt, only: first ? [marker] : [] });
      first = false;
    }
    // orphaned txs (in chain order), then what was pending, go back through admission
    let returned = 0;
    const dropped = [];
    const balances = new Map();
    for (const d of [...orphaned, ...pending]) {
      if (this.txIndex.has(d.txid)) continue;
      if (!balances.has(d.sender)) balances.set(d.sender, this.balance(d.sender));
      try {
        this._admitChecked(d, balances.get(d.sender), { readmit: true });
        returned++;
      } catch (e) {
        if (!(e instanceof Rejection)) throw e;
        dropped.push("0x" + d.txid);
      }
    }
    if (dropped.length) this.emit("/drop_mempool_tx", { dropped_txids: dropped, reason: "ReplaceAcrossFork", new_txid: null });
    this.log(`fork: depth ${depth} at ${forkPoint}, new tip ${this.tip.height}; ${returned} txs back in the mempool, ${dropped.length} dropped`);
    return {
      depth, fork_point: forkPoint, fork_point_index_block_hash: this.blocks[forkPoint].indexHash,
      orphaned_tip: tipHeight, tip: this.tip.height, tip_index_block_hash: this.tip.indexHash,
      orphaned_blocks: orphanedBlocks.map((b) => b.indexHash), orphaned_txs: orphaned.length,
      returned_to_mempool: returned, dropped: dropped.length,
    };
  }

  // ---- observer payloads ----------------------------------------------------------------------------
  burnPayload(bb) {
    return {
      burn_amount: 0,
      burn_block_hash: bb.hash,
      burn_block_height: bb.height,
      consensus_hash: bb.consensusHash,
      parent_burn_block_hash: bb.parentHash,
      reward_recipients: [],
      reward_slot_holders: [],
      pox_transactions: [],
    };
  }

  blockPayload(block) {
    const bb = this.burnBlocks[block.burnHeight];
    const pbb = this.burnBlocks[block.parentBurnHeight] || bb;
    let ev = 0;
    const events = [];
    const transactions = block.txs.map((tx) => {
      for (const e of tx.events) { e.event_index = ev++; events.push(e); }
      return {
        txid: "0x" + tx.txid,
        tx_index: tx.index,
        status: tx.status,
        raw_result: tx.rawResult,
        raw_tx: "0x" + tx.d.hex,
        contract_interface: tx.abi,
        burnchain_op: null,
        execution_cost: ZERO_COST,
        microblock_sequence: null,
        microblock_hash: null,
        microblock_parent_hash: null,
        vm_error: tx.vmError,
      };
    });
    // placeholder signatures: deterministic bytes in the real encodings, NOT valid ECDSA signatures
    const fakeSig = (tag) => Buffer.concat([Buffer.from([1]), crypto.createHash("sha512").update(tag).update(unhex(block.hash)).digest()]).toString("hex");
    return {
      anchored_cost: ZERO_COST,
      block_hash: block.hash,
      block_height: block.height,
      block_time: block.time,
      burn_block_hash: bb.hash,
      burn_block_height: bb.height,
      burn_block_time: bb.time,
      confirmed_microblocks_cost: ZERO_COST,
      consensus_hash: bb.consensusHash,
      cycle_number: null,
      events,
      index_block_hash: block.indexHash,
      matured_miner_rewards: [],
      miner_signature: "0x" + fakeSig("miner"),
      miner_txid: bb.minerTxid,
      parent_block_hash: block.parentHash,
      parent_burn_block_hash: pbb.hash,
      parent_burn_block_height: pbb.height,
      parent_burn_block_timestamp: pbb.time,
      parent_index_block_hash: block.parentIndexHash,
      parent_microblock: ZERO32,
      parent_microblock_sequence: 0,
      pox_v1_unlock_height: 0,
      pox_v2_unlock_height: 0,
      pox_v3_unlock_height: 0,
      reward_set: null,
      signer_bitvec: "000100000001ff",
      signer_signature: [fakeSig("signer")],
      signer_signature_hash: block.hash,
      tenure_height: block.tenureHeight,
      transactions,
    };
  }

  /** Payloads a fresh chain delivers at startup: genesis burn blocks and blocks, in order. */
  genesisPayloads() {
    const out = [];
    let b = -1;
    for (let h = 0; h <= this.genesisHeight; h++) {
      const block = this.blocks[h];
      while (b < block.burnHeight) { b++; out.push(["/new_burn_block", this.burnPayload(this.burnBlocks[b])]); }
      out.push(["/new_block", this.blockPayload(block)]);
    }
    return out;
  }
}

module.exports = { Chain, FatalVmError, ProjectChanged, Rejection, quiet, u128hex, unhex };
