import { defineConfig } from "vitest/config";

// Plain Node environment: each test file calls initSimnet() (tests/helpers.ts), which loads the
// WASM Clarity VM once per worker and resets the chain per test in ~50-150 ms.
export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    environment: "node",
    pool: "forks",
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
