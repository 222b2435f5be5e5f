import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

// Vitest's default is one worker per core less one: a single worker on a 2-core machine. The suite spends much of
// its time waiting on fsync and child processes rather than computing, so at least three workers run (on 2 cores,
// one more than the cores: 124 s with the default, 77 s with 3 workers); larger machines keep the default.
const maxWorkers = Math.max(3, availableParallelism() - 1);

export default defineConfig({ test: { maxWorkers, projects: ["packages/*", "apps/*", "examples/*"] } });
