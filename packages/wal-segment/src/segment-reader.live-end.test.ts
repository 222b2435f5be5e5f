/**
 * A reader at the live end of a preallocated segment (a follower, woken after each commit round) looks at a few new
 * bytes per wake-up: it reads no more than it asked for (not the writer's zeros ahead), and small reads and the
 * refresh go through the file's synchronous calls where it has them, while replay's large reads stay asynchronous.
 */

import { bytesCodec, type WalRecord } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import type { WalFile, WalFileSystem } from "./fs/file-system.js";
import { SegmentReader } from "./segment-reader.js";
import { SegmentWriter } from "./segment-writer.js";
import { SimFS } from "./testing/sim-fs.js";
import { wrapFileSystem } from "./testing/wrapped-fs.js";

const PATH = "/w/0000000001.wal";
const MiB = 1 << 20;

/** Which file calls a reader makes, and how many bytes its reads ask for. */
interface Calls {
  read: number;
  readSync: number;
  size: number;
  sizeSync: number;
  asked: number;
}

/** SimFS behind a seam that counts the calls of files opened for reading, or hides their synchronous calls. */
function observed(inner: SimFS, withSync: boolean): { fs: WalFileSystem; calls: Calls } {
  const calls: Calls = { read: 0, readSync: 0, size: 0, sizeSync: 0, asked: 0 };
  const wrap = (file: WalFile): WalFile =>
    new Proxy(file, {
      get(target, key) {
        if ((key === "readSync" || key === "sizeSync") && !withSync) return undefined;
        const value = Reflect.get(target, key, target) as unknown;
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          if (key in calls) calls[key as keyof Calls]++;
          if (key === "read" || key === "readSync") calls.asked += args[2] as number;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  const fs = wrapFileSystem(inner, (file, mode) => (mode === "read" ? wrap(file) : file));
  return { fs, calls };
}

let lsn = 1;
function commit(writer: SegmentWriter, bytes: number): void {
  const records: WalRecord<Uint8Array>[] = [
    { kind: "txBegin", lsn },
    { kind: "mutation", lsn: lsn + 1, txBeginLsn: lsn, event: new Uint8Array(bytes).fill(7) },
    { kind: "txCommit", lsn: lsn + 2, txBeginLsn: lsn },
  ];
  for (const r of records) writer.append(r, bytesCodec);
  lsn += 3;
}

async function readToEnd(reader: SegmentReader): Promise<number> {
  let records = 0;
  for (;;) {
    const step = await reader.next(bytesCodec);
    if (step.kind !== "record") {
      expect(step.kind).toBe("end");
      return records;
    }
    records++;
  }
}

function reset(calls: Calls): void {
  calls.read = calls.readSync = calls.size = calls.sizeSync = calls.asked = 0;
}

/** A preallocating writer with one commit written, and a reader (through the observing seam) at its end. */
async function atLiveEnd(withSync: boolean) {
  lsn = 1;
  const sim = new SimFS();
  sim.mkdirpSync("/w");
  const writer = await SegmentWriter.create(sim, PATH, 1, { preallocateBytes: MiB });
  commit(writer, 100);
  await writer.flush();
  const { fs, calls } = observed(sim, withSync);
  const reader = await SegmentReader.open(fs, PATH);
  expect(await readToEnd(reader)).toBe(3);
  return { writer, reader, calls };
}

describe("SegmentReader at the live end of a preallocated segment", () => {
  it("reads a few KiB per look after a commit, not the writer's zeros ahead of it", async () => {
    const { writer, reader, calls } = await atLiveEnd(true);
    for (let round = 0; round < 20; round++) {
      commit(writer, 100);
      await writer.flush();
      reset(calls);
      await reader.refresh();
      expect(await readToEnd(reader)).toBe(3);
      // One commit is ~160 bytes; the zeros after it run for most of a MiB.
      expect(calls.asked).toBeLessThanOrEqual(64 * 1024);
    }
    await reader.close();
    await writer.close();
  });

  it("looks with readSync and sizeSync where the file has them, and without them asynchronously", async () => {
    for (const withSync of [true, false]) {
      const { writer, reader, calls } = await atLiveEnd(withSync);
      commit(writer, 100);
      await writer.flush();
      reset(calls);
      await reader.refresh();
      expect(await readToEnd(reader)).toBe(3);
      if (withSync) expect(calls).toMatchObject({ read: 0, size: 0, sizeSync: 1 });
      else expect(calls).toMatchObject({ readSync: 0, sizeSync: 0, size: 1 });
      expect(withSync ? calls.readSync : calls.read).toBeGreaterThan(0);
      await reader.close();
      await writer.close();
    }
  });

  it("keeps a reader that does not follow (replay, recovery) asynchronous, even for a short last chunk", async () => {
    lsn = 1;
    const sim = new SimFS();
    sim.mkdirpSync("/w");
    const writer = await SegmentWriter.create(sim, PATH, 1);
    // 31 transactions of 64 KiB: the third read is of the last ~1 KiB.
    for (let i = 0; i < 31; i++) commit(writer, 64 * 1024);
    await writer.flush();
    await writer.close();
    const { fs, calls } = observed(sim, true);
    const reader = await SegmentReader.open(fs, PATH);
    expect(await readToEnd(reader)).toBe(93);
    // 1 MiB chunks and a short last one: every read asynchronous (a cold cache makes them disk reads).
    expect(calls.read).toBeGreaterThanOrEqual(3);
    expect(calls.readSync).toBe(0);
    await reader.close();
  });
});
