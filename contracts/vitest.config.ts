import { defineConfig } from "vitest/config";

// One worker, no per-file isolation: the WASM Clarity VM is loaded once (2-18 s under load) and
// every test resets the chain with initSimnet() (tests/helpers.ts freshChain, ~0.3 s with setup).
export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    environment: "node",
    pool: "forks",
    poolOptions: { forks: { singleFork: true, isolate: false } },
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
