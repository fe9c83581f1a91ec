"use strict";
// HTTP plumbing of the devnet server: JSON replies, bounded bodies, query integers, and a route table.

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function send(res, status, body, type = "application/json") {
  const data = type === "application/json" ? JSON.stringify(body, (k, v) => (typeof v === "bigint" ? v.toString() : v)) : body;
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(data) });
  res.end(data);
}

function readBody(req, limit = 8 * 1024 * 1024) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let n = 0;
    req.on("data", (c) => {
      n += c.length;
      if (n > limit) { reject(new HttpError(413, "body too large")); req.destroy(); return; }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function jsonBody(buf) {
  if (!buf.length) return {};
  try {
    return JSON.parse(buf.toString("utf8"));
  } catch (_e) {
    throw new HttpError(400, "invalid JSON body");
  }
}

async function readJson(req) {
  return jsonBody(await readBody(req));
}

function intParam(q, name, def, max) {
  const v = q.get(name);
  if (v === null || v === "") return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || (max !== undefined && n > max)) {
    throw new HttpError(400, `${name} must be an integer between 0 and ${max ?? "∞"}`);
  }
  return n;
}

/**
 * Routes are [method, path, handler]: a string path matches exactly, a RegExp by its groups. A handler is
 * called as handler(req, res, {params, query}); exact paths are looked up first, then patterns in order.
 */
class Router {
  constructor(routes) {
    this.exact = new Map();
    this.patterns = [];
    for (const [method, p, handler] of routes) {
      if (typeof p === "string") {
        const key = `${method} ${p}`;
        if (this.exact.has(key)) throw new Error(`duplicate route ${key}`);
        this.exact.set(key, handler);
      } else {
        this.patterns.push({ method, re: p, handler });
      }
    }
  }

  async handle(req, res) {
    const url = new URL(req.url, "http://devnet");
    const p = url.pathname.replace(/\/+$/, "") || "/";
    const query = url.searchParams;
    const exact = this.exact.get(`${req.method} ${p}`);
    if (exact) return exact(req, res, { params: [], query });
    for (const r of this.patterns) {
      const m = r.method === req.method && p.match(r.re);
      if (m) return r.handler(req, res, { params: m.slice(1), query });
    }
    return send(res, 404, { error: `no route for ${req.method} ${p}` });
  }
}

module.exports = { HttpError, Router, intParam, jsonBody, readBody, readJson, send };
