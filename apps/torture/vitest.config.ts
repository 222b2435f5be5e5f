import { defineProject } from "vitest/config";

export default defineProject({
  // A testing build: the handle's failpoints and planted bugs are compiled in (see src/testing-hooks.ts).
  define: { __LORA_WAL_TESTING__: "true" },
  resolve: { conditions: ["@lora/source"] },
  ssr: { resolve: { conditions: ["@lora/source"] } },
  test: { name: "@lora/torture", include: ["src/**/*.test.ts"], testTimeout: 120_000 },
});
