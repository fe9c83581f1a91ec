"use strict";
// Decoding and signature recovery for admission on a worker thread, so they overlap with mineBlock
// on the main thread (the machine has a second core). The worker runs its own empty simnet session
// only to evaluate Clarity's `secp256k1-recover?` over a batch of standard single-sig P2PKH
// transactions (the WASM VM is ~5x faster than pure-JS recovery). It is stateless: per raw
// transaction it answers {d: the decoded fields (no `t`, no `bytes`), h: hash160 hex of the recovered
// public key, "" when recovery failed}, or null (undecodable, or not the fast shape: the main thread
// handles it alone). The main thread compares h with the signer and does every other check.
const path = require("node:path");
const { Worker, isMainThread, parentPort, workerData } = require("node:worker_threads");

if (!isMainThread && workerData && workerData.sigWorker) {
  const T = require("@stacks/transactions");
  const { hash160 } = require("./keys.cjs");
  const codec = require("./txcodec.cjs");
  const sdkMain = require.resolve("@stacks/clarinet-sdk");
  const { vfs } = require(path.join(path.dirname(sdkMain), "vfs.js"));
  const wasm = require("@stacks/clarinet-sdk-wasm");
  const silence = () => { console.log = console.error = console.warn = console.info = () => {}; };
  silence();
  (async () => {
    const sdk = new wasm.SDK(vfs, new wasm.SDKOptions(false, false, false));
    await sdk.initEmptySession(null); // no contracts needed: only `secp256k1-recover?` is evaluated
    parentPort.postMessage({ ready: true });
    parentPort.on("message", ({ id, txs }) => {
      try {
        const items = txs.map((u8) => {
          const buf = Buffer.from(u8.buffer, u8.byteOffset, u8.length);
          let d;
          try {
            d = codec.decode(buf);
          } catch (_e) {
            return { d: null, s: null }; // the main thread decodes it again for the exact rejection
          }
          const s = codec.fastSighash(d);
          delete d.t; // a class instance (methods do not survive the copy); only slowVerify needs it
          delete d.bytes; // the main thread re-attaches its own buffer
          return { d, s };
        });
        const recovers = [];
        for (const it of items) {
          if (it.s) recovers.push(`(secp256k1-recover? 0x${it.s.presign.toString("hex")} 0x${Buffer.concat([it.s.rs, Buffer.from([it.s.recid])]).toString("hex")})`);
        }
        let recovered = [];
        if (recovers.length) recovered = T.Cl.deserialize(sdk.execute(`(list ${recovers.join(" ")})`).result).value;
        let k = 0;
        const out = items.map(({ d, s }) => {
          if (!s) return null; // not decodable or not the single-sig P2PKH shape: main thread
          const r = recovered[k++];
          let h = "";
          if (r.type === "ok") {
            let pub = Buffer.from(r.value.value, "hex");
            if (s.keyEncoding === 1) pub = Buffer.from(require("@noble/secp256k1").Point.fromHex(pub).toRawBytes(false));
            h = hash160(pub).toString("hex");
          }
          return { d, h };
        });
        parentPort.postMessage({ id, out });
      } catch (e) {
        parentPort.postMessage({ id, error: String(e && e.message ? e.message : e) });
      }
    });
  })().catch((e) => parentPort.postMessage({ fatal: String(e && e.stack ? e.stack : e) }));
}

/** Client side: recover(buffers) -> Promise<Array<{d, h}|null> | null> (null: verify in-process). */
class SigWorker {
  constructor({ log = () => {} } = {}) {
    this.log = log;
    this.ready = false;
    this.failed = false;
    this.pending = new Map();
    this.nextId = 1;
    this.worker = new Worker(__filename, { workerData: { sigWorker: true } });
    this.worker.unref();
    this.worker.on("message", (m) => {
      if (m.ready) { this.ready = true; return; }
      if (m.fatal) { this._fail(m.fatal); return; }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error) p.resolve(null); else p.resolve(m.out);
    });
    this.worker.on("error", (e) => this._fail(String(e && e.stack ? e.stack : e)));
    this.worker.on("exit", (code) => { if (!this.failed && code !== 0) this._fail(`exit ${code}`); });
  }

  _fail(msg) {
    if (this.failed) return;
    this.failed = true;
    this.ready = false;
    this.log(`signature worker unavailable (${String(msg).slice(0, 300)}); verifying on the main thread`);
    for (const p of this.pending.values()) p.resolve(null);
    this.pending.clear();
  }

  /** null when the worker is not (or no longer) available: the caller verifies in-process. */
  recover(buffers) {
    if (!this.ready || this.failed) return Promise.resolve(null);
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, { resolve });
      this.worker.postMessage({ id, txs: buffers.map((b) => new Uint8Array(b.buffer, b.byteOffset, b.length)) });
    });
  }

  stop() {
    this.failed = true;
    return this.worker.terminate();
  }
}

module.exports = { SigWorker };
