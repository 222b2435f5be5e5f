/**
 * A segment a follower reads replaced at its path by a new file of the same base LSN that the bytes cannot tell from
 * it: a copy holding the very same records up to where the follower read (a writer's `point-in-time` recovery, or
 * a restore, leaves such a file, and a new writer appends to it), or any new file of the same base before the
 * follower read a record of it (a fresh log in the same directory). Two writers that publish no durable mark: only
 * the path can tell the follower that the file it holds open is not the log's any more. The seam's file identity
 * tells (the Node seam and SimFS report one); the bytes could not, and the follower waited on the old file for ever.
 *
 * On SimFS and on real files. The follower runs on a testing clock (fake timers, `Date` included) with no watch, so
 * it is woken only by its polling timer: every wait is bounded by a count of timer firings.
 */

import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { followDir } from "@lora/wal-replay";
import { createNodeFileSystem, segmentPath, type WalFileSystem } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { nextWithin, pollTimers } from "./test-support/poll-follower.js";
import { Wal } from "./wal.js";

/** Timer firings the follower is given to deliver from the new file. */
const POLLS = 20;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
});
afterEach(() => {
  vi.useRealTimers();
});

interface Place {
  readonly fs: WalFileSystem;
  readonly dir: string;
  readonly bytes: (path: string) => Promise<Uint8Array>;
  /** Create `path` anew (it must not exist) holding `bytes`. */
  readonly create: (path: string, bytes: Uint8Array) => Promise<void>;
  readonly cleanup: () => Promise<void>;
}

const places: [string, () => Promise<Place>][] = [
  [
    "SimFS",
    () => {
      const fs = SimFS.withDir("/w");
      return Promise.resolve({
        fs,
        dir: "/w",
        bytes: (path: string) => Promise.resolve(fs.readFileSync(path)),
        create: (path: string, bytes: Uint8Array) => Promise.resolve(fs.writeFileSync(path, bytes)),
        cleanup: () => Promise.resolve(),
      });
    },
  ],
  [
    "real files",
    async () => {
      const dir = await mkdtemp(join(tmpdir(), "lora-wal-recreated-"));
      return {
        fs: createNodeFileSystem(),
        dir,
        bytes: async (path) => new Uint8Array(await readFile(path)),
        create: (path, bytes) => writeFile(path, bytes, { flag: "wx" }),
        cleanup: () => rm(dir, { recursive: true, force: true }),
      };
    },
  ],
];

/** Where the data of `bytes` ends: past its last non-zero byte. */
function dataEnd(bytes: Uint8Array): number {
  let end = bytes.byteLength;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return end;
}

const options = (fs: WalFileSystem) => ({ fs, codec: jsonCodec, syncMode: "none", publishDurableLsn: false }) as const;

describe.each(places)("a segment recreated at its path with the same base (%s)", (_name, make) => {
  let place: Place;
  beforeEach(async () => {
    place = await make();
  });
  afterEach(async () => {
    await place.cleanup();
  });

  it(`holding the very same bytes the follower read: it reads the new writer's transactions within ${POLLS} polls`, async () => {
    const { fs, dir } = place;
    const { wal } = await Wal.open<JsonValue>(dir, options(fs));
    for (let i = 0; i < 3; i++) await wal.commitTx([`o${i}`]);
    await wal.close();

    const stop = new AbortController();
    const follower = followDir<JsonValue>(dir, { fs, codec: jsonCodec, signal: stop.signal, watch: false });
    for (let i = 0; i < 3; i++) expect((await follower.next()).value?.events).toEqual([`o${i}`]);

    // The segment is moved aside and a copy of it takes its name, as a recovery or a restore leaves it: the same
    // base, the same records, the same zeros after them. The next writer (no mark either) appends to the copy.
    const first = segmentPath(dir, 1);
    const bytes = await place.bytes(first);
    await fs.rename(first, `${first}.broken`);
    await place.create(first, bytes);
    const next = await Wal.open<JsonValue>(dir, options(fs));
    for (let i = 0; i < 3; i++) await next.wal.commitTx([`n${i}`]);
    await next.wal.sync();
    // What the follower read is there as it read it, byte for byte, the new records after it.
    const now = await place.bytes(first);
    expect(now.subarray(0, dataEnd(bytes))).toEqual(bytes.subarray(0, dataEnd(bytes)));
    expect(dataEnd(now)).toBeGreaterThan(dataEnd(bytes));

    // o0 to o2 took LSNs 1 to 9: the new writer's first transaction follows them.
    expect(await nextWithin(follower, stop, POLLS)).toEqual([10, 12, ["n0"]]);
    await follower.return();
    await next.wal.close();
  });

  it(`new before the follower read any record of it: it reads the new writer's transactions within ${POLLS} polls`, async () => {
    const { fs, dir } = place;
    // A log with no transaction yet: segment 1 holds its header (and the writer's zeros) only.
    const { wal } = await Wal.open<JsonValue>(dir, options(fs));
    await wal.close();

    const stop = new AbortController();
    const follower = followDir<JsonValue>(dir, { fs, codec: jsonCodec, signal: stop.signal, watch: false });
    // It opens segment 1 and waits there a few wake-ups: nothing to read.
    let settled = false;
    const first = follower.next().finally(() => {
      settled = true;
    });
    await pollTimers(() => settled, 3);
    expect(settled).toBe(false);

    // The log is made again from nothing in the same directory: a new segment 1 of base 1.
    await fs.unlink(segmentPath(dir, 1));
    const next = await Wal.open<JsonValue>(dir, options(fs));
    for (let i = 0; i < 3; i++) await next.wal.commitTx([`n${i}`]);
    await next.wal.sync();

    await pollTimers(() => settled, POLLS);
    if (!settled) stop.abort();
    const n = await first;
    expect(n.done === true ? "waited" : [n.value.beginLsn, n.value.commitLsn, n.value.events]).toEqual([1, 3, ["n0"]]);
    await follower.return();
    await next.wal.close();
  });
});
