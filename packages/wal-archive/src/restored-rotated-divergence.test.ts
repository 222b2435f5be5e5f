/**
 * The store's pieces of every local segment are checked, not only the newest's: a log restored to a point inside a
 * segment the archive holds as pieces, which rotates before an archiver is attached, must not upload its own
 * version of that segment and delete the other history's pieces of it. A sealed upload deletes only the pieces that
 * agree with it.
 */

import { Wal } from "@lora/wal";
import { crc32, isWalError, type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { archiveKey, parseArchiveKey } from "./archive-keys.js";
import { startArchiver } from "./archiver.js";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";

const opts = { codec: jsonCodec, segmentTargetBytes: 300 };

async function keys(store: ReturnType<typeof memoryArchive>): Promise<string[]> {
  return (await store.list()).map((o) => o.key);
}

async function failureOf(flush: Promise<void>): Promise<unknown> {
  return flush.then(
    () => null,
    (error: unknown) => error,
  );
}

describe("pieces of a segment that is no longer the newest", () => {
  it("an archiver attached to a restored log that has rotated since refuses the store of the later history", async () => {
    const fs = new SimFS();
    const store = memoryArchive();
    // History A: segment 1 sealed and archived, segment 2 active, its records shipped as pieces.
    const { wal: a } = await Wal.open<JsonValue>("/a", { ...opts, fs });
    const archA = startArchiver(a, { store, fs, intervalMs: 5 });
    for (let i = 0; i < 20 && (await a.segments()).length < 2; i++) await a.commitTx([{ a: i }]);
    const inSegment2: number[] = [];
    for (let i = 0; i < 3; i++) inSegment2.push((await a.commitTx([{ a2: i }]))?.commitLsn as number);
    await archA.flush();
    await archA.stop();
    await a.close();
    const before = await keys(store);
    expect(before.some((k) => k.startsWith("partial/0000000002-"))).toBe(true);
    expect(before.some((k) => k.startsWith("segments/0000000002-"))).toBe(false);

    // History B: restored to the first commit of segment 2; it writes on and rotates before archiving resumes.
    await restore({ store, dir: "/b", toLsn: inSegment2[0] as number, fs });
    const { wal: b } = await Wal.open<JsonValue>("/b", { ...opts, fs });
    for (let i = 0; i < 20 && (await b.segments()).length < 3; i++) await b.commitTx([{ b: i }]);
    expect((await b.segments()).length).toBe(3);

    const archB = startArchiver(b, { store, fs, intervalMs: 5 });
    const failure = await failureOf(archB.flush());
    expect(isWalError(failure, "WAL_ARCHIVE_DIVERGED")).toBe(true);
    expect((failure as { details: { object?: string } }).details.object).toMatch(/^partial\/0000000002-/);
    expect(archB.status()).toMatchObject({ state: "failing", lastError: { code: "WAL_ARCHIVE_DIVERGED" } });
    await archB.stop({ flush: false });
    await b.close();
    // Nothing of the new history went into the store, and nothing of the old one left it.
    expect(await keys(store)).toEqual(before);
  });

  it.each([
    ["the newest segment", 1],
    ["a segment sealed since", 2],
  ])(
    "refuses pieces of %s that hold other records of the same sizes (and so the same CRC-32s)",
    async (_, segments) => {
      const fs = new SimFS();
      const store = memoryArchive();
      const { wal: a } = await Wal.open<JsonValue>("/a", { ...opts, fs });
      const archA = startArchiver(a, { store, fs, intervalMs: 3_600_000 });
      const commitsA: number[] = [];
      for (let i = 0; i < 3; i++) commitsA.push((await a.commitTx([{ v: `A${i}` }]))?.commitLsn as number);
      await archA.flush();
      await archA.stop();
      await a.close();
      const before = await keys(store);
      expect(before.every((k) => k.startsWith("partial/0000000001-"))).toBe(true);

      await restore({ store, dir: "/b", toLsn: commitsA[0] as number, fs });
      const { wal: b } = await Wal.open<JsonValue>("/b", { ...opts, fs });
      for (let i = 1; i < 3; i++) await b.commitTx([{ v: `B${i}` }]);
      for (let i = 3; i < 20 && (await b.segments()).length < segments; i++) await b.commitTx([{ v: `B${i}` }]);
      const archB = startArchiver(b, { store, fs, intervalMs: 5 });
      const failure = await failureOf(archB.flush());
      expect(isWalError(failure, "WAL_ARCHIVE_DIVERGED")).toBe(true);
      await archB.stop({ flush: false });
      await b.close();
      expect(await keys(store)).toEqual(before);
    },
  );

  it("takes pieces shipped before the segment was sealed (its header unsealed then) and replaces them", async () => {
    const fs = new SimFS();
    const store = memoryArchive();
    const { wal } = await Wal.open<JsonValue>("/a", { ...opts, fs });
    const first = startArchiver(wal, { store, fs, intervalMs: 5 });
    await wal.commitTx([{ before: 0 }]);
    await first.flush();
    await first.stop();
    expect((await keys(store)).some((k) => k.startsWith("partial/0000000001-"))).toBe(true);
    // Segment 1 is sealed while no archiver runs: its header now differs from the one its pieces hold.
    for (let i = 0; i < 20 && (await wal.segments()).length < 2; i++) await wal.commitTx([{ after: i }]);
    const second = startArchiver(wal, { store, fs, intervalMs: 5 });
    await second.flush();
    await second.stop();
    await wal.close();
    const after = await keys(store);
    expect(after.some((k) => k.startsWith("segments/0000000001-"))).toBe(true);
    expect(after.some((k) => k.startsWith("partial/0000000001-"))).toBe(false);
  });

  it("a sealed upload that finds a piece of another history refuses, uploads nothing and deletes nothing", async () => {
    const fs = new SimFS();
    const store = memoryArchive();
    const { wal } = await Wal.open<JsonValue>("/a", { ...opts, fs });
    // The timer never fires: the store changes only by the seal's upload and the flushes.
    const archiver = startArchiver(wal, { store, fs, intervalMs: 3_600_000 });
    await wal.commitTx([{ before: 0 }]);
    await archiver.flush();
    // Another writer puts a piece of segment 1 with other bytes into the store after catch-up checked it.
    const ours = (await store.list("partial/"))[0]?.key as string;
    const foreign = ((await store.get(ours)) as Uint8Array).slice();
    foreign[40] = (foreign[40] as number) ^ 0xff;
    const k = parseArchiveKey(ours);
    if (k?.kind !== "piece") throw new Error(`not a piece: ${ours}`);
    const foreignKey = archiveKey({ ...k, crc32: crc32(foreign) >>> 0 });
    await store.put(foreignKey, foreign, { crc32: crc32(foreign) >>> 0 });
    const before = await keys(store);

    for (let i = 0; i < 20 && (await wal.segments()).length < 2; i++) await wal.commitTx([{ after: i }]);
    const failure = await failureOf(archiver.flush());
    expect(isWalError(failure, "WAL_ARCHIVE_DIVERGED")).toBe(true);
    expect((failure as { details: { object?: string } }).details.object).toBe(foreignKey);
    expect(archiver.status().lastError?.code).toBe("WAL_ARCHIVE_DIVERGED");
    await archiver.stop({ flush: false });
    await wal.close();
    expect(await keys(store)).toEqual(before);
  });
});
