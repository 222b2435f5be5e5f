/**
 * `SegmentWriter.truncateTo(offset)` with an offset that is not an integer is the caller's mistake: refused with
 * `WAL_INVALID_ARGUMENT` before anything is dropped, and the writer stays usable (`NaN` passes every range
 * comparison, and the Node seam's `ftruncate` throws a plain `RangeError` for it).
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesCodec } from "@lora/wal-codec";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { WalFileSystem } from "./fs/file-system.js";
import { createNodeFileSystem } from "./fs/node-file-system.js";
import { SegmentReader } from "./segment-reader.js";
import { SegmentWriter } from "./segment-writer.js";
import { SimFS } from "./testing/sim-fs.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-trunc-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function kindsIn(fs: WalFileSystem, path: string): Promise<string[]> {
  const reader = await SegmentReader.open(fs, path);
  const kinds: string[] = [];
  try {
    for (let step = await reader.next(bytesCodec); step.kind === "record"; step = await reader.next(bytesCodec)) {
      kinds.push(step.record.kind);
    }
  } finally {
    await reader.close();
  }
  return kinds;
}

const seams: readonly (readonly [string, () => { fs: WalFileSystem; dir: string }])[] = [
  ["node", () => ({ fs: createNodeFileSystem(), dir })],
  ["sim", () => ({ fs: SimFS.withDir("/w"), dir: "/w" })],
];

describe.each(seams)("SegmentWriter.truncateTo on the %s seam", (_name, make) => {
  it.each([Number.NaN, 40.5, Number.POSITIVE_INFINITY, "40" as unknown as number])(
    "refuses %s with WAL_INVALID_ARGUMENT and keeps the pending records and the writer",
    async (offset) => {
      const { fs, dir: at } = make();
      const path = join(at, "0000000001.wal");
      const writer = await SegmentWriter.create(fs, path, 1);
      writer.append({ kind: "txBegin", lsn: 1 }, bytesCodec);
      await writer.flush();
      writer.append({ kind: "txCommit", lsn: 2, txBeginLsn: 1 }, bytesCodec);
      await expect(writer.truncateTo(offset)).rejects.toMatchObject({ name: "WalError", code: "WAL_INVALID_ARGUMENT" });
      await writer.flush();
      await writer.close();
      expect(await kindsIn(fs, path)).toEqual(["txBegin", "txCommit"]);
    },
  );
});
