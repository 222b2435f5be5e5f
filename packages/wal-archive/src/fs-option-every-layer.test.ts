/**
 * Every entry point that takes the file-system seam (`fs`) refuses a value that is not one with
 * `WAL_INVALID_OPTION`, naming the call and the missing method, before it reads or writes anything: it used to fail
 * with a `TypeError` from the middle of the call.
 */

import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wal } from "@lora/wal";
import { jsonCodec } from "@lora/wal-codec";
import {
  advanceSlot,
  createSlot,
  dropSlot,
  followDir,
  listSlots,
  oldestRetainedLsn,
  readCommitted,
  readSlot,
  replayDir,
  replaySegments,
} from "@lora/wal-replay";
import { fileSystemOption } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startArchiver } from "./archiver.js";
import { fsArchive } from "./fs-archive.js";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";

let parent: string;
let dir: string;
beforeEach(async () => {
  parent = await mkdtemp(join(tmpdir(), "lora-wal-fs-option-"));
  dir = join(parent, "wal");
});
afterEach(async () => {
  await rm(parent, { recursive: true, force: true });
});

/** A seam missing one method: `syncDir`. */
const noSyncDir = (() => {
  const sim = new SimFS();
  return {
    ...Object.fromEntries(
      ["open", "mkdirp", "readdir", "stat", "rename", "unlink"].map((m) => [m, sim[m as "open"].bind(sim)]),
    ),
  };
})();

/** The refusal of `where`, naming what is missing (a method) or what was given instead (`null`, `string`). */
const refusedBy = (where: string, missing: string) =>
  expect.objectContaining({
    code: "WAL_INVALID_OPTION",
    message: expect.stringMatching(
      new RegExp(`^${where.replace(".", "\\.")}: fs must be a WalFileSystem.*\\b${missing}\\b`),
    ),
  });

/** Each entry point, called with `fs`. */
const calls: [string, (fs: unknown) => unknown][] = [
  ["Wal.open", (fs) => Wal.open(dir, { codec: jsonCodec, fs: fs as never })],
  ["replayDir", (fs) => replayDir(dir, { codec: jsonCodec, fs: fs as never }).outcome()],
  [
    "replaySegments",
    (fs) => replaySegments([join(dir, "0000000001.wal")], { codec: jsonCodec, fs: fs as never }).outcome(),
  ],
  [
    "readCommitted",
    (fs) =>
      readCommitted(dir, { codec: jsonCodec, fs: fs as never })
        [Symbol.asyncIterator]()
        .next(),
  ],
  ["followDir", (fs) => followDir(dir, { codec: jsonCodec, fs: fs as never }).next()],
  ["oldestRetainedLsn", (fs) => oldestRetainedLsn(dir, { fs: fs as never })],
  ["createSlot", (fs) => createSlot(dir, "s", { fs: fs as never })],
  ["readSlot", (fs) => readSlot(dir, "s", { fs: fs as never })],
  ["advanceSlot", (fs) => advanceSlot(dir, "s", 1, { fs: fs as never })],
  ["dropSlot", (fs) => dropSlot(dir, "s", { fs: fs as never })],
  ["listSlots", (fs) => listSlots(dir, { fs: fs as never })],
  ["restore", (fs) => restore({ store: memoryArchive(), dir, fs: fs as never })],
  ["fsArchive", (fs) => fsArchive(dir, { fs: fs as never })],
  [
    "Archiver",
    (fs) =>
      startArchiver({ dir: () => dir, fsyncedLsn: () => 0, onLifecycle: () => () => undefined } as never, {
        store: memoryArchive(),
        fs: fs as never,
      }),
  ],
];

describe("an fs option that is not a WalFileSystem", () => {
  it.each(calls)(
    "is refused by %s, naming the call and what is missing, before touching anything",
    async (where, call) => {
      for (const [bad, missing] of [
        [{}, "open"],
        [noSyncDir, "syncDir"],
        [null, "null"],
        ["/tmp", "string"],
      ] as const) {
        let error: unknown;
        try {
          await call(bad);
        } catch (e) {
          error = e;
        }
        expect(error, `${where} with ${String(missing)}`).toEqual(refusedBy(where, missing));
      }
      expect(await readdir(parent)).toEqual([]);
    },
  );

  it("fileSystemOption: undefined is the Node file system, a seam is itself", () => {
    expect(fileSystemOption(undefined, "x").name).toBe("node");
    const sim = new SimFS();
    expect(fileSystemOption(sim, "x")).toBe(sim);
  });
});
