// SIP-018 cross-check with @stacks/transactions and @stacks/encryption.
//   node sip018.mjs sign <seed> <count>  -> one JSON line per seeded random key/domain/message, signed by
//                                           signStructuredData (RSV) and, as wallets sign a structured message, by
//                                           signMessageHashRsv over the stacks.js hash; with the hash, key and
//                                           both addresses
//   node sip018.mjs verify               <- stdin: JSON lines {domain, message, signature, publicKey?} (hex), -> one
//                                           JSON line each: the key publicKeyFromSignatureRsv recovers from the
//                                           stacks.js hash, and whether @stacks/encryption's
//                                           verifyMessageSignatureRsv accepts the signature over that hash for
//                                           publicKey
import {
  Cl,
  cvToHex,
  hexToCV,
  signStructuredData,
  encodeStructuredDataBytes,
  privateKeyToPublic,
  publicKeyToAddressSingleSig,
  publicKeyFromSignatureRsv,
  signMessageHashRsv,
} from '@stacks/transactions';
import { hexToBytes } from '@stacks/common';
import { verifyMessageSignatureRsv } from '@stacks/encryption';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
const [mode, seedArg, countArg] = process.argv.slice(2);

// Deterministic draws: sha256(seed ‖ counter) read as a fraction in [0, 1).
let counter = 0;
const random = () =>
  createHash('sha256').update(`${seedArg}:${counter++}`).digest().readUInt32BE(0) / 4294967296;
const int = (n) => Math.floor(random() * n);
const hex = (n) => Array.from({ length: n }, () => int(256).toString(16).padStart(2, '0')).join('');
const word = (n) => Array.from({ length: 1 + int(n) }, () => 'abcdefghijklmnopqrstuvwxyz0123456789-'[int(37)]).join('');
const key = (n) => 'abcdefghijklmnopqrstuvwxyz'[int(26)] + word(n); // a Clarity name starts with a letter

function message() {
  // Sign-in shaped tuples (lowercase, digit and '-' keys: where localeCompare and byte order agree) and plain values.
  switch (int(3)) {
    case 0:
      return Cl.tuple({
        address: Cl.stringAscii('ST' + word(30).toUpperCase()),
        nonce: Cl.stringAscii(hex(16)),
        'issued-at': Cl.uint(BigInt(int(2 ** 31))),
        'expires-at': Cl.uint(BigInt(int(2 ** 31))),
        statement: Cl.stringAscii('Sign in to ' + word(10)),
      });
    case 1:
      return Cl.stringAscii(word(40));
    default:
      return Cl.tuple({ [key(8)]: Cl.uint(BigInt(int(2 ** 30))), [key(8)]: Cl.bufferFromHex(hex(int(20))) });
  }
}

if (mode === 'sign') {
  for (let i = 0; i < Number(countArg); i++) {
    const privateKey = hex(32) + '01';
    const domain = Cl.tuple({
      name: Cl.stringAscii(word(20)),
      version: Cl.stringAscii(`${int(10)}.${int(10)}.${int(10)}`),
      'chain-id': Cl.uint(i % 2 ? 1n : 2147483648n),
    });
    const msg = message();
    const signature = signStructuredData({ message: msg, domain, privateKey });
    const publicKey = privateKeyToPublic(privateKey);
    const hash = sha256(encodeStructuredDataBytes({ message: msg, domain }));
    console.log(JSON.stringify({
      domain: cvToHex(domain),
      message: cvToHex(msg),
      hash,
      signature,
      hashSignature: signMessageHashRsv({ messageHash: hash, privateKey }),
      publicKey,
      mainnet: publicKeyToAddressSingleSig(publicKey, 'mainnet'),
      testnet: publicKeyToAddressSingleSig(publicKey, 'testnet'),
    }));
  }
} else if (mode === 'verify') {
  const lines = readFileSync(0, 'utf8').split('\n').filter(Boolean);
  for (const line of lines) {
    const { domain, message: msg, signature, publicKey } = JSON.parse(line);
    const hash = sha256(encodeStructuredDataBytes({ message: hexToCV(msg), domain: hexToCV(domain) }));
    const encryptionVerifies = publicKey
      ? verifyMessageSignatureRsv({ signature, message: hexToBytes(hash), publicKey })
      : null;
    console.log(JSON.stringify({ hash, publicKey: publicKeyFromSignatureRsv(hash, signature), encryptionVerifies }));
  }
} else {
  throw new Error('usage: node sip018.mjs sign <seed> <count> | verify');
}
