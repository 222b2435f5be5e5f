import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["@lora/source"] },
  ssr: { resolve: { conditions: ["@lora/source"] } },
  test: { name: "@lora/example-kv-store", include: ["src/**/*.test.ts", "test/**/*.test.ts"] },
});
