/**
 * A slot's position must not lie past the end of the log: a consumer resuming from a slot at 1,000 on a log that ends
 * at 300 would skip 301..1,000 once the writer reaches them. createSlot and advanceSlot refuse it and write nothing;
 * what a live writer has written (synced or not) is not past the end, and a token the feed delivered never is.
 */

import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { type OpenMode, SegmentWriter, segmentPath } from "@lora/wal-segment";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fs, type Rec, tx, writeSegment } from "../test/build-log.js";
import { followDir } from "./follow-dir.js";
import { advanceSlot, createSlot, readSlot } from "./replication-slots.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-slot-end-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** 100 one-event transactions: LSNs 1..300. */
function hundredTransactions(): Rec[] {
  const records: Rec[] = [];
  for (let begin = 1; begin < 300; begin += 3) records.push(...tx(begin, [begin]));
  return records;
}

const pastEnd = (lsn: number, end: number) => ({
  code: "WAL_INVALID_ARGUMENT",
  message: expect.stringContaining(`the log in ${dir} ends at LSN ${end}`),
  details: { path: dir, slot: "s", lsn },
});

describe("createSlot", () => {
  it("refuses an LSN past the last record, creating nothing, and takes the last record's LSN", async () => {
    await writeSegment(dir, 1, 1, hundredTransactions());
    await expect(createSlot(dir, "s", { confirmedLsn: 1000 })).rejects.toMatchObject(pastEnd(1000, 300));
    await expect(createSlot(dir, "s", { confirmedLsn: 301, restartLsn: 250 })).rejects.toMatchObject(pastEnd(301, 300));
    // Not even slots/ was made.
    expect(await readdir(dir)).toEqual([segmentPath(dir, 1).slice(dir.length + 1)]);
    expect((await createSlot(dir, "s", { confirmedLsn: 300 })).confirmedLsn).toBe(300);
    // The slot exists now: that is what is wrong with creating it again, whatever the position.
    await expect(createSlot(dir, "s", { confirmedLsn: 1000 })).rejects.toMatchObject({
      code: "WAL_SLOT_EXISTS",
      details: { slot: "s" },
    });
  });

  it("counts the LSNs below the newest segment's base as reached (an empty successor, a fence above the log)", async () => {
    await writeSegment(dir, 1, 1, hundredTransactions(), { sealed: true });
    await writeSegment(dir, 2, 1001, []);
    expect((await createSlot(dir, "a", { confirmedLsn: 1000 })).confirmedLsn).toBe(1000);
    expect((await createSlot(dir, "b", { confirmedLsn: 150 })).confirmedLsn).toBe(150);
    await expect(createSlot(dir, "s", { confirmedLsn: 1001 })).rejects.toMatchObject(pastEnd(1001, 1000));
  });

  it("reads a sealed segment's end past a newest one that has no header yet", async () => {
    await writeSegment(dir, 1, 1, hundredTransactions(), { sealed: true });
    await writeFile(segmentPath(dir, 2), new Uint8Array(0));
    await expect(createSlot(dir, "s", { confirmedLsn: 301 })).rejects.toMatchObject(pastEnd(301, 300));
    expect((await createSlot(dir, "s", { confirmedLsn: 300 })).confirmedLsn).toBe(300);
  });

  it("refuses any LSN above 0 in a log with no record, and takes 0", async () => {
    await expect(createSlot(dir, "s", { confirmedLsn: 1 })).rejects.toMatchObject(pastEnd(1, 0));
    expect(await readdir(dir)).toEqual([]);
    expect((await createSlot(dir, "s")).confirmedLsn).toBe(0);
  });

  it("beside a live writer: takes what it has written but not synced, refuses what it still holds in memory", async () => {
    const w = await SegmentWriter.create(fs, segmentPath(dir, 1), 1);
    try {
      for (const r of tx(1, ["a"])) w.append(r, jsonCodec);
      await w.flush(); // written, never synced
      for (const r of tx(4, ["b"])) w.append(r, jsonCodec); // buffered: not in the file
      await expect(createSlot(dir, "s", { confirmedLsn: 6 })).rejects.toMatchObject(pastEnd(6, 3));
      expect((await createSlot(dir, "s", { confirmedLsn: 3 })).confirmedLsn).toBe(3);
      await w.flush();
      expect((await advanceSlot(dir, "s", 6)).confirmedLsn).toBe(6);
    } finally {
      await w.close();
    }
  });
});

describe("advanceSlot", () => {
  it("refuses a move past the end and leaves the slot as it was", async () => {
    await writeSegment(dir, 1, 1, hundredTransactions());
    const created = await createSlot(dir, "s", { confirmedLsn: 30 });
    const slotFiles = await readdir(join(dir, "slots"));
    await expect(advanceSlot(dir, "s", 1000)).rejects.toMatchObject(pastEnd(1000, 300));
    await expect(advanceSlot(dir, "s", 301, { restartLsn: 299 })).rejects.toMatchObject(pastEnd(301, 300));
    expect(await readSlot(dir, "s")).toEqual(created);
    expect(await readdir(join(dir, "slots"))).toEqual(slotFiles);
    expect(await advanceSlot(dir, "s", 300)).toMatchObject({ confirmedLsn: 300, restartLsn: 301 });
  });

  it("takes every token a follower delivers and confirms, also when only the restart point is gone", async () => {
    // Segment 1 (1..3 a transaction, 4 a checkpoint marker) is gone: the log starts at 5.
    await writeSegment(dir, 2, 5, [...tx(5, ["a"]), { kind: "checkpoint", lsn: 8, snapshotLsn: 7 }], {
      sealed: true,
    });
    await writeSegment(dir, 3, 9, tx(9, ["b"]));
    await createSlot(dir, "s");
    // The token of the commit at 3, whose restart point 4 is the one LSN missing.
    expect(await advanceSlot(dir, "s", 3, { restartLsn: 4 })).toMatchObject({ confirmedLsn: 3, restartLsn: 4 });
    const stop = new AbortController();
    // Counts the segment files opened: a confirm reads none (what it confirms was read from them already).
    let segmentOpens = 0;
    const seam = {
      ...fs,
      open: (path: string, mode: OpenMode) => {
        if (path.endsWith(".wal")) segmentOpens++;
        return fs.open(path, mode);
      },
    };
    const follower = followDir<JsonValue>(dir, { codec: jsonCodec, slot: "s", signal: stop.signal, fs: seam });
    try {
      for (const commitLsn of [7, 11]) {
        const { value } = await follower.next();
        expect(value?.commitLsn).toBe(commitLsn);
        const opened = segmentOpens;
        await follower.confirm(value as { commitLsn: number; restartLsn: number });
        expect(segmentOpens).toBe(opened);
        expect((await readSlot(dir, "s")).confirmedLsn).toBe(commitLsn);
      }
    } finally {
      stop.abort();
      await follower.return();
    }
  });
});
