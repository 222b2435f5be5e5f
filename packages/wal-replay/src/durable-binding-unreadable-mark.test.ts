/**
 * The durable mark is a hint: a walk that meets no damage never needs it. Read before the segments (so that a live
 * writer's mark cannot vouch for a write the walk saw torn), it must still not fail a walk of a healthy log when it
 * cannot be read: a LoraDB directory (no writer publishes a mark there) with an unreadable `.lora-wal.durable`
 * replays in full, as it did when the mark was looked at only at damage. At damage the error is still thrown (an
 * unreadable mark is never taken for "no binding").
 */

import { join } from "node:path";
import { type JsonValue, jsonCodec, readU32 } from "@lora/wal-codec";
import { DURABLE_MARK_FILE, encodeDurableMark, segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { readCommitted } from "./read-committed.js";
import { replayDir } from "./replay.js";
import { evenLog, writeSimLog } from "./test-support/sim-log.js";

const DIR = "/lora";

async function logWithUnreadableMark(): Promise<SimFS> {
  const fs = SimFS.withDir("/");
  await writeSimLog(fs, DIR, evenLog(2, 3));
  fs.writeFileSync(join(DIR, DURABLE_MARK_FILE), new Uint8Array(76).fill(0x5a));
  fs.injectFault({ op: "open", path: join(DIR, DURABLE_MARK_FILE), errno: "EACCES", persistent: true });
  return fs;
}

describe("an unreadable durable mark and a walk of a healthy log", () => {
  it("replayDir delivers every transaction", async () => {
    const fs = await logWithUnreadableMark();
    const events: JsonValue[] = [];
    for await (const tx of replayDir<JsonValue>(DIR, { fs, codec: jsonCodec })) events.push(...tx.events);
    expect(events).toHaveLength(6);
  });

  it("readCommitted delivers every transaction", async () => {
    const fs = await logWithUnreadableMark();
    let count = 0;
    for await (const _ of readCommitted<JsonValue>(DIR, { fs, codec: jsonCodec })) count++;
    expect(count).toBe(6);
  });
});

/**
 * A log of two segments (the first sealed) of three one-event transactions each, its mark bound to the newest
 * segment's last record, with one byte flipped in `segment`'s first mutation record; the mark made unreadable
 * when `unreadable`.
 */
async function damagedBoundLog(segment: 1 | 2, unreadable: boolean): Promise<SimFS> {
  const fs = SimFS.withDir("/");
  const sizes = await writeSimLog(fs, DIR, evenLog(2, 3));
  const newest = fs.readFileSync(segmentPath(DIR, 2));
  const end = sizes[1] as number;
  const binding = {
    segmentId: 2,
    recordOffset: end - 25,
    recordBytes: 25,
    recordLsn: 18,
    recordCrc: readU32(newest, end - 4),
  };
  fs.writeFileSync(
    join(DIR, DURABLE_MARK_FILE),
    encodeDurableMark({ session: 7, durableLsn: 18, closed: true, sessionStartLsn: 1, binding }),
  );
  const path = segmentPath(DIR, segment);
  const bytes = fs.readFileSync(path);
  const at = 32 + 25 + 10; // inside the first mutation record, after its begin
  bytes[at] = (bytes[at] as number) ^ 0x01;
  fs.writeFileSync(path, bytes);
  if (unreadable) fs.injectFault({ op: "open", path: join(DIR, DURABLE_MARK_FILE), errno: "EACCES", persistent: true });
  return fs;
}

const outcomeOf = (fs: SimFS) => replayDir<JsonValue>(DIR, { fs, codec: jsonCodec }).outcome();

describe("an unreadable durable mark and damage", () => {
  it("damage in the window, which only the mark can tell from a torn write: WAL_IO, never a torn tail", async () => {
    await expect(outcomeOf(await damagedBoundLog(2, false))).rejects.toMatchObject({ code: "WAL_CORRUPT" });
    await expect(outcomeOf(await damagedBoundLog(2, true))).rejects.toMatchObject({ code: "WAL_IO" });
  });

  it("the bound segment failing to open again for the check: WAL_IO, not 'no binding'", async () => {
    const fs = await damagedBoundLog(2, false);
    // The walk's own open passes; the binding check's fails.
    fs.injectFault({ op: "open", path: segmentPath(DIR, 2), errno: "EIO", skip: 1 });
    await expect(outcomeOf(fs)).rejects.toMatchObject({ code: "WAL_IO" });
  });

  it("damage no torn write explains (a sealed segment): WAL_CORRUPT, the mark not asked", async () => {
    await expect(outcomeOf(await damagedBoundLog(1, true))).rejects.toMatchObject({ code: "WAL_CORRUPT" });
  });
});
