/**
 * What the archiver reports and waits for, to the record, on a log whose events the test hands over itself: a
 * flush resolves only once the LSN durable when it was called is in the store (not one record short of it, which a
 * pass already running may leave), `archivedLsn` never names the first record of a segment still waiting for its
 * upload, and a durable prefix the handle reported for one segment is never used to cut another.
 */

import { type JsonValue, jsonCodec, type WalRecord } from "@lora/wal-codec";
import { SegmentWriter, segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { parseArchiveKey } from "./archive-keys.js";
import type { ArchiveStore } from "./archive-store.js";
import { type ArchivableWal, startArchiver, type WalLifecycleEvent } from "./archiver.js";
import { memoryArchive } from "./memory-archive.js";

const DIR = "/w";

function tx(begin: number, events: JsonValue[]): WalRecord<JsonValue>[] {
  return [
    { kind: "txBegin", lsn: begin },
    { kind: "mutationBatch", lsn: begin + 1, txBeginLsn: begin, events },
    { kind: "txCommit", lsn: begin + 2, txBeginLsn: begin },
  ];
}

/** Write segment `id` of the log; returns its size. */
async function segment(fs: SimFS, id: number, baseLsn: number, records: WalRecord<JsonValue>[], sealed: boolean) {
  const w = await SegmentWriter.create(fs, segmentPath(DIR, id), baseLsn);
  for (const r of records) w.append(r, jsonCodec);
  if (sealed) await w.seal();
  else await w.flush();
  await w.close();
  return (await fs.stat(segmentPath(DIR, id)))?.size as number;
}

/** A handle the test drives: its fsynced LSN and its lifecycle events are what the test says. */
function fakeWal(fsynced: number) {
  const listeners: ((e: WalLifecycleEvent) => void)[] = [];
  const wal = {
    fsynced,
    dir: () => DIR,
    fsyncedLsn: () => wal.fsynced,
    onLifecycle(listener: (e: WalLifecycleEvent) => void) {
      listeners.push(listener);
      return () => undefined;
    },
    emit(e: WalLifecycleEvent) {
      if (e.type === "durable") wal.fsynced = Math.max(wal.fsynced, e.lsn);
      for (const l of listeners) l(e);
    },
  };
  return wal satisfies ArchivableWal;
}

/** `base` with its `nth` put held until `open()`; `reached` settles once that put is waiting. */
function gatedPuts(base: ArchiveStore, nth: number) {
  let puts = 0;
  let reach!: () => void;
  const reached = new Promise<void>((resolve) => {
    reach = resolve;
  });
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  const store: ArchiveStore = {
    name: base.name,
    async put(key, bytes, options) {
      if (++puts === nth) {
        reach();
        await opened;
      }
      return base.put(key, bytes, options);
    },
    get: (key, options) => base.get(key, options),
    list: (prefix, options) => base.list(prefix, options),
    delete: (key, options) => base.delete(key, options),
  };
  return { store, reached, open };
}

it("a flush made while a pass ships up to one record short of the durable LSN waits for that record", async () => {
  const fs = SimFS.withDir(DIR);
  await segment(fs, 1, 1, [...tx(1, ["a"]), ...tx(4, ["b"])], false);
  const wal = fakeWal(5); // 6, B's commit, is written but not durable yet
  const gated = gatedPuts(memoryArchive(), 1);
  const archiver = startArchiver(wal, { store: gated.store, fs, intervalMs: 3_600_000 });
  await gated.reached; // the first pass is putting the piece up to LSN 5
  wal.emit({ type: "durable", lsn: 6 });
  const flushed = archiver.flush();
  gated.open();
  await flushed;
  expect(archiver.status().archivedLsn).toBe(6);
  await archiver.stop();
});

it("archivedLsn stops below the first record of a sealed segment whose upload has not finished", async () => {
  const fs = SimFS.withDir(DIR);
  await segment(fs, 1, 1, tx(1, ["a"]), true);
  await segment(fs, 2, 4, tx(4, ["b"]), true);
  await segment(fs, 3, 7, tx(7, ["c"]), false);
  const gated = gatedPuts(memoryArchive(), 2);
  const archiver = startArchiver(fakeWal(9), { store: gated.store, fs, intervalMs: 3_600_000 });
  await gated.reached; // segment 1 is in the store, segment 2's put is waiting
  expect(archiver.status().archivedLsn).toBe(3);
  gated.open();
  await archiver.flush();
  expect(archiver.status().archivedLsn).toBe(9);
  await archiver.stop();
});

it("cuts the active segment by its own records, not by a durable prefix reported for the sealed one", async () => {
  const fs = SimFS.withDir(DIR);
  const sealedSize = await segment(fs, 1, 1, [...tx(1, ["a".repeat(200)]), ...tx(4, ["b".repeat(200)])], true);
  const activeSize = await segment(fs, 2, 7, tx(7, ["c"]), false);
  expect(activeSize).toBeLessThan(sealedSize);
  const wal = fakeWal(0);
  const store = memoryArchive();
  const archiver = startArchiver(wal, { store, fs, intervalMs: 3_600_000 });
  // Before the first pass runs: segment 1's prefix with its size, then a durable LSN in segment 2 with none.
  wal.emit({ type: "durable", lsn: 6, segmentId: 1, offset: sealedSize });
  wal.emit({ type: "durable", lsn: 9 });
  await archiver.flush();
  expect(archiver.status()).toMatchObject({ archivedLsn: 9, lastError: null });
  // Segment 2's one piece ends where its records do.
  const pieces = (await store.list("")).map((o) => parseArchiveKey(o.key)).filter((k) => k?.kind === "piece");
  expect(pieces).toMatchObject([{ id: 2, to: activeSize }]);
  await archiver.stop();
});
