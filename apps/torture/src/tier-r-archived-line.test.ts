/**
 * Tier R's flush check: once `archiver.flush()` resolves, the archived line must be at or above what was fsynced when
 * it was called, to the record. The planted bug `durable-event-one-short` makes the handle's `durable` lifecycle
 * event name one record less than the fsync covered: the archiver then ships every byte but reports (and flushes to) a
 * line one record short. No restore sees it (the archive holds everything), so only that check can: one that allowed
 * the line one below the fsynced LSN would report nothing.
 */

import { describe, expect, it } from "vitest";
import { runPlantedBug } from "./planted-bugs.js";
import { runTierR } from "./tier-r.js";

const ONE_SHORT = /resolved with archivedLsn (\d+) below the fsynced LSN (\d+) at the call/;

describe("tier R: the archived line after a flush covers the fsynced LSN exactly", () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`catches durable-event-one-short, one record short, and nothing else (seed ${seed})`, async () => {
      const r = await runTierR({ seed, cases: 6, ops: 30, bugs: ["durable-event-one-short"] });
      expect(r.violations.length).toBeGreaterThan(0);
      for (const v of r.violations) {
        const m = v.message.match(ONE_SHORT);
        expect(m, v.message).not.toBeNull();
        expect(Number(m?.[2]) - Number(m?.[1])).toBe(1);
      }
      const clean = await runTierR({ seed, cases: 6, ops: 30 });
      expect(clean.violations.map((v) => v.message)).toEqual([]);
    });
  }

  it("the planted-bug run attributes it to tier R", async () => {
    const verdict = await runPlantedBug("durable-event-one-short", 7);
    expect(verdict.caught, verdict.example ?? "").toBe(true);
    expect(verdict.tier).toBe("R");
    expect(verdict.example).toMatch(ONE_SHORT);
  });
});
