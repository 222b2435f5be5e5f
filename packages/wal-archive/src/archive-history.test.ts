/**
 * One archive, one history. A log restored to an earlier point and archived again into the same store would mix
 * two histories of the same segments: the archiver refuses to attach (`WAL_ARCHIVE_DIVERGED`), and restore and
 * verify refuse an archive whose pieces disagree with the bytes of their segment (`WAL_ARCHIVE_CORRUPT`) instead of
 * picking one of the histories silently.
 */

import { Wal } from "@lora/wal";
import { crc32, isWalError, type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { archiveKey, parseArchiveKey } from "./archive-keys.js";
import { startArchiver } from "./archiver.js";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import { archivedLog } from "./test-support/archived-log.js";
import { verifyArchive } from "./verify-archive.js";

/** A log of 30 commits on small segments, archived whole (the archiver stopped, everything shipped). */
async function archivedHistory() {
  const fs = new SimFS();
  const store = memoryArchive();
  const commits = await archivedLog(fs, store, { commits: 30, segmentTargetBytes: 300, event: (i) => ({ old: i }) });
  return { fs, store, commits };
}

describe("one archive, one history", () => {
  it("an archiver attached to a log restored to an earlier point refuses the store that holds the later history", async () => {
    const { fs, store, commits } = await archivedHistory();
    await restore({ store, dir: "/b", toLsn: commits[10] as number, fs });
    const { wal } = await Wal.open<JsonValue>("/b", { codec: jsonCodec, fs, segmentTargetBytes: 300 });
    const before = (await store.list()).map((o) => o.key);
    const archiver = startArchiver(wal, { store, fs, intervalMs: 5 });
    await wal.commitTx([{ new: 0 }]);
    const failure = await archiver.flush().then(
      () => null,
      (error: unknown) => error,
    );
    expect(isWalError(failure, "WAL_ARCHIVE_DIVERGED")).toBe(true);
    expect(archiver.status()).toMatchObject({ state: "failing", lastError: { code: "WAL_ARCHIVE_DIVERGED" } });
    expect((failure as { details: { object?: string } }).details.object).toMatch(/\S/);
    await archiver.stop({ flush: false });
    await wal.close();
    // Nothing of the new history went into the store.
    expect((await store.list()).map((o) => o.key)).toEqual(before);
  });

  it("an archiver attached to a log restored to the newest point goes on in the same store", async () => {
    const { fs, store, commits } = await archivedHistory();
    await restore({ store, dir: "/b", fs });
    const { wal } = await Wal.open<JsonValue>("/b", { codec: jsonCodec, fs, segmentTargetBytes: 300 });
    const archiver = startArchiver(wal, { store, fs, intervalMs: 5 });
    const next = await wal.commitTx([{ new: 0 }]);
    await archiver.flush();
    expect(archiver.status().archivedLsn).toBeGreaterThanOrEqual(next?.commitLsn as number);
    await archiver.stop();
    await wal.close();
    await restore({ store, dir: "/c", fs });
    const { wal: again, events } = await Wal.open<JsonValue>("/c", { codec: jsonCodec, fs });
    await again.close();
    expect(events).toHaveLength(commits.length + 1);
    expect(events.at(-1)).toEqual({ new: 0 });
  });

  it("restore and verify refuse a piece that disagrees with its segment's sealed object, and accept one that agrees", async () => {
    const { fs, store } = await archivedHistory();
    const sealed = (await store.list()).flatMap((o) => {
      const k = parseArchiveKey(o.key);
      return k?.kind === "segment" ? [{ key: o.key, ...k }] : [];
    })[0];
    if (sealed === undefined) throw new Error("no sealed segment archived");
    const whole = (await store.get(sealed.key)) as Uint8Array;
    // A leftover piece of the segment while it was active (its header not yet sealed) agrees with it.
    const headerUnsealed = whole.slice(0, 64);
    headerUnsealed[20] = (headerUnsealed[20] as number) & ~1;
    new DataView(headerUnsealed.buffer).setUint32(28, crc32(headerUnsealed.subarray(0, 28)), true);
    const agreeing = headerUnsealed;
    const piece = (bytes: Uint8Array) =>
      archiveKey({ kind: "piece", id: sealed.id, baseLsn: sealed.baseLsn, from: 0, to: 64, crc32: crc32(bytes) });
    await store.put(piece(agreeing), agreeing, { crc32: crc32(agreeing) });
    await restore({ store, dir: "/ok", fs });
    expect((await verifyArchive(store)).problems).toEqual([]);
    // Another history's piece of the same bytes does not.
    const foreign = agreeing.slice();
    foreign[40] = (foreign[40] as number) ^ 0xff;
    await store.put(piece(foreign), foreign, { crc32: crc32(foreign) });
    const refused = await restore({ store, dir: "/bad", fs }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(isWalError(refused, "WAL_ARCHIVE_CORRUPT")).toBe(true);
    expect((refused as { details: { object?: string } }).details.object).toBe(piece(foreign));
    const report = await verifyArchive(store);
    expect(report.problems.map((p) => p.code)).toContain("WAL_ARCHIVE_CORRUPT");
  });
});
