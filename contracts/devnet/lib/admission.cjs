"use strict";
// Transaction submissions, batched (up to 256 per admitBatch). With a signature worker (--sig-worker, opt-in:
// it cut the main thread's admission time for contract calls but measured slower for STX transfers on 2
// shared cores), they are decoded and their signatures recovered on the worker thread, overlapping mineBlock
// on the main thread; batches are then admitted under the lock in arrival order.
const BATCH = 256;

class Admission {
  constructor(chain, lock, sigWorker) {
    this.chain = chain;
    this.lock = lock;
    this.sigWorker = sigWorker;
    this.pending = [];
    this.scheduled = false;
    this.queue = Promise.resolve();
  }

  /** Resolves to the chain's admission result for one raw transaction ({txid, rejection?}). */
  admit(bytes) {
    return new Promise((resolve, reject) => {
      this.pending.push({ bytes, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this._flush());
      }
    });
  }

  _flush() {
    this.scheduled = false;
    while (this.pending.length) {
      const batch = this.pending.splice(0, BATCH);
      const bytes = batch.map((x) => x.bytes);
      const recovered = this.sigWorker ? this.sigWorker.recover(bytes) : Promise.resolve(null);
      this.queue = this.queue
        .then(() => recovered)
        .then((rec) => this.lock.run(() => this.chain.admitBatch(bytes, rec)))
        .then((res) => batch.forEach((x, i) => x.resolve(res[i])), (e) => batch.forEach((x) => x.reject(e)));
    }
  }
}

module.exports = { Admission };
