import { defineProject } from "vitest/config";

export default defineProject({
  // A testing build: the handle's failpoints and planted bugs are compiled in (see src/testing-hooks.ts).
  define: { __LORA_WAL_TESTING__: "true" },
  resolve: { conditions: ["@lora/source"] },
  ssr: { resolve: { conditions: ["@lora/source"] } },
  // Every test's work is bounded by a count of cases; the timeout only ends a hang. Generous, since the heaviest test
  // takes ~30 s on 2 busy cores and one took 121 s on a machine with a load average of 35.
  test: { name: "@lora/torture", include: ["src/**/*.test.ts"], testTimeout: 600_000 },
});
