import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["@lora/source"] },
  ssr: { resolve: { conditions: ["@lora/source"] } },
  test: { name: "@lora/torture", include: ["src/**/*.test.ts"], testTimeout: 120_000 },
});
