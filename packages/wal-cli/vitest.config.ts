import { defineProject } from "vitest/config";
import { MODULE_MOCK_TESTS } from "./vitest.module-mocks.js";

export default defineProject({
  resolve: { conditions: ["@lora/source"] },
  ssr: { resolve: { conditions: ["@lora/source"] } },
  test: {
    name: "@lora/wal-cli",
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["**/node_modules/**", ...MODULE_MOCK_TESTS],
    // Tests bound their work by count, not time; the time-out only catches a hang, so a busy machine cannot fail one.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    // One worker runs many files without a fresh module graph each: importing the CLI (which imports every package)
    // again for every file was half of this project's time. No file here keeps state in a module between tests, and
    // vitest restores spies when a file ends; the files that mock a module run in vitest.mocks.config.ts.
    isolate: false,
  },
});
