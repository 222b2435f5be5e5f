import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["@lora/source"] },
  ssr: { resolve: { conditions: ["@lora/source"] } },
  test: {
    name: "@lora/wal-codec",
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // Tests bound their work by count, not time; the time-out only catches a hang, so a busy machine cannot fail one.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    // One worker runs many files without a fresh module graph each: importing the sources again for every file was
    // most of this project's time. No file here keeps state in a module between tests, and vitest restores spies
    // when a file ends; `vitest run --no-isolate --maxWorkers=1 --sequence.shuffle.files` finds any file that does.
    isolate: false,
  },
});
