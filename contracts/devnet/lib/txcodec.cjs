"use strict";
// Decoding and checking of submitted transactions: wire decode (via @stacks/transactions), the
// Stacks sighash for the fast single-sig path, argument type checks against a contract ABI, and
// building signed transactions for the devnet's own use.
const T = require("@stacks/transactions");
const { sha512_256, c32address, signDigest } = require("./keys.cjs");

const TESTNET_VERSION = 0x80;
const TESTNET_CHAIN_ID = 0x80000000;

class Rejection extends Error {
  /** A mempool rejection with the stacks-node reason string and optional reason_data. */
  constructor(reason, reasonData, message) {
    super(message || reason);
    this.reason = reason;
    this.reasonData = reasonData;
  }
}

// address version byte for an origin hash mode on testnet
function addressVersion(hashMode) {
  return hashMode === 0 ? 26 : 21;
}

/**
 * Decode raw bytes. Returns an object with everything admission and mining need; throws
 * Rejection("Deserialization") on malformed bytes.
 */
function decode(bytes) {
  let t;
  const hex = bytes.toString("hex");
  try {
    t = T.deserializeTransaction(hex);
  } catch (e) {
    throw new Rejection("Deserialization", { message: String(e && e.message ? e.message : e) });
  }
  const txid = sha512_256(bytes).toString("hex");
  const auth = t.auth;
  const sc = auth.spendingCondition;
  const p = t.payload;
  const d = {
    t, bytes, hex, txid,
    version: t.transactionVersion,
    chainId: t.chainId,
    authType: auth.authType,
    hashMode: sc.hashMode,
    signer: sc.signer,
    sender: c32address(addressVersion(sc.hashMode), Buffer.from(sc.signer, "hex")),
    nonce: Number(sc.nonce),
    fee: BigInt(sc.fee),
    payloadType: p.payloadType,
    pcMode: t.postConditionMode,
    postConditions: t.postConditions.values,
    kind: null,
  };
  switch (p.payloadType) {
    case T.PayloadType.ContractCall:
      d.kind = "contract_call";
      d.contractId = `${T.addressToString(p.contractAddress)}.${p.contractName.content}`;
      d.functionName = p.functionName.content;
      d.args = p.functionArgs;
      break;
    case T.PayloadType.TokenTransfer:
      d.kind = "token_transfer";
      d.recipient = p.recipient.value;
      d.amount = BigInt(p.amount);
      // the memo is the last 34 bytes of the payload, which ends the transaction
      d.memoHex = bytes.subarray(bytes.length - 34).toString("hex");
      break;
    case T.PayloadType.SmartContract:
    case T.PayloadType.VersionedSmartContract:
      d.kind = "smart_contract";
      d.contractName = p.contractName.content;
      d.contractId = `${d.sender}.${d.contractName}`;
      d.code = p.codeBody.content;
      d.clarityVersion = p.payloadType === T.PayloadType.VersionedSmartContract ? p.clarityVersion : 1;
      break;
    case T.PayloadType.Coinbase:
    case T.PayloadType.CoinbaseToAltRecipient:
    case T.PayloadType.NakamotoCoinbase:
      d.kind = "coinbase";
      break;
    case T.PayloadType.TenureChange:
      d.kind = "tenure_change";
      break;
    default:
      d.kind = "poison_microblock";
  }
  return d;
}

/**
 * For a standard single-sig P2PKH origin: the presign digest and the 65-byte VRS signature at fixed
 * offsets. Returns null for any other auth shape (the caller then uses the slow generic verifier).
 */
function fastSighash(d) {
  if (d.authType !== 0x04 || d.hashMode !== 0) return null;
  const b = d.bytes;
  // version(1) chain(4) auth(1) hashmode(1) signer(20) nonce(8)@27 fee(8)@35 keyenc(1)@43 sig(65)@44
  if (b.length < 109 || b[5] !== 0x04) return null;
  const cleared = Buffer.from(b);
  cleared.fill(0, 27, 43);
  cleared.fill(0, 44, 109);
  const initial = sha512_256(cleared);
  const pre = sha512_256(Buffer.concat([initial, Buffer.from([0x04]), b.subarray(35, 43), b.subarray(27, 35)]));
  const sig = b.subarray(44, 109);
  return { presign: pre, recid: sig[0], rs: sig.subarray(1), keyEncoding: b[43] };
}

/** Generic (slow, pure JS) origin verification for multisig and other shapes. */
function slowVerify(d) {
  try {
    d.t.verifyOrigin();
    return true;
  } catch (_e) {
    return false;
  }
}

// ---- ABI type checks -----------------------------------------------------------------------
function typeMatches(cv, ty) {
  if (typeof ty === "string") {
    switch (ty) {
      case "uint128": return cv.type === "uint";
      case "int128": return cv.type === "int";
      case "bool": return cv.type === "true" || cv.type === "false";
      case "principal": return cv.type === "address" || cv.type === "contract";
      case "trait_reference": return cv.type === "contract";
      case "none": return cv.type === "none";
      default: return true;
    }
  }
  if (ty.buffer) return cv.type === "buffer" && cv.value.length / 2 <= ty.buffer.length;
  if (ty["string-ascii"]) return cv.type === "ascii" && cv.value.length <= ty["string-ascii"].length;
  if (ty["string-utf8"]) return cv.type === "utf8" && Buffer.byteLength(cv.value, "utf8") <= ty["string-utf8"].length;
  if (ty.optional !== undefined) return cv.type === "none" || (cv.type === "some" && typeMatches(cv.value, ty.optional));
  if (ty.response) {
    if (cv.type === "ok") return typeMatches(cv.value, ty.response.ok);
    if (cv.type === "err") return typeMatches(cv.value, ty.response.error);
    return false;
  }
  if (ty.list) {
    return cv.type === "list" && cv.value.length <= ty.list.length && cv.value.every((v) => typeMatches(v, ty.list.type));
  }
  if (ty.tuple) {
    if (cv.type !== "tuple") return false;
    const keys = Object.keys(cv.value);
    if (keys.length !== ty.tuple.length) return false;
    return ty.tuple.every((f) => f.name in cv.value && typeMatches(cv.value[f.name], f.type));
  }
  return true;
}

// ---- building transactions the devnet signs itself ------------------------------------------
function u64(n) { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return b; }

/** Sign an unsigned single-sig standard transaction built by @stacks/transactions (sync, fast). */
function signWire(tx, privHex) {
  tx.postConditionMode = T.PostConditionMode.Allow; // devnet-signed transfers/calls carry no post-conditions
  // Use the library's serializer for layout, our own sighash + signature (the library signer is async).
  const unsigned = Buffer.from(tx.serialize(), "hex");
  const d = { authType: unsigned[5], hashMode: unsigned[6], bytes: unsigned };
  const fs = fastSighash(d);
  const sig = signDigest(fs.presign, privHex);
  sig.copy(unsigned, 44);
  return unsigned;
}

function makeTransfer({ recipient, amount, memo = "", nonce, fee, senderKey, publicKey }) {
  const tx = T.makeUnsignedSTXTokenTransfer({
    recipient, amount: BigInt(amount), memo, nonce: BigInt(nonce), fee: BigInt(fee), publicKey, network: "devnet",
    postConditionMode: "allow",
  });
  return tx.then((w) => signWire(w, senderKey));
}

function makeCall({ contractId, functionName, args, nonce, fee, senderKey, publicKey }) {
  const [addr, name] = contractId.split(".");
  return T.makeUnsignedContractCall({
    contractAddress: addr, contractName: name, functionName, functionArgs: args,
    nonce: BigInt(nonce), fee: BigInt(fee), publicKey, network: "devnet", postConditionMode: "allow",
    validateWithAbi: false,
  }).then((w) => signWire(w, senderKey));
}

// Typed arguments of contracts/devnet-setup.json ({type, value}) -> Clarity values.
function cvFromTyped(a) {
  switch (a.type) {
    case "uint": return T.Cl.uint(BigInt(a.value));
    case "int": return T.Cl.int(BigInt(a.value));
    case "bool": return T.Cl.bool(a.value === true || a.value === "true");
    case "string-ascii": return T.Cl.stringAscii(a.value);
    case "string-utf8": return T.Cl.stringUtf8(a.value);
    case "principal": return T.Cl.principal(a.value);
    case "buff": case "buffer": return T.Cl.bufferFromHex(String(a.value).replace(/^0x/, ""));
    case "none": return T.Cl.none();
    case "some": return T.Cl.some(cvFromTyped(a.value));
    case "hex": return T.Cl.deserialize(a.value);
    default: throw new Error(`unsupported typed argument ${a.type}`);
  }
}

module.exports = {
  cvFromTyped,
  Rejection, decode, fastSighash, slowVerify, typeMatches, makeTransfer, makeCall, u64,
  TESTNET_VERSION, TESTNET_CHAIN_ID,
};
