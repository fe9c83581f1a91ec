// DEVNET ONLY: derives addresses and private keys of the well-known devnet mnemonics in
// settings/Devnet.toml and writes settings/devnet-accounts.json (for the devnet, the keeper and
// the Python market simulator). Usage: node scripts/derive-devnet-keys.mjs
import { readFileSync, writeFileSync } from "node:fs";
import { mnemonicToSeedSync, validateMnemonic } from "@scure/bip39";
import { wordlist } from "@scure/bip39/wordlists/english";
import { HDKey } from "@scure/bip32";
import { getAddressFromPrivateKey, privateKeyToPublic } from "@stacks/transactions";

const ROLES = {
  deployer: "admin", wallet_1: "keeper", wallet_2: "oracle-submitter", wallet_3: "quote-signer",
  wallet_4: "provider", wallet_5: "provider", wallet_6: "provider",
  wallet_7: "buyer", wallet_8: "buyer", faucet: "none",
};
const toml = readFileSync(new URL("../settings/Devnet.toml", import.meta.url), "utf8");
const accounts = [];
for (const m of toml.matchAll(/\[accounts\.([a-z0-9_]+)\]\s*\nmnemonic = "([^"]+)"/g)) {
  const [, label, mnemonic] = m;
  if (!validateMnemonic(mnemonic, wordlist)) throw new Error(`bad mnemonic checksum for ${label}`);
  const node = HDKey.fromMasterSeed(mnemonicToSeedSync(mnemonic)).derive("m/44'/5757'/0'/0/0");
  const privateKey = Buffer.from(node.privateKey).toString("hex") + "01"; // 01 = compressed pubkey
  accounts.push({
    label, role: ROLES[label] ?? "none",
    address: getAddressFromPrivateKey(privateKey, "testnet"),
    publicKey: privateKeyToPublic(privateKey),
    privateKey,
  });
}
const out = { warning: "DEVNET ONLY - well-known public mnemonics; never use on testnet/mainnet", accounts };
writeFileSync(new URL("../settings/devnet-accounts.json", import.meta.url), JSON.stringify(out, null, 2) + "\n");
for (const a of accounts) console.log(a.label.padEnd(9), a.role.padEnd(17), a.address);
