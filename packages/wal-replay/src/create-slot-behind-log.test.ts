/**
 * A slot created at an explicit position the log no longer holds is useless: its follower fails at once with
 * WAL_TRUNCATED, and the slot holds back every segment from truncation until it is dropped. createSlot refuses such
 * a position with WAL_TRUNCATED and creates nothing. Without a position (the archiver's way to make sure its slot
 * exists) it still creates the slot at 0, which a follower can read from as long as nothing is truncated.
 */

import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Rec, tx, writeSegment } from "../test/build-log.js";
import { createSlot, listSlots } from "./replication-slots.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-slot-behind-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** One-event transactions from `first` to `last` (3 LSNs each: begin, event, commit). */
function transactions(first: number, last: number): Rec[] {
  const records: Rec[] = [];
  for (let begin = first; begin < last; begin += 3) records.push(...tx(begin, [begin]));
  return records;
}

/** A log truncated below LSN 101: its oldest segment starts there, and it ends at 298. */
async function truncatedLog(): Promise<void> {
  await writeSegment(dir, 2, 101, transactions(101, 200), { sealed: true });
  await writeSegment(dir, 3, 200, transactions(200, 298));
}

const behind = (confirmedLsn: number, restartLsn: number) => ({
  code: "WAL_TRUNCATED",
  message: expect.stringMatching(new RegExp(`cannot be at LSN ${confirmedLsn}: .* nothing was created$`)),
  details: { path: dir, slot: "s", lsn: restartLsn - 1, oldestRetainedLsn: 101 },
});

describe("createSlot at a position the log no longer holds", () => {
  it("is refused with WAL_TRUNCATED and creates nothing, not even slots/", async () => {
    await truncatedLog();
    const before = (await readdir(dir)).sort();
    await expect(createSlot(dir, "s", { confirmedLsn: 0 })).rejects.toMatchObject(behind(0, 1));
    await expect(createSlot(dir, "s", { confirmedLsn: 50 })).rejects.toMatchObject(behind(50, 51));
    await expect(createSlot(dir, "s", { confirmedLsn: 98 })).rejects.toMatchObject(behind(98, 99));
    // A position the log holds whose restart point it does not: a transaction begun there cannot be read whole.
    await expect(createSlot(dir, "s", { confirmedLsn: 150, restartLsn: 90 })).rejects.toMatchObject(behind(150, 90));
    expect((await readdir(dir)).sort()).toEqual(before);
  });

  it("takes the position whose only missing LSN is its restart point, and any position the log holds", async () => {
    await truncatedLog();
    // Restart point 100, the LSN just below the oldest segment: the change feed's lone missing LSN, let through.
    expect(await createSlot(dir, "lone", { confirmedLsn: 99 })).toMatchObject({ confirmedLsn: 99, restartLsn: 100 });
    expect(await createSlot(dir, "held", { confirmedLsn: 150, restartLsn: 101 })).toMatchObject({ restartLsn: 101 });
    expect(await createSlot(dir, "end", { confirmedLsn: 298 })).toMatchObject({ restartLsn: 299 });
    expect((await listSlots(dir)).map((s) => s.name)).toEqual(["end", "held", "lone"]);
  });

  it("without a position, still creates the slot at 0 (what the archiver relies on)", async () => {
    await truncatedLog();
    expect(await createSlot(dir, "s")).toMatchObject({ confirmedLsn: 0, restartLsn: 1 });
  });

  it("takes any position on a log with no segment yet (nothing was truncated)", async () => {
    expect(await createSlot(dir, "s", { confirmedLsn: 0 })).toMatchObject({ confirmedLsn: 0, restartLsn: 1 });
  });
});
