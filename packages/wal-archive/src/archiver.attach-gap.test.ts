/**
 * Segments truncated from the log while no archiver ran (its slot dropped, or invalidated in an earlier run) are a
 * gap between what the store holds and what the log still has. The archiver that attaches next cannot archive them;
 * it reports them as a gap met while running is reported (`skippedSegments`, `lastError` `WAL_ARCHIVE_MISSING`) and
 * archives on. A store that holds nothing yet is no gap: an archive may start anywhere.
 */

import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { dropSlot } from "@lora/wal-replay";
import { listSegments } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { parseArchiveKey } from "./archive-keys.js";
import { startArchiver } from "./archiver.js";
import { memoryArchive } from "./memory-archive.js";

const DIR = "/w";

async function openLog(fs: SimFS) {
  const { wal } = await Wal.open<JsonValue>(DIR, { codec: jsonCodec, fs, segmentTargetBytes: 300 });
  return wal;
}

/** Commits until the log has rotated `rotations` times. */
async function rotate(wal: Wal<JsonValue>, rotations: number): Promise<void> {
  const target = wal.activeSegmentId() + rotations;
  for (let i = 0; wal.activeSegmentId() < target; i++) await wal.commitTx([{ i, pad: "p".repeat(30) }]);
}

/** Segment ids the store holds, as sealed objects and as pieces. */
async function storedIds(store: ReturnType<typeof memoryArchive>) {
  const sealed = new Set<number>();
  const pieces = new Set<number>();
  for (const { key } of await store.list("")) {
    const k = parseArchiveKey(key);
    if (k !== null) (k.kind === "segment" ? sealed : pieces).add(k.id);
  }
  return { sealed, pieces };
}

it("segments truncated unarchived while no archiver ran are reported at the next attach, and archiving goes on", async () => {
  const fs = SimFS.withDir(DIR);
  const store = memoryArchive();
  const wal = await openLog(fs);
  await rotate(wal, 2);
  const first = startArchiver(wal, { store, fs, intervalMs: 5 });
  await first.stop(); // flushes: the sealed segments whole, the active one as pieces
  const before = await storedIds(store);
  const newestSealed = Math.max(...before.sealed);
  const partial = Math.max(...before.pieces);
  expect(partial).toBe(newestSealed + 1);

  // The slot dropped (by hand, or invalidated earlier): nothing holds truncation back.
  await dropSlot(DIR, "archive", { fs });
  await rotate(wal, 6);
  expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBeGreaterThan(0);
  const oldest = (await listSegments(fs, DIR))[0]?.id as number;
  expect(oldest).toBeGreaterThan(partial + 1);

  const second = startArchiver(wal, { store, fs, intervalMs: 5 });
  await second.flush();
  const status = second.status();
  // The rest of the segment the store holds as pieces only, and every id between it and the log's oldest
  expect(status.skippedSegments).toBe(oldest - partial);
  expect(status.lastError).toMatchObject({ code: "WAL_ARCHIVE_MISSING", details: { path: DIR } });
  expect(status.lastError?.message).toContain(`segments ${partial} to ${oldest - 1}`);
  expect(status.state).toBe("running");
  expect(status.archivedLsn).toBe(wal.fsyncedLsn());
  await second.stop();
  await wal.close();
});

it("a log truncated up to the store's newest sealed segment leaves no gap: nothing is reported", async () => {
  const fs = SimFS.withDir(DIR);
  const store = memoryArchive();
  const wal = await openLog(fs);
  await rotate(wal, 3);
  const first = startArchiver(wal, { store, fs, intervalMs: 5 });
  await first.flush();
  await first.stop();
  await rotate(wal, 1);
  // The slot still holds back what the store lacks: truncation keeps the segment after the newest sealed one.
  expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBeGreaterThan(0);
  const second = startArchiver(wal, { store, fs, intervalMs: 5 });
  await second.flush();
  expect(second.status()).toMatchObject({ skippedSegments: 0, lastError: null });
  await second.stop();
  await wal.close();
});

it("a store that holds nothing yet is no gap, however much the log has truncated", async () => {
  const fs = SimFS.withDir(DIR);
  const wal = await openLog(fs);
  await rotate(wal, 5);
  expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBeGreaterThan(0);
  expect((await listSegments(fs, DIR))[0]?.id).toBeGreaterThan(1);
  const archiver = startArchiver(wal, { store: memoryArchive(), fs, intervalMs: 5 });
  await archiver.flush();
  expect(archiver.status()).toMatchObject({ skippedSegments: 0, lastError: null, archivedLsn: wal.fsyncedLsn() });
  await archiver.stop();
  await wal.close();
});
