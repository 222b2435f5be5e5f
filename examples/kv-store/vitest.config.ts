import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["@lora/source"] },
  ssr: { resolve: { conditions: ["@lora/source"] } },
  test: {
    name: "@lora/example-kv-store",
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // Tests bound their work by count, not time; the time-out only catches a hang, so a busy machine cannot fail one.
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
});
