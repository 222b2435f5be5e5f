/**
 * The harness catches every planted bug, each by the tier expected to catch it. (Tier B needs the built child
 * process; `pnpm torture` runs it.) The clean build, the misuse tier and tier D have their own files, so that a
 * test run spreads the harness's heaviest tests over its workers.
 */

import { readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { caughtByExpectedTier } from "./expected-tiers.js";
import { PLANTED_BUGS, runPlantedBug, TIER_D_ONLY } from "./planted-bugs.js";
import { tierDReady } from "./tier-d-ready.js";

describe("planted bugs", () => {
  for (const bug of PLANTED_BUGS) {
    // A bug only tier D reaches needs the built writer and strace (see the tier D block below).
    it.skipIf(TIER_D_ONLY.has(bug) && !tierDReady)(`catches ${bug}`, async () => {
      // Only this test plants this bug at seed 1: a tier D trace named after it in tmpdir is this run's.
      const kept = async () =>
        (await readdir(tmpdir())).filter(
          (name) => name.startsWith("lora-wal-tier-d-1-") && name.endsWith(`-${bug}.json`),
        );
      for (const name of await kept()) await rm(join(tmpdir(), name), { force: true });
      const verdict = await runPlantedBug(bug, 1);
      expect(verdict.caught, `${bug} was not caught: ${verdict.example ?? ""}`).toBe(true);
      expect(caughtByExpectedTier(verdict), `${bug} was caught by tier ${verdict.tier} only`).toBe(true);
      // The finding was expected: no trace of it is kept.
      expect(await kept()).toEqual([]);
    });
  }
});
