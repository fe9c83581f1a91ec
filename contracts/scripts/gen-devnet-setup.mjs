// Writes devnet-setup.json: the admin call sequence that bootstraps a fresh devnet after the seven
// contracts are deployed (Clarinet.toml order). The test suite replays the same file (tests/helpers.ts), so it stays valid.
// Usage: node scripts/gen-devnet-setup.mjs
import { readFileSync, writeFileSync } from "node:fs";

const accts = JSON.parse(readFileSync(new URL("../settings/devnet-accounts.json", import.meta.url), "utf8")).accounts;
const addr = (label) => accts.find((a) => a.label === label).address;
const deployer = addr("deployer");

const u = (v) => ({ type: "uint", value: String(v) });
const s = (v) => ({ type: "string-ascii", value: v });
const p = (label) => ({ type: "principal", value: addr(label), account: label });
const repr = (a) => a.type === "uint" ? `u${a.value}` : a.type === "principal" ? `'${a.value}` : JSON.stringify(a.value);

const steps = [];
const call = (contract, fn, args, note) => steps.push({
  contract, contract_id: `${deployer}.${contract}`, function: fn, sender: "deployer",
  args, repr: `(contract-call? '${deployer}.${contract} ${fn} ${args.map(repr).join(" ")})`, note,
});

call("bithedge-parameters", "grant-role", [p("wallet_1"), s("guardian")], "guardian: may pause create-policy, deposit, proposals");
call("bithedge-parameters", "grant-role", [p("wallet_2"), s("oracle-submitter")], "oracle submitter: BTC and STX prices");
call("bithedge-parameters", "grant-role", [p("wallet_3"), s("quote-signer")], "quote signer: its key signs premium quotes");
for (const token of ["STX", "sBTC"])
  for (const tier of ["conservative", "balanced", "aggressive"])
    call("bithedge-vault", "create-pool", [s(token), s(tier)], `pool ${token}/${tier}`);
// Devnet tuning only: faster governance so a proposal completes within a short simulation.
call("bithedge-parameters", "set-param", [s("gov.voting-period-blocks"), u(20)], "DEVNET tuning");
call("bithedge-parameters", "set-param", [s("gov.timelock-blocks"), u(5)], "DEVNET tuning");
call("bithedge-parameters", "set-param", [s("gov.voting-delay-blocks"), u(2)], "DEVNET tuning (Stacks blocks)");
call("bithedge-parameters", "set-param", [s("gov.execution-grace-blocks"), u(50)], "DEVNET tuning");

const sbtc = "SM3VDXK3WZZSA84XXFKAFAF15NNZX32CTSG82JFQ4.sbtc-token";
const out = {
  warning: "DEVNET ONLY. Replays against a fresh devnet after deploying Clarinet.toml's contracts.",
  deployer,
  accounts: Object.fromEntries(accts.map((a) => [a.label, { address: a.address, role: a.role }])),
  args_format: "typed JSON: {type: uint|string-ascii|principal, value}; uint values are decimal strings. `repr` is the same call in Clarity.",
  steps,
  sbtc_mints: {
    note: "sBTC is the real boot contract; simnet mints it with simnet.mintFT(asset, recipient, amount) (amount in sats). No protocol call needed.",
    asset: `${sbtc}.sbtc-token`,
    mints: ["wallet_4", "wallet_5", "wallet_6", "wallet_7", "wallet_8"].map((l) => ({ account: l, recipient: addr(l), amount: "1000000000000" })),
  },
};
writeFileSync(new URL("../devnet-setup.json", import.meta.url), JSON.stringify(out, null, 2) + "\n");
console.log(`${steps.length} steps`);
