/**
 * `close()` writes what is still buffered, fsyncs, and cuts the zero-filled part of the active segment off, so a
 * closed log's segment is as long as its records. Its last write is not zero-filled ahead of: before, a close whose
 * last write ran past the zeros first wrote `preallocateBytes` of zeros past it, then cut them off again (a write and
 * an ftruncate for nothing), and it fsynced twice (the records' fdatasync, then the cut's fsync) where one fsync covers
 * both. Every crash image of the close still opens with every acknowledged commit.
 */

import { bytesCodec } from "@lora/wal-codec";
import { segmentPath, type WalFile } from "@lora/wal-segment";
import { SimFS, wrapFileSystem } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";

const DIR = "/w";
const AHEAD = 16 * 1024;

/** Counts every write, truncate and flush of each file, and the bytes written to it, as the handle makes them. */
function countingSeam(sim: SimFS) {
  const counts = new Map<string, { writes: number; bytes: number; truncates: number; flushes: number }>();
  const of = (path: string) => {
    const known = counts.get(path);
    if (known !== undefined) return known;
    const c = { writes: 0, bytes: 0, truncates: 0, flushes: 0 };
    counts.set(path, c);
    return c;
  };
  const wrap = (file: WalFile): WalFile =>
    new Proxy(file, {
      get(target, key) {
        const c = of(target.path);
        const value: unknown = Reflect.get(target, key, target);
        if (typeof value !== "function") return value;
        const call = (value as (...a: unknown[]) => unknown).bind(target);
        if (key === "write" || key === "writeSync") {
          return (data: Uint8Array, position: number) => {
            c.writes++;
            c.bytes += data.byteLength;
            return call(data, position);
          };
        }
        if (key === "truncate") {
          return (length: number) => {
            c.truncates++;
            return call(length);
          };
        }
        if (key === "datasync" || key === "datasyncSync" || key === "sync") {
          return () => {
            c.flushes++;
            return call();
          };
        }
        return call;
      },
    });
  return { fs: wrapFileSystem(sim, wrap), counts: of };
}

/**
 * A perCommit handle on SimFS preallocating 16 KiB, with commit A (acknowledged: fsynced) and transaction B appended
 * (buffered, not written). With `pastTheZeros`, A is a 16 KiB event: a bulk write, not filled ahead of, so the file
 * ends where A does and B's write at close runs past the zeros; otherwise A is small and B's write lands in them.
 */
async function handleWithBuffered(pastTheZeros: boolean) {
  const sim = SimFS.withDir(DIR);
  const seam = countingSeam(sim);
  const { wal } = await Wal.open(DIR, { fs: seam.fs, codec: bytesCodec, preallocateBytes: AHEAD });
  const a = new Uint8Array(pastTheZeros ? AHEAD : 100).fill(1);
  await wal.commitTx([a]);
  const path = segmentPath(DIR, wal.activeSegmentId());
  const b = new Uint8Array(1000).fill(2);
  const tx = await wal.begin();
  await wal.append(tx, b);
  await wal.commit(tx);
  return { sim, wal, path, counts: () => ({ ...seam.counts(path) }), a, b };
}

describe("Wal.close's last write", () => {
  it("past the zeros: writes the records only, cuts nothing, and fsyncs once", async () => {
    const { sim, wal, path, counts, a, b } = await handleWithBuffered(true);
    const size = sim.readFileSync(path).byteLength;
    const before = counts();
    await wal.close();
    const after = counts();
    const grown = sim.readFileSync(path).byteLength - size;
    expect(grown).toBeGreaterThan(b.byteLength);
    expect({
      writes: after.writes - before.writes,
      bytes: after.bytes - before.bytes,
      truncates: after.truncates - before.truncates,
      flushes: after.flushes - before.flushes,
    }).toEqual({ writes: 1, bytes: grown, truncates: 0, flushes: 1 });
    const reopened = await Wal.open(DIR, { fs: sim.durableImage(), codec: bytesCodec });
    expect(reopened.events).toEqual([a, b]);
    await reopened.wal.close();
  });

  it("into the zeros: writes the records, cuts the zeros, and fsyncs once for both", async () => {
    const { sim, wal, path, counts, a, b } = await handleWithBuffered(false);
    expect(sim.readFileSync(path).byteLength).toBeGreaterThan(AHEAD); // zero-filled ahead
    const before = counts();
    await wal.close();
    const after = counts();
    expect({
      writes: after.writes - before.writes,
      truncates: after.truncates - before.truncates,
      flushes: after.flushes - before.flushes,
    }).toEqual({ writes: 1, truncates: 1, flushes: 1 });
    expect(after.bytes - before.bytes).toBeLessThan(b.byteLength + 100);
    const durable = sim.durableImage();
    expect(durable.readFileSync(path).byteLength).toBe(sim.readFileSync(path).byteLength);
    expect(durable.readFileSync(path).at(-1)).not.toBe(0); // a record's CRC ends the file, not a zero
    const reopened = await Wal.open(DIR, { fs: durable, codec: bytesCodec });
    expect(reopened.events).toEqual([a, b]);
    await reopened.wal.close();
  });

  for (const pastTheZeros of [true, false]) {
    it(`${pastTheZeros ? "past" : "into"} the zeros: every crash image of the close opens with every acknowledged commit`, async () => {
      const { sim, wal, a, b } = await handleWithBuffered(pastTheZeros);
      const images: { at: string; fs: SimFS }[] = [];
      const stop = sim.onOperation((event) => {
        for (const image of sim.crashImages({ maxImages: 64 })) {
          images.push({ at: `after ${event.op} ${event.path} #${event.seq}: ${image.description}`, fs: image.fs });
        }
      });
      await wal.close();
      stop();
      expect(images.length).toBeGreaterThan(4);
      let withB = 0;
      for (const { at, fs } of images) {
        const opened = await Wal.open(DIR, { fs, codec: bytesCodec });
        // A was acknowledged before the close; B was appended and committed, not yet written: present or not.
        expect([[a], [a, b]], at).toContainEqual(opened.events);
        if (opened.events.length === 2) withB++;
        await opened.wal.close();
      }
      expect(withB).toBeGreaterThan(0);
      // Once the close resolved, B is durable too.
      const after = await Wal.open(DIR, { fs: sim.durableImage(), codec: bytesCodec });
      expect(after.events).toEqual([a, b]);
      await after.wal.close();
    });
  }
});
