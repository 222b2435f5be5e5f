/**
 * The archive holds only what the log can no longer lose. In sync mode `none` a commit is acknowledged once written:
 * its records sit in the active segment's file, readable, before any fdatasync covers them. An archiver reading that
 * file must stop at the fsynced LSN, or a crash would take back records the archive keeps, and the log, writing on,
 * would give those LSNs to other records.
 */

import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SEGMENT_HEADER_BYTES, segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { type Archiver, startArchiver } from "./archiver.js";
import { type MemoryArchive, memoryArchive } from "./memory-archive.js";
import { verifyArchive } from "./verify-archive.js";

/**
 * An archiver attached now, flushed once: it knows no durable prefix's size and reads the file to find where it ends.
 * It must have archived exactly up to `fsynced`, and the archive must say so.
 */
async function attachedLate(wal: Wal<JsonValue>, store: MemoryArchive, fs: SimFS, fsynced: number): Promise<Archiver> {
  const archiver = startArchiver(wal, { store, fs, intervalMs: 3_600_000 });
  await archiver.flush();
  expect(archiver.status().archivedLsn).toBe(fsynced);
  const report = await verifyArchive(store);
  expect(report.problems).toEqual([]);
  expect(report.lastLsn).toBe(fsynced);
  return archiver;
}

describe("an archiver on a log in sync mode none", () => {
  it("ships the active segment's records up to the fsynced LSN, not the ones only written", async () => {
    const fs = new SimFS();
    const store = memoryArchive();
    const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs, syncMode: "none" });
    for (let i = 0; i < 3; i++) await wal.commitTx([{ synced: i }]);
    await wal.forceFsync();
    const fsynced = wal.fsyncedLsn();
    for (let i = 0; i < 3; i++) await wal.commitTx([{ written: i }]);
    // Written to the file, not fsynced: what a crash now takes back.
    expect(wal.nextLsn() - 1).toBeGreaterThan(fsynced);
    expect(wal.fsyncedLsn()).toBe(fsynced);

    const archiver = await attachedLate(wal, store, fs, fsynced);

    // Once fsynced, the rest follows.
    await wal.forceFsync();
    await archiver.flush();
    expect((await verifyArchive(store)).lastLsn).toBe(wal.nextLsn() - 1);
    await archiver.stop();
    await wal.close();
  });

  it("stops at the fsynced LSN also where the first record past it starts a new read of the file", async () => {
    const fs = new SimFS();
    const store = memoryArchive();
    const { wal } = await Wal.open<JsonValue>("/w", {
      codec: jsonCodec,
      fs,
      syncMode: "none",
      segmentTargetBytes: 1024 * 1024,
      preallocateBytes: 0,
    });
    const size = async () => (await fs.stat(segmentPath("/w", 1)))?.size ?? 0;
    const commit = (n: number) => wal.commitTx([{ p: "x".repeat(n) }]);
    // The segment reader's first read takes 256 KiB: the fsynced records end exactly there, so the reader has none
    // of the next record's bytes buffered and looks at it with a read of its own.
    const readEnd = SEGMENT_HEADER_BYTES + 256 * 1024;
    const sizeBefore = await size();
    await commit(0);
    const emptyCommit = (await size()) - sizeBefore;
    while (readEnd - (await size()) > emptyCommit + 4096) await commit(4000);
    await commit(readEnd - (await size()) - emptyCommit);
    expect(await size()).toBe(readEnd);
    await wal.forceFsync();
    const fsynced = wal.fsyncedLsn();
    for (let i = 0; i < 3; i++) await commit(10);
    expect(wal.fsyncedLsn()).toBe(fsynced);

    const archiver = await attachedLate(wal, store, fs, fsynced);
    await archiver.stop();
    await wal.close();
  });
});
