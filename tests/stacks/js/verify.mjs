// Reads transaction hex strings (one per line) on stdin; for each prints a JSON line:
// whether @stacks/transactions verifies the origin signature and re-serializes it unchanged.
import { createInterface } from 'node:readline';
import { deserializeTransaction } from '@stacks/transactions';

for await (const line of createInterface({ input: process.stdin })) {
  const hex = line.trim();
  if (!hex) continue;
  try {
    const tx = deserializeTransaction(hex);
    tx.verifyOrigin();
    console.log(JSON.stringify({ ok: true, roundTrip: tx.serialize() === hex, txid: tx.txid() }));
  } catch (error) {
    console.log(JSON.stringify({ ok: false, error: String(error) }));
  }
}
