"use strict";
// A tiny async lock: every chain mutation (and read of simnet state) runs one at a time.
class Lock {
  constructor() { this.p = Promise.resolve(); }
  run(fn) {
    const r = this.p.then(fn);
    this.p = r.catch(() => {});
    return r;
  }
}

module.exports = { Lock };
