/**
 * What a torn-tail heal reads of the segment it cuts. The `.broken` copy reads every byte of the tail; the cut must
 * then know whether data lies more than 4 KiB past the damage (two steps) or only zeros (one). The heal used to read
 * the tail again to find out, so a small torn tail before a preallocating writer's zeros had every zero read twice
 * after replay; the copy now says where the tail's data ends. With no room for the copy, the tail was not read, and
 * the cut reads it as before. Counted at the file-system seam.
 */

import { bytesCodec } from "@lora/wal-codec";
import { segmentPath } from "@lora/wal-segment";
import { countingFileSystem, SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { tornLog } from "./test-support/torn-log.js";
import { Wal } from "./wal.js";

const DIR = "/w";
const SEGMENT = segmentPath(DIR, 1);
const MIB = 1024 * 1024;

/** A torn 2 KiB write of garbage, then `zeros` zero bytes (a preallocating writer's). */
function smallTornTail(zeros: number): Uint8Array {
  const tail = new Uint8Array(2048 + zeros);
  tail.fill(0xab, 0, 2048);
  return tail;
}

/**
 * Open the log of `tail`; the bytes of the segment read in all, and those read between the end of the `.broken` copy
 * (its last operation) and the first cut, and how many cuts the segment took.
 */
async function heal(tail: Uint8Array, options: { noRoom?: boolean } = {}) {
  const sim = SimFS.withDir(DIR);
  const { bytes, committed, cutAt } = tornLog(() => tail);
  sim.writeFileSync(SEGMENT, bytes);
  if (options.noRoom === true) sim.injectFault({ op: "write", path: /\.broken$/, errno: "ENOSPC", persistent: true });
  const { fs, counts } = countingFileSystem(sim);
  const readSoFar = (): number => counts.bytesRead.get(SEGMENT) ?? 0;
  let afterCopy = 0;
  let atFirstCut: number | undefined;
  let cuts = 0;
  const off = sim.onOperation((e) => {
    if (e.path.endsWith(".broken")) afterCopy = readSoFar();
    if (e.op === "truncate" && e.path === SEGMENT && cuts++ === 0) atFirstCut = readSoFar();
  });
  const { wal, events, healed } = await Wal.open<Uint8Array>(DIR, { fs, codec: bytesCodec });
  off();
  await wal.close();
  expect(events).toEqual(committed);
  expect(healed).toMatchObject([{ kind: "tornTailTruncated", offset: cutAt, droppedBytes: tail.byteLength }]);
  expect(sim.readFileSync(SEGMENT).byteLength).toBe(cutAt);
  return { total: readSoFar(), beforeCut: (atFirstCut ?? 0) - afterCopy, cuts, healed };
}

it("a heal of a small torn tail before 8 MiB of zeros reads none of them again after the copy, and cuts once", async () => {
  const { total, beforeCut, cuts, healed } = await heal(smallTornTail(8 * MIB));
  expect(healed).toMatchObject([{ brokenCopy: `${SEGMENT}.${tornLog(() => new Uint8Array(0)).cutAt}.broken` }]);
  expect(beforeCut).toBe(0);
  expect(cuts).toBe(1);
  // Replay's look at the zeros and the copy's: each byte of the tail read at most twice.
  expect(total).toBeLessThanOrEqual(2 * (8 * MIB + 2048) + MIB);
});

it("a heal of a torn tail with data far past the damage reads nothing after the copy, and cuts in two steps", async () => {
  const tail = new Uint8Array(512 * 1024).fill(0xab);
  const { beforeCut, cuts } = await heal(tail);
  expect(beforeCut).toBe(0);
  expect(cuts).toBe(2);
});

it("with no room for the copy, the cut still reads the tail to choose its steps", async () => {
  const data = await heal(new Uint8Array(512 * 1024).fill(0xab), { noRoom: true });
  expect(data.healed).toMatchObject([{ brokenCopy: null, copyError: "ENOSPC" }]);
  expect(data.cuts).toBe(2);
  expect(data.beforeCut).toBeGreaterThan(0);
  const zeros = await heal(smallTornTail(MIB), { noRoom: true });
  expect(zeros.healed).toMatchObject([{ brokenCopy: null, copyError: "ENOSPC" }]);
  expect(zeros.cuts).toBe(1);
  // The zeros past 4 KiB after the damage were read to find that out.
  expect(zeros.beforeCut).toBeGreaterThanOrEqual(2048 + MIB - 4096);
});
