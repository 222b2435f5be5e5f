/**
 * An archiver attaching to a log whose active segment is partly in the store as pieces resumes after the last
 * record those pieces hold. A single durable record written after them (a checkpoint marker is one record; a
 * commit writes more) must still be shipped: counted as shipped already, it would be missing from the store while
 * `archivedLsn` and `flush` said it was there.
 */

import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { startArchiver } from "./archiver.js";
import { memoryArchive } from "./memory-archive.js";
import { verifyArchive } from "./verify-archive.js";

describe("an archiver resuming the active segment's pieces", () => {
  it("ships the one durable record that follows the last piece", async () => {
    const fs = new SimFS();
    const store = memoryArchive();
    const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs });
    const options = { store, fs, intervalMs: 3_600_000 };
    const first = startArchiver(wal, options);
    for (let i = 0; i < 3; i++) await wal.commitTx([{ i }]);
    await first.flush();
    await first.stop();
    const shipped = wal.fsyncedLsn();
    expect((await verifyArchive(store)).lastLsn).toBe(shipped);

    const marker = await wal.checkpointMarker(wal.safeCheckpointLsn());
    await wal.forceFsync();
    expect(marker).toBe(shipped + 1);
    expect(wal.fsyncedLsn()).toBe(marker);

    const second = startArchiver(wal, options);
    await second.flush();
    expect(second.status().archivedLsn).toBe(marker);
    const report = await verifyArchive(store);
    expect(report.problems).toEqual([]);
    expect(report.lastLsn).toBe(marker);
    await second.stop();
    await wal.close();
  });
});
