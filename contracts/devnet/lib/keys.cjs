"use strict";
// Keys for the DEVNET ONLY: BIP39 mnemonic -> BIP32 m/44'/5757'/0'/0/0 (the path Clarinet and the
// Stacks wallets use), addresses, and a synchronous signer for the few transactions the devnet
// itself signs (genesis setup calls, faucet transfers, fork markers). Never use these for real funds.
const crypto = require("node:crypto");
const secp = require("@noble/secp256k1");
const T = require("@stacks/transactions");

secp.utils.hmacSha256Sync = (key, ...msgs) => {
  const h = crypto.createHmac("sha256", Buffer.from(key));
  for (const m of msgs) h.update(m);
  return new Uint8Array(h.digest());
};

const N = secp.CURVE.n;

function sha256(b) { return crypto.createHash("sha256").update(b).digest(); }
function sha512_256(b) { return crypto.createHash("sha512-256").update(b).digest(); }
function hash160(b) { return crypto.createHash("ripemd160").update(sha256(b)).digest(); }

/** The c32check address of a version byte and a hash160 (the @stacks/transactions encoder). */
function c32address(version, h160) {
  return T.addressToString(T.addressFromVersionHash(version, Buffer.from(h160).toString("hex")));
}

function mnemonicToSeed(mnemonic, passphrase = "") {
  const m = mnemonic.normalize("NFKD").trim().split(/\s+/).join(" ");
  return crypto.pbkdf2Sync(m, "mnemonic" + passphrase.normalize("NFKD"), 2048, 64, "sha512");
}

function derivePath(seed, path) {
  let I = crypto.createHmac("sha512", "Bitcoin seed").update(seed).digest();
  let k = BigInt("0x" + I.subarray(0, 32).toString("hex"));
  let chain = I.subarray(32);
  for (const part of path.replace(/^m\//, "").split("/")) {
    const hardened = part.endsWith("'");
    const idx = (parseInt(part, 10) + (hardened ? 0x80000000 : 0)) >>> 0;
    const kb = Buffer.from(k.toString(16).padStart(64, "0"), "hex");
    const data = hardened
      ? Buffer.concat([Buffer.alloc(1), kb, u32(idx)])
      : Buffer.concat([Buffer.from(secp.getPublicKey(kb, true)), u32(idx)]);
    I = crypto.createHmac("sha512", chain).update(data).digest();
    k = (BigInt("0x" + I.subarray(0, 32).toString("hex")) + k) % N;
    chain = I.subarray(32);
  }
  return Buffer.from(k.toString(16).padStart(64, "0"), "hex");
}

function u32(n) { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; }

/** {privateKey: hex with the 01 compressed suffix, publicKey, address} of a mnemonic's first account. */
function accountFromMnemonic(mnemonic) {
  return accountFromPrivateKey(derivePath(mnemonicToSeed(mnemonic), "m/44'/5757'/0'/0/0"));
}

function accountFromPrivateKey(priv32) {
  const pub = Buffer.from(secp.getPublicKey(priv32, true));
  return {
    privateKey: Buffer.from(priv32).toString("hex") + "01",
    publicKey: pub.toString("hex"),
    address: c32address(26, hash160(pub)),
  };
}

/** A deterministic devnet-only key from a label (miner / faucet account). */
function accountFromLabel(label) {
  return accountFromPrivateKey(sha256(Buffer.from("bithedge-devnet-only:" + label)));
}

/** Recoverable signature (recid || r || s) of a 32-byte digest. */
function signDigest(digest, privHex) {
  const [sig, rec] = secp.signSync(digest, privHex.slice(0, 64), { recovered: true, der: false, canonical: true });
  return Buffer.concat([Buffer.from([rec]), Buffer.from(sig)]);
}

module.exports = { sha256, sha512_256, hash160, c32address, accountFromMnemonic, accountFromLabel, signDigest };
