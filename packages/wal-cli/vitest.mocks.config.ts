import { defineProject } from "vitest/config";
import { MODULE_MOCK_TESTS } from "./vitest.module-mocks.js";

/** This package's tests that replace a module with `vi.mock`: each file gets a fresh module graph. */
export default defineProject({
  resolve: { conditions: ["@lora/source"] },
  ssr: { resolve: { conditions: ["@lora/source"] } },
  test: {
    name: "@lora/wal-cli (module mocks)",
    include: MODULE_MOCK_TESTS,
    // Tests bound their work by count, not time; the time-out only catches a hang, so a busy machine cannot fail one.
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
});
