/**
 * `SegmentWriter.truncateTo` cuts as `cutFile` does: in two steps when records lie more than 4 KiB past the cut, in
 * one over a zero tail, and it reads nothing when the writer knows where its data ends (it wrote it, or filled the
 * zeros); only a torn tail that `openForAppend` found past its offset is read to find out.
 */

import { bytesCodec } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import { CUT_STEP_BYTES } from "./cut-file.js";
import { SegmentWriter } from "./segment-writer.js";
import { countingFileSystem } from "./testing/counting-fs.js";
import { SimFS } from "./testing/sim-fs.js";

const PATH = "/w/0000000001.wal";

function setup() {
  const sim = SimFS.withDir("/w");
  const { fs, counts } = countingFileSystem(sim);
  let truncates = 0;
  sim.onOperation((e) => {
    if (e.op === "truncate" && e.path === PATH) truncates++;
  });
  return { sim, fs, counts, truncates: () => truncates };
}

async function writeRecords(writer: SegmentWriter, n: number, bytes: number): Promise<number[]> {
  const ends: number[] = [];
  for (let i = 0; i < n; i++) {
    writer.append({ kind: "mutation", lsn: i + 1, txBeginLsn: 1, event: new Uint8Array(bytes).fill(7) }, bytesCodec);
    await writer.flush();
    ends.push(writer.writtenBytes);
  }
  return ends;
}

describe("SegmentWriter.truncateTo's steps", () => {
  it("cuts records more than 4 KiB past the cut in two steps, reading nothing", async () => {
    const { sim, fs, counts, truncates } = setup();
    const writer = await SegmentWriter.create(fs, PATH, 1);
    const ends = await writeRecords(writer, 4, 3000);
    const cut = ends[0] as number;
    expect(writer.writtenBytes - cut).toBeGreaterThan(CUT_STEP_BYTES);
    await writer.truncateTo(cut);
    expect([truncates(), counts.totalBytesRead()]).toEqual([2, 0]);
    expect(sim.durableImage().readFileSync(PATH).byteLength).toBe(cut);
    await writer.close();
  });

  it("cuts a preallocated writer's records and zeros in one step when its records end within 4 KiB, reading nothing", async () => {
    const { sim, fs, counts, truncates } = setup();
    const writer = await SegmentWriter.create(fs, PATH, 1, { preallocateBytes: 1 << 20 });
    const ends = await writeRecords(writer, 2, 1000);
    const cut = ends[0] as number;
    expect(sim.readFileSync(PATH).byteLength).toBeGreaterThan(cut + CUT_STEP_BYTES);
    await writer.truncateTo(cut);
    expect([truncates(), counts.totalBytesRead()]).toEqual([1, 0]);
    expect(sim.durableImage().readFileSync(PATH).byteLength).toBe(cut);
    await writer.close();
  });

  it("reads a torn tail that openForAppend found, and cuts it in two steps when it holds data far past the cut", async () => {
    const { sim, fs, counts, truncates } = setup();
    const first = await SegmentWriter.create(fs, PATH, 1);
    const ends = await writeRecords(first, 3, 3000);
    await first.close();
    const cut = ends[0] as number;
    const writer = await SegmentWriter.openForAppend(fs, PATH, cut);
    const before = counts.totalBytesRead();
    await writer.truncateTo(cut);
    expect(truncates()).toBe(2);
    expect(counts.totalBytesRead() - before).toBeGreaterThan(0);
    expect(sim.durableImage().readFileSync(PATH).byteLength).toBe(cut);
    await writer.close();
  });
});

describe("SegmentWriter.truncateTo over a torn tail of one byte", () => {
  // `openForAppend` looks at every byte from its offset on: a torn tail whose one non-zero byte is the one at the
  // offset is still a torn tail, and a cut 4 KiB before it must take two steps (that byte lies past the first step).
  it("a lone non-zero byte exactly at the append offset, 4 KiB past the cut: cut in two steps", async () => {
    const { sim, fs, truncates } = setup();
    const first = await SegmentWriter.create(fs, PATH, 1);
    const ends = await writeRecords(first, 3, 3000);
    await first.close();
    const offset = ends[2] as number;
    const file = new Uint8Array(offset + 2 * CUT_STEP_BYTES);
    file.set(sim.readFileSync(PATH).subarray(0, offset));
    file[offset] = 0xab;
    sim.writeFileSync(PATH, file);
    const writer = await SegmentWriter.openForAppend(fs, PATH, offset);
    const cut = offset - CUT_STEP_BYTES;
    await writer.truncateTo(cut);
    expect(truncates()).toBe(2);
    expect(sim.durableImage().readFileSync(PATH).byteLength).toBe(cut);
    await writer.close();
  });
});
