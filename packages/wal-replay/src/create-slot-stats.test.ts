/**
 * createSlot looks at whether the slot exists with one stat of its file per call: it stated it twice when `slots/`
 * already existed (once so that WAL_SLOT_EXISTS comes before the past-end check, once more before writing). Which
 * error wins is unchanged: an existing slot is named as such whatever its position.
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { WalFile, WalFileSystem } from "@lora/wal-segment";
import { wrapFileSystem } from "@lora/wal-segment/testing";
import { afterEach, beforeEach, expect, it } from "vitest";
import { fs as nodeFs, type Rec, tx, writeSegment } from "../test/build-log.js";
import { createSlot, SLOTS_DIR_NAME } from "./replication-slots.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-slot-stats-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The node seam, counting `stat` of each slot's position file (`<dir>/slots/<name>.slot`). */
function countingStats(): { fs: WalFileSystem; stats: (name: string) => number; reset(): void } {
  const counts = new Map<string, number>();
  const fs = wrapFileSystem(nodeFs, (file: WalFile) => file, {
    stat(path: string) {
      counts.set(path, (counts.get(path) ?? 0) + 1);
      return nodeFs.stat(path);
    },
  });
  return {
    fs,
    stats: (name) => counts.get(join(dir, SLOTS_DIR_NAME, `${name}.slot`)) ?? 0,
    reset: () => counts.clear(),
  };
}

/** Ten one-event transactions: LSNs 1..30. */
function tenTransactions(): Rec[] {
  const records: Rec[] = [];
  for (let begin = 1; begin < 30; begin += 3) records.push(...tx(begin, [begin]));
  return records;
}

it("stats the slot file once per call, slots/ missing or there, created or refused; WAL_SLOT_EXISTS still wins", async () => {
  await writeSegment(dir, 1, 1, tenTransactions());
  const { fs, stats, reset } = countingStats();
  // slots/ missing: created with the slot.
  await createSlot(dir, "a", { confirmedLsn: 30, fs });
  expect(stats("a")).toBe(1);
  // slots/ there: a new slot.
  reset();
  await createSlot(dir, "b", { confirmedLsn: 12, fs });
  expect(stats("b")).toBe(1);
  // An existing slot, at a position the log holds and at one past its end: WAL_SLOT_EXISTS both times.
  for (const confirmedLsn of [30, 1000]) {
    reset();
    await expect(createSlot(dir, "a", { confirmedLsn, fs })).rejects.toMatchObject({
      code: "WAL_SLOT_EXISTS",
      details: { slot: "a" },
    });
    expect(stats("a"), `confirmedLsn ${confirmedLsn}`).toBe(1);
  }
  // A new slot past the end: refused for its position, nothing created.
  reset();
  await expect(createSlot(dir, "c", { confirmedLsn: 1000, fs })).rejects.toMatchObject({
    code: "WAL_INVALID_ARGUMENT",
    details: { slot: "c", lsn: 1000 },
  });
  expect(stats("c")).toBe(1);
  expect((await nodeFs.readdir(join(dir, SLOTS_DIR_NAME))).sort()).toEqual(["a.slot", "b.slot"]);
});
