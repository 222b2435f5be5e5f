import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

// Vitest's default is one worker per core less one: a single worker on a 2-core machine. The suite spends much of
// its time waiting on fsync and child processes rather than computing, so at least four workers run (on 2 cores:
// 124 s with the default, 77 s with 3 workers, idle; with two busy loops beside it, 639 s with 3 workers and 540 s
// with 4); larger machines keep the default.
const maxWorkers = Math.max(4, availableParallelism() - 1);

export default defineConfig({
  test: { maxWorkers, projects: ["packages/*", "packages/wal-cli/vitest.mocks.config.ts", "apps/*", "examples/*"] },
});
