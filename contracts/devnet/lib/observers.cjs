"use strict";
// Event-observer delivery like a stacks-node: each payload is written to disk before it is sent,
// then POSTed one at a time and in order; any non-200 (or a connection error / timeout) is retried
// forever with exponential backoff (100 ms doubling, 0-99 ms jitter, capped at 3 x timeout). A
// payload leaves the disk queue only once the observer acknowledged it with HTTP 200, so a devnet
// restart re-delivers whatever was not acknowledged.
//
// One queue per observer URL (a dead observer does not stall a live one); order is global per observer.
// On disk: <dir>/<key>.queue (JSON lines {"seq":n,"path":"/new_block","body":<json>}) and
// <dir>/<key>.ack (the highest acknowledged seq). The queue file is compacted when fully acknowledged.
const fs = require("node:fs");
const path = require("node:path");
const http = require("node:http");
const crypto = require("node:crypto");

const COMPACT_BYTES = 8 * 1024 * 1024;

class ObserverQueue {
  constructor(url, dir, { timeoutMs = 1000, log = () => {} } = {}) {
    this.url = new URL(url.replace(/\/+$/, ""));
    this.timeoutMs = timeoutMs;
    this.log = log;
    const key = crypto.createHash("sha256").update(this.url.href).digest("hex").slice(0, 16);
    this.queuePath = path.join(dir, `${key}.queue`);
    this.ackPath = path.join(dir, `${key}.ack`);
    fs.writeFileSync(path.join(dir, `${key}.url`), this.url.href + "\n");
    this.items = []; // [{seq, path, json}]
    this.acked = 0;
    this.nextSeq = 1;
    this.delivered = 0;
    this.attempts = 0;
    this.postMs = 0; // time spent in POSTs (request to response end), for /devnet/status and benchmarks
    this.lastError = null;
    this.waiters = [];
    this.stopped = false;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    this._load();
    this.fd = fs.openSync(this.queuePath, "a");
    this.ackFd = fs.openSync(this.ackPath, "r+");
    this._running = false;
  }

  _load() {
    if (fs.existsSync(this.ackPath)) {
      this.acked = parseInt(fs.readFileSync(this.ackPath, "utf8").trim() || "0", 10) || 0;
    } else {
      fs.writeFileSync(this.ackPath, "0".padEnd(20, " "));
    }
    this.nextSeq = this.acked + 1;
    if (!fs.existsSync(this.queuePath)) return;
    const text = fs.readFileSync(this.queuePath, "utf8");
    for (const line of text.split("\n")) {
      if (!line) continue;
      let rec;
      try {
        rec = JSON.parse(line);
      } catch (_e) {
        continue; // a torn last line from a crash mid-write: it was never handed to the observer
      }
      if (rec.seq > this.acked) this.items.push({ seq: rec.seq, path: rec.path, json: JSON.stringify(rec.body) });
      this.nextSeq = Math.max(this.nextSeq, rec.seq + 1);
    }
    // rewrite the file with only what is still pending
    fs.writeFileSync(this.queuePath, this.items.map((it) => this._line(it)).join(""));
  }

  _line(it) {
    return `{"seq":${it.seq},"path":${JSON.stringify(it.path)},"body":${it.json}}\n`;
  }

  get backlog() {
    return this.items.length;
  }

  /** Persist then schedule one payload. `json` is the serialized body. */
  push(pathName, json) {
    const it = { seq: this.nextSeq++, path: pathName, json };
    fs.writeSync(this.fd, this._line(it));
    this.items.push(it);
    this._kick();
  }

  /** Resolves once everything queued so far is acknowledged. */
  drained() {
    if (this.items.length === 0) return Promise.resolve();
    const target = this.items[this.items.length - 1].seq;
    return new Promise((resolve) => this.waiters.push({ target, resolve }));
  }

  start() {
    this._kick();
  }

  stop() {
    this.stopped = true;
    this.agent.destroy();
    try { fs.closeSync(this.fd); } catch (_e) { /* closed */ }
    try { fs.closeSync(this.ackFd); } catch (_e) { /* closed */ }
  }

  _kick() {
    if (this._running || this.stopped) return;
    this._running = true;
    setImmediate(() => this._loop().finally(() => { this._running = false; if (this.items.length && !this.stopped) this._kick(); }));
  }

  async _loop() {
    let backoff = 100;
    while (this.items.length && !this.stopped) {
      const it = this.items[0];
      this.attempts++;
      const t0 = performance.now();
      const status = await this._post(it).catch((e) => { this.lastError = String(e.message || e); return 0; });
      this.postMs += performance.now() - t0;
      if (this.stopped) return;
      if (status === 200) {
        this.items.shift();
        this.acked = it.seq;
        this.delivered++;
        this.lastError = null;
        backoff = 100;
        fs.writeSync(this.ackFd, String(it.seq).padEnd(20, " "), 0);
        this._notify();
        if (this.items.length === 0) this._maybeCompact();
        continue;
      }
      if (status) this.lastError = `HTTP ${status}`;
      const wait = Math.min(backoff + Math.floor(Math.random() * 100), 3 * this.timeoutMs);
      backoff = Math.min(backoff * 2, 3 * this.timeoutMs);
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  _notify() {
    if (!this.waiters.length) return;
    const keep = [];
    for (const w of this.waiters) (this.acked >= w.target ? w.resolve() : keep.push(w));
    this.waiters = keep;
  }

  _maybeCompact() {
    try {
      if (fs.fstatSync(this.fd).size > COMPACT_BYTES) {
        fs.ftruncateSync(this.fd, 0);
      }
    } catch (_e) { /* best effort */ }
  }

  _post(it) {
    return new Promise((resolve, reject) => {
      const body = Buffer.from(it.json);
      const req = http.request({
        host: this.url.hostname, port: this.url.port || 80,
        path: (this.url.pathname === "/" ? "" : this.url.pathname) + it.path,
        method: "POST", agent: this.agent, timeout: this.timeoutMs,
        headers: { "content-type": "application/json", "content-length": body.length },
      }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode));
        res.on("error", reject);
      });
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", reject);
      req.end(body);
    });
  }
}

class Observers {
  constructor(urls, dir, opts = {}) {
    fs.mkdirSync(dir, { recursive: true });
    this.dir = dir;
    this.queues = urls.map((u) => new ObserverQueue(u, dir, opts));
    // queues of observers no longer configured are dropped, as a stacks-node does
    const keep = new Set(this.queues.flatMap((q) => [q.queuePath, q.ackPath]).map((p) => path.basename(p)));
    for (const f of fs.readdirSync(dir)) {
      if (/\.(queue|ack|url)$/.test(f) && !keep.has(f) && !keep.has(f.replace(/\.url$/, ".queue"))) {
        fs.rmSync(path.join(dir, f), { force: true });
      }
    }
  }

  push(pathName, body) {
    if (!this.queues.length) return;
    const json = typeof body === "string" ? body : JSON.stringify(body);
    for (const q of this.queues) q.push(pathName, json);
  }

  start() { for (const q of this.queues) q.start(); }
  stop() { for (const q of this.queues) q.stop(); }
  drained() { return Promise.all(this.queues.map((q) => q.drained())); }
  get maxBacklog() { return this.queues.reduce((m, q) => Math.max(m, q.backlog), 0); }

  status() {
    return this.queues.map((q) => ({
      url: q.url.href, backlog: q.backlog, delivered: q.delivered, attempts: q.attempts,
      acked_seq: q.acked, last_error: q.lastError, post_ms: Math.round(q.postMs),
    }));
  }
}

module.exports = { Observers };
