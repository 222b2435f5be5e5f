/**
 * Tier A's `manyCommits` reaches the sync points a writer puts inside a record's header: a write of more than the
 * 4 KiB window goes out in pieces with an fdatasync between them, and a piece may end a few bytes into a header. A
 * power loss that loses the next piece's first sector while the rest of it lands leaves that header cut short, with a
 * whole window of intact records after it: the state recovery once refused as corruption. This pins that the workload
 * puts every such sync point inside a header (the plan of `sync-point-plan.ts`), often 1–2 bytes in, and that the
 * crash images after one hold that tear, whatever the sampling draws: without both, Tier A sees that class of bug
 * only by chance.
 */

import { type JsonValue, Wal } from "@lora/wal";
import { segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Model } from "./model.js";
import { mix } from "./prng.js";
import {
  type ModeName,
  type Op,
  openOptions,
  TIER_A_WINDOW_BYTES,
  VARIANTS,
  WAL_DIR,
  type Workload,
  WorkloadDriver,
} from "./workloads.js";

const SEGMENT = segmentPath(WAL_DIR, 1);
const ONE_SEGMENT = VARIANTS[1] as Workload["variant"];

/** Offsets of the records of a closed segment (its zero tail cut by the clean close). */
function recordStarts(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const starts: number[] = [];
  for (let at = 32; at + 4 <= bytes.byteLength; at += view.getUint32(at, true)) starts.push(at);
  return starts;
}

/**
 * Runs `before`, then `manyCommits`, in one segment in `mode` with the case seed `seed` and returns, for each write of
 * the burst that starts at a sync point (a write of records since the segment's last fdatasync) or at the burst's
 * start, and is followed by a whole window, how many bytes into a record's
 * header that sync point lies (0: on a record boundary). Such a write is found by its tear with the first sector
 * lost, in crash images asked for with a budget of 2: only the images shown on top of the budget carry it (the zero
 * fills ahead of the records have theirs too, past the end of the closed log).
 */
async function syncPoints(seed: number, mode: ModeName = "perCommit", before: readonly Op[] = []): Promise<number[]> {
  const w: Workload = { ops: [...before, "manyCommits"], mode, variant: ONE_SEGMENT };
  const fs = new SimFS();
  const model = new Model(0);
  const options = openOptions(w, fs, 0);
  const { wal } = await Wal.open<JsonValue>(WAL_DIR, options);
  const tearAt = new Set<number>();
  let burst = false;
  const off = fs.onOperation((e) => {
    if (!burst || e.op !== "write" || e.path !== SEGMENT) return;
    for (const image of fs.crashImages({ maxImages: 2, seed: e.seq })) {
      const tear = /unsynced ops?, op \d+ \(write \d+ B at (\d+)\) torn: sectors \[1,2,3,4,/.exec(image.description);
      if (tear !== null) tearAt.add(Number(tear[1]));
    }
  });
  const driver = new WorkloadDriver(w, wal, model, options, mix(seed, 0xd5));
  for (const op of before) await driver.run(op);
  burst = true;
  await driver.run("manyCommits");
  await driver.wal.close();
  off();
  const bytes = fs.readFileSync(SEGMENT);
  const starts = recordStarts(bytes);
  return [...tearAt]
    .filter((at) => at + TIER_A_WINDOW_BYTES <= bytes.byteLength)
    .map((at) => at - (starts.filter((s) => s <= at).at(-1) as number));
}

it("manyCommits puts every sync point inside a record header, each with its tear among the images", async () => {
  let inLength = 0;
  for (let seed = 1; seed <= 20; seed++) {
    const into = (await syncPoints(seed)).sort((a, b) => a - b);
    // Three whole pieces per run, each starting at a sync point with a window of records after it: the first where
    // the burst starts, after the sync before it (a record boundary), the other two where the plan put them, 1 to 20
    // bytes into a 21-byte header.
    expect(into, `seed ${seed}`).toHaveLength(3);
    expect(into[0], `seed ${seed}`).toBe(0);
    for (const n of into.slice(1)) {
      expect(n, `seed ${seed}`).toBeGreaterThanOrEqual(1);
      expect(n, `seed ${seed}`).toBeLessThanOrEqual(20);
    }
    // Its first 2 bytes cut a small record's length short: the plan aims there half the time.
    if (into.some((n) => n >= 1 && n <= 2)) inLength++;
  }
  expect(inLength).toBeGreaterThanOrEqual(12);
});

describe("the plan holds after ops that leave records buffered or unsynced", () => {
  // After `lowLevel` a transaction's records are still buffered; in group and none mode after `commitSmall` they are
  // written but not fsynced and share the burst's first window: the burst's pieces end a window apart from where the
  // fsynced records end, not from where the burst starts.
  for (const mode of ["perCommit", "group", "none"] as const) {
    for (const before of [[], ["commitSmall"], ["lowLevel"]] as Op[][]) {
      it(`${mode}, after ${before.join(", ") || "nothing"}: every aimed sync point lies 1 to 20 bytes into a header`, async () => {
        for (let seed = 1; seed <= 4; seed++) {
          const aimed = (await syncPoints(seed, mode, before)).filter((n) => n !== 0);
          expect(aimed, `seed ${seed}`).toHaveLength(2);
          for (const n of aimed) expect(n >= 1 && n <= 20, `seed ${seed}: ${aimed.join(", ")}`).toBe(true);
        }
      });
    }
  }
});
