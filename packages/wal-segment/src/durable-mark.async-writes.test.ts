/**
 * A durable-mark writer over a seam without `writeSync` writes the mark asynchronously: the writes land in the order
 * they were published, never after the file is closed, and `close` resolves with its closed mark written.
 */

import { describe, expect, it } from "vitest";
import { DurableMarkWriter, readDurableMark } from "./durable-mark.js";
import type { WalFile, WalFileSystem } from "./fs/file-system.js";
import { SimFS } from "./testing/sim-fs.js";
import { boundProperty, wrapFileSystem } from "./testing/wrapped-fs.js";

const DIR = "/log";

/**
 * SimFS whose files have no `writeSync` and whose writes wait until the test releases them, as writes queued on a
 * thread pool complete whenever they do.
 */
function heldWrites(): { fs: SimFS; seam: WalFileSystem; held: (() => void)[] } {
  const fs = SimFS.withDir(DIR);
  const held: (() => void)[] = [];
  const hold = (file: WalFile): WalFile =>
    new Proxy(file, {
      get(target, key) {
        if (key === "writeSync") return undefined;
        if (key === "write") {
          return async (data: Uint8Array, position: number) => {
            const copy = data.slice();
            await new Promise<void>((resolve) => held.push(resolve));
            await target.write(copy, position);
          };
        }
        return boundProperty(target, key);
      },
    });
  return { fs, seam: wrapFileSystem(fs, hold), held };
}

/** Release the held writes, newest first, until `until` settles (or nothing is held after a turn). */
async function releaseNewestFirst(held: (() => void)[], until?: Promise<unknown>): Promise<void> {
  let settled = until === undefined;
  void until?.finally(() => {
    settled = true;
  });
  for (let turn = 0; turn < 100; turn++) {
    held.pop()?.();
    await new Promise((resolve) => setImmediate(resolve));
    if (settled && held.length === 0) return;
  }
  throw new Error("writes still held after 100 turns");
}

describe("DurableMarkWriter over a seam with asynchronous writes only", () => {
  it("a later mark is never overwritten by an earlier one that completes after it", async () => {
    const { fs, seam, held } = heldWrites();
    const writer = await DurableMarkWriter.open(seam, DIR, 1);
    writer.publish(3);
    writer.publish(7);
    await releaseNewestFirst(held);
    expect(await readDurableMark(fs, DIR)).toMatchObject({ durableLsn: 7, closed: false });
    await writer.abandon();
  });

  it("close writes the closed mark before it closes the file", async () => {
    const { fs, seam, held } = heldWrites();
    const writer = await DurableMarkWriter.open(seam, DIR, 1);
    writer.publish(3);
    const closing = writer.close(5);
    await releaseNewestFirst(held, closing);
    await closing;
    expect(await readDurableMark(fs, DIR)).toMatchObject({ durableLsn: 5, closed: true, sessionStartLsn: 1 });
    expect(fs.stats.opens).toBe(fs.stats.closes);
  });

  it("abandon lets a write under way land before the file is closed", async () => {
    const { fs, seam, held } = heldWrites();
    const writer = await DurableMarkWriter.open(seam, DIR, 1);
    writer.publish(4);
    const abandoning = writer.abandon();
    await releaseNewestFirst(held, abandoning);
    await abandoning;
    expect(await readDurableMark(fs, DIR)).toMatchObject({ durableLsn: 4, closed: false });
  });

  it("marks published while a write is under way replace each other: one write in flight, one waiting", async () => {
    const { fs, seam, held } = heldWrites();
    const writer = await DurableMarkWriter.open(seam, DIR, 1);
    let writes = 0;
    for (let lsn = 1; lsn <= 10_000; lsn++) writer.publish(lsn);
    await new Promise((resolve) => setImmediate(resolve));
    expect(held.length).toBe(1); // the first write; the other 9 999 marks wait as one
    const closing = writer.close(10_001);
    for (let turn = 0; turn < 100 && held.length > 0; turn++) {
      writes++;
      held.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(writes).toBe(2); // LSN 1, then only the newest mark: the closed one
    await closing;
    expect(await readDurableMark(fs, DIR)).toMatchObject({ durableLsn: 10_001, closed: true });
    expect(fs.stats.opens).toBe(fs.stats.closes);
  });

  it("a seam write that throws instead of rejecting loses that mark only: later marks and the closed one land", async () => {
    const fs = SimFS.withDir(DIR);
    let calls = 0;
    const seam = wrapFileSystem(
      fs,
      (file: WalFile): WalFile =>
        new Proxy(file, {
          get(target, key) {
            if (key === "writeSync") return undefined;
            if (key === "write") {
              return (data: Uint8Array, position: number) => {
                if (calls++ === 0) throw new Error("EBADF");
                return target.write(data, position);
              };
            }
            return boundProperty(target, key);
          },
        }),
    );
    const writer = await DurableMarkWriter.open(seam, DIR, 1);
    writer.publish(3);
    await new Promise((resolve) => setImmediate(resolve));
    writer.publish(7);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await readDurableMark(fs, DIR)).toMatchObject({ durableLsn: 7, closed: false });
    await writer.close(9);
    expect(calls).toBe(3);
    expect(await readDurableMark(fs, DIR)).toMatchObject({ durableLsn: 9, closed: true });
    expect(fs.stats.opens).toBe(fs.stats.closes);
  });
});
