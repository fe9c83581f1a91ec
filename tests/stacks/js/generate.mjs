// Emits seeded random Clarity values and signed transactions built by @stacks/transactions,
// one JSON object per line, with the inputs the Python side needs to rebuild them.
// Usage: node generate.mjs <seed> <values> <transactions>
import {
  Cl,
  cvToHex,
  makeUnsignedContractCall,
  makeUnsignedSTXTokenTransfer,
  TransactionSigner,
  privateKeyToPublic,
  addressFromVersionHash,
  addressToString,
} from '@stacks/transactions';

const [seed, valueCount, txCount] = process.argv.slice(2).map(Number);

// mulberry32: small, seedable, good enough to spread test cases.
let state = seed >>> 0;
function random() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n) => Math.floor(random() * n);
const pick = (items) => items[int(items.length)];
const hex = (n) => Array.from({ length: n }, () => int(256).toString(16).padStart(2, '0')).join('');
const bigHex = (bytes) => BigInt('0x' + (hex(bytes) || '0'));

// Lower-case, digits and '-': the key alphabet on which stacks.js's localeCompare
// agrees with stacks-core's byte order (mixed case would not).
const name = (first, rest, max) =>
  pick(first) + Array.from({ length: int(max) }, () => pick(rest)).join('');
const LOWER = 'abcdefghijklmnopqrstuvwxyz'.split('');
const KEY_CHARS = [...LOWER, ...'0123456789-'.split('')];
const keyName = () => name(LOWER, KEY_CHARS, 12);
const contractName = () => name(LOWER, [...KEY_CHARS, '_'], 20);

function address() {
  return addressToString(addressFromVersionHash(pick([22, 20, 26, 21]), hex(20)));
}
const principal = () => (random() < 0.5 ? address() : `${address()}.${contractName()}`);

// Typed JSON in the shape of stacks.clarity.to_json, so both sides share one spec.
function spec(depth) {
  const leaves = ['int', 'uint', 'bool', 'buffer', 'string-ascii', 'string-utf8', 'principal', 'none'];
  const kinds = depth > 3 ? leaves : [...leaves, 'some', 'ok', 'err', 'list', 'tuple'];
  const kind = pick(kinds);
  switch (kind) {
    case 'int': {
      const v = bigHex(int(17));
      const signed = v & ((1n << 127n) - 1n);
      return { type: 'int', value: String(random() < 0.5 ? signed : -signed - 1n) };
    }
    case 'uint':
      return { type: 'uint', value: String(bigHex(int(17))) };
    case 'bool':
      return { type: 'bool', value: random() < 0.5 };
    case 'buffer':
      return { type: 'buffer', value: hex(int(40)) };
    case 'string-ascii':
      return {
        type: 'string-ascii',
        value: Array.from({ length: int(30) }, () => String.fromCharCode(32 + int(95))).join(''),
      };
    case 'string-utf8':
      return {
        type: 'string-utf8',
        value: Array.from({ length: int(12) }, () => pick(['a', 'Z', ' ', 'é', '€', '日', '🚀', '"'])).join(''),
      };
    case 'principal':
      return { type: 'principal', value: principal() };
    case 'none':
      return { type: 'none' };
    case 'some':
    case 'ok':
    case 'err':
      return { type: kind, value: spec(depth + 1) };
    case 'list': {
      const item = () => spec(depth + 1);
      return { type: 'list', value: Array.from({ length: int(4) }, item) };
    }
    default: {
      const value = {};
      for (let i = 0; i < 1 + int(4); i++) value[keyName()] = spec(depth + 1);
      return { type: 'tuple', value };
    }
  }
}

function toCV(node) {
  switch (node.type) {
    case 'int': return Cl.int(BigInt(node.value));
    case 'uint': return Cl.uint(BigInt(node.value));
    case 'bool': return Cl.bool(node.value);
    case 'buffer': return Cl.bufferFromHex(node.value);
    case 'string-ascii': return Cl.stringAscii(node.value);
    case 'string-utf8': return Cl.stringUtf8(node.value);
    case 'principal': return Cl.principal(node.value);
    case 'none': return Cl.none();
    case 'some': return Cl.some(toCV(node.value));
    case 'ok': return Cl.ok(toCV(node.value));
    case 'err': return Cl.error(toCV(node.value));
    case 'list': return Cl.list(node.value.map(toCV));
    case 'tuple': return Cl.tuple(Object.fromEntries(Object.entries(node.value).map(([k, v]) => [k, toCV(v)])));
  }
  throw new Error(`unknown type ${node.type}`);
}

const COMPARATORS = ['eq', 'gt', 'gte', 'lt', 'lte'];
function postCondition() {
  const who = random() < 0.3 ? 'origin' : principal();
  const asset = `${address()}.${contractName()}::${keyName()}`;
  switch (int(5)) {
    case 0: return { type: 'stx-postcondition', address: who, condition: pick(COMPARATORS), amount: String(bigHex(int(9))) };
    case 1: return { type: 'ft-postcondition', address: who, condition: pick(COMPARATORS), asset, amount: String(bigHex(int(9))) };
    case 2: return { type: 'nft-postcondition', address: who, condition: pick(['sent', 'not-sent', 'maybe-sent']), asset, assetId: spec(2) };
    case 3: return { type: 'staking-postcondition', address: who, condition: pick(COMPARATORS), amount: String(bigHex(int(9))) };
    default: return { type: 'pox-postcondition', address: who, condition: pick(['will-not-perform', 'may-perform', 'will-perform']) };
  }
}
const wirePostCondition = (pc) => (pc.type === 'nft-postcondition' ? { ...pc, assetId: toCV(pc.assetId) } : pc);

async function transaction() {
  const senderKey = hex(32) + (random() < 0.7 ? '01' : '');
  const inputs = {
    senderKey,
    network: pick(['mainnet', 'testnet']),
    nonce: String(bigHex(int(9))),
    fee: String(bigHex(int(7))),
    anchorMode: 1 + int(3),
    postConditionMode: pick(['allow', 'deny', 'originator']),
    postConditions: Array.from({ length: int(4) }, postCondition),
  };
  const common = {
    publicKey: privateKeyToPublic(senderKey),
    network: inputs.network,
    nonce: BigInt(inputs.nonce),
    fee: BigInt(inputs.fee),
    postConditionMode: inputs.postConditionMode,
    postConditions: inputs.postConditions.map(wirePostCondition),
  };
  let tx;
  if (random() < 0.5) {
    inputs.kind = 'token-transfer';
    // makeUnsignedSTXTokenTransfer ignores post-conditions and always uses Deny.
    inputs.postConditionMode = 'deny';
    inputs.postConditions = [];
    inputs.recipient = principal();
    inputs.amount = String(bigHex(int(9)));
    inputs.memo = Array.from({ length: int(34) }, () => pick(LOWER)).join('');
    tx = await makeUnsignedSTXTokenTransfer({ ...common, recipient: inputs.recipient, amount: BigInt(inputs.amount), memo: inputs.memo });
  } else {
    inputs.kind = 'contract-call';
    inputs.contract = `${address()}.${contractName()}`;
    inputs.functionName = keyName();
    inputs.functionArgs = Array.from({ length: int(5) }, () => spec(1));
    const [contractAddress, contractName_] = inputs.contract.split('.');
    tx = await makeUnsignedContractCall({
      ...common,
      contractAddress,
      contractName: contractName_,
      functionName: inputs.functionName,
      functionArgs: inputs.functionArgs.map(toCV),
    });
  }
  // v7 builders always use AnchorMode.Any; set the mode before signing covers it.
  tx.anchorMode = inputs.anchorMode;
  new TransactionSigner(tx).signOrigin(senderKey);
  return { kind: 'tx', inputs, hex: tx.serialize(), txid: tx.txid() };
}

for (let i = 0; i < valueCount; i++) {
  const node = spec(0);
  console.log(JSON.stringify({ kind: 'value', spec: node, hex: cvToHex(toCV(node)).slice(2) }));
}
for (let i = 0; i < txCount; i++) {
  console.log(JSON.stringify(await transaction()));
}
