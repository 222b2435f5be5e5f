/**
 * How often `Wal.open` reads the durable mark: once in the replay walk (before any segment, see
 * `DurableBindingCheck.prime`), and once more after recovery, where the binding is checked against what recovery left
 * and, when it no longer checks, cut from the mark. The check and the cut used to read the mark once each.
 */

import { encodeRecord, type JsonValue, jsonCodec } from "@lora/wal-codec";
import { DURABLE_MARK_BYTES, DURABLE_MARK_FILE, readDurableMark, segmentPath } from "@lora/wal-segment";
import { SimFS, wrapFileSystem } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";

const DIR = "/w";
const SEGMENT = segmentPath(DIR, 1);
const MARK = `${DIR}/${DURABLE_MARK_FILE}`;

/** `fs`, counting the reads (`read` and `readSync` calls) of the durable mark. */
function countingMarkReads(fs: SimFS): { fs: typeof fs; reads: () => number } {
  let reads = 0;
  const counted = wrapFileSystem(fs, (file) =>
    file.path !== MARK
      ? file
      : new Proxy(file, {
          get(target, key) {
            const value: unknown = Reflect.get(target, key, target);
            if ((key !== "read" && key !== "readSync") || typeof value !== "function") {
              return typeof value === "function" ? value.bind(target) : value;
            }
            return (...args: unknown[]) => {
              reads++;
              return value.apply(target, args);
            };
          },
        }),
  );
  return { fs: counted as SimFS, reads: () => reads };
}

/** A cleanly closed log of three commits: its mark (76 bytes) is bound to the last record. */
async function closedLog(): Promise<SimFS> {
  const fs = SimFS.withDir(DIR);
  const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
  for (const event of ["a", "b", "c"]) await wal.commitTx([event]);
  await wal.close();
  expect((await readDurableMark(fs, DIR))?.binding).toBeDefined();
  return fs;
}

function appendTorn(fs: SimFS): void {
  const before = fs.readFileSync(SEGMENT);
  const record = encodeRecord({ kind: "mutation", lsn: 10, txBeginLsn: 10, event: "x".repeat(5000) }, jsonCodec);
  const torn = new Uint8Array(before.byteLength + 3000);
  torn.set(before);
  torn.set(record.subarray(0, 3000), before.byteLength);
  fs.writeFileSync(SEGMENT, torn);
}

describe("Wal.open reads the durable mark at most twice", () => {
  it("a cleanly closed log: the binding carried over", async () => {
    const fs = await closedLog();
    const bound = (await readDurableMark(fs, DIR))?.binding;
    const counted = countingMarkReads(fs);
    const { wal } = await Wal.open<JsonValue>(DIR, { fs: counted.fs, codec: jsonCodec });
    expect(counted.reads()).toBe(2);
    await wal.close();
    expect((await readDurableMark(fs, DIR))?.binding).toEqual(bound);
  });

  it("a torn tail past the bound record: cut, and the binding carried over", async () => {
    const fs = await closedLog();
    appendTorn(fs);
    const counted = countingMarkReads(fs);
    const { wal, healed } = await Wal.open<JsonValue>(DIR, { fs: counted.fs, codec: jsonCodec });
    expect(healed.map((h) => h.kind)).toEqual(["tornTailTruncated"]);
    expect(counted.reads()).toBe(2);
    await wal.close();
  });

  it("a stale binding (its record no longer reads back): the mark is cut to 40 bytes and fsynced", async () => {
    const fs = await closedLog();
    // The log cut below the bound record by another writer: the commit record the mark names is gone.
    const segment = fs.readFileSync(SEGMENT);
    fs.writeFileSync(SEGMENT, segment.subarray(0, segment.byteLength - 25));
    const counted = countingMarkReads(fs);
    const { wal } = await Wal.open<JsonValue>(DIR, { fs: counted.fs, codec: jsonCodec, publishDurableLsn: false });
    expect(counted.reads()).toBe(2);
    expect(fs.durableImage().readFileSync(MARK).byteLength).toBe(DURABLE_MARK_BYTES);
    await wal.close();
  });
});
