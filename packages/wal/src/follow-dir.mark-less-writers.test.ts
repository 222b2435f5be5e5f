/**
 * Two writers in a row that both publish no durable mark (LoraDB's engine, a handle with `publishDurableLsn: false`),
 * the second one's `point-in-time` recovery moving the segment a follower reads aside (`<seg>.broken`) and creating a
 * segment of the same name in its place. No mark ever tells the follower that a writer restarted, and the file it
 * holds open never changes again: only the path, now naming another file, can tell it. It must read the new history
 * from there, neither wait on the moved file for ever nor move on from it into the new history's later segments.
 *
 * On SimFS and on real files. The follower runs on a testing clock (fake timers, `Date` included) with no watch, so
 * it is woken only by its polling timer: every wait is bounded by a count of timer firings.
 */

import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { followDir } from "@lora/wal-replay";
import { createNodeFileSystem, decodeSegmentHeader, segmentPath, type WalFileSystem } from "@lora/wal-segment";
import { boundProperty, interceptOpen, SimFS } from "@lora/wal-segment/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { nextWithin } from "./test-support/poll-follower.js";
import { offsetOf } from "./test-support/record-offset.js";
import { Wal } from "./wal.js";

/** Timer firings the follower is given to deliver from the new history. */
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
  readonly write: (path: string, bytes: Uint8Array) => Promise<void>;
}

const places: [string, () => Promise<Place & { cleanup: () => Promise<void> }>][] = [
  [
    "SimFS",
    () => {
      const fs = SimFS.withDir("/w");
      return Promise.resolve({
        fs,
        dir: "/w",
        bytes: (path: string) => Promise.resolve(fs.readFileSync(path)),
        write: (path: string, bytes: Uint8Array) => Promise.resolve(fs.writeFileSync(path, bytes)),
        cleanup: () => Promise.resolve(),
      });
    },
  ],
  [
    "real files",
    async () => {
      const dir = await mkdtemp(join(tmpdir(), "lora-wal-markless-"));
      return {
        fs: createNodeFileSystem(),
        dir,
        bytes: async (path) => new Uint8Array(await readFile(path)),
        write: (path, bytes) => writeFile(path, bytes),
        cleanup: () => rm(dir, { recursive: true, force: true }),
      };
    },
  ],
];

/** Flip a bit inside the record at `lsn` (in segment 1): `point-in-time` recovery cuts there. */
async function rot(place: Place, lsn: number): Promise<void> {
  const first = segmentPath(place.dir, 1);
  const bytes = await place.bytes(first);
  const at = (await offsetOf(place.fs, first, lsn)) + 20;
  bytes[at] = (bytes[at] as number) ^ 0x01;
  await place.write(first, bytes);
}

describe.each(places)("two mark-less writers in a row (%s)", (_name, make) => {
  let place: Place & { cleanup: () => Promise<void> };
  beforeEach(async () => {
    place = await make();
  });
  afterEach(async () => {
    await place.cleanup();
  });

  it(`a follower at the end of a segment moved aside reads the new history within ${POLLS} polls`, async () => {
    const { fs, dir } = place;
    const options = { fs, codec: jsonCodec, syncMode: "none", publishDurableLsn: false } as const;
    const { wal } = await Wal.open<JsonValue>(dir, { ...options, segmentTargetBytes: 200 });
    for (let i = 0; i < 5; i++) await wal.commitTx([`o${i}`]);
    expect(wal.activeSegmentId()).toBe(2);
    await wal.close();

    const stop = new AbortController();
    const follower = followDir<JsonValue>(dir, { fs, codec: jsonCodec, signal: stop.signal, watch: false });
    for (let i = 0; i < 5; i++) expect((await follower.next()).value?.events).toEqual([`o${i}`]);

    // The second transaction's begin (LSN 4) rots: the next writer, publishing no mark either, cuts there and moves
    // segment 2, the one the follower reads, aside, then writes from LSN 4 on.
    await rot(place, 4);
    const reopened = await Wal.open<JsonValue>(dir, { ...options, recovery: "point-in-time" });
    expect(reopened.healed).toMatchObject([
      { kind: "corruptionCut", laterSegmentsMoved: [`${segmentPath(dir, 2)}.broken`] },
      { kind: "sealedSegmentSucceeded", created: segmentPath(dir, 2) },
    ]);
    for (let i = 0; i < 6; i++) await reopened.wal.commitTx([`n${i}`]);
    await reopened.wal.sync();

    // It delivered up to 15 (the old history's last commit); the new history's transactions below are skipped.
    expect(await nextWithin(follower, stop, POLLS)).toEqual([16, 18, ["n4"]]);
    await follower.return();
    await reopened.wal.close();
  });

  it(`a follower on a later segment that a new history recreates with the same base reads on within ${POLLS} polls`, async () => {
    const { fs, dir } = place;
    const options = {
      fs,
      codec: jsonCodec,
      syncMode: "none",
      publishDurableLsn: false,
      segmentTargetBytes: 200,
    } as const;
    const { wal } = await Wal.open<JsonValue>(dir, options);
    for (let i = 0; i < 10; i++) await wal.commitTx([`o${i}`]);
    const last = wal.activeSegmentId();
    expect(last).toBeGreaterThan(3);
    await wal.close();

    const stop = new AbortController();
    const follower = followDir<JsonValue>(dir, { fs, codec: jsonCodec, signal: stop.signal, watch: false });
    for (let i = 0; i < 10; i++) expect((await follower.next()).value?.events).toEqual([`o${i}`]);

    // Segment 2's first record (LSN 10) rots: the next writer (no mark either) cuts there, moves the later segments
    // aside and goes on from LSN 11 in a new segment 3. Its first two transactions hold two batch records each and its
    // segments are larger, so its segment 3 ends at LSN 27 as the first writer's did, and its segment 4 starts at
    // 28 with a transaction of the size the follower read there: the same name, base and commit marker (LSN 30, at
    // the same place) as the file the follower reads. Only the events before that marker differ.
    const before = await place.bytes(segmentPath(dir, last));
    const second = segmentPath(dir, 2);
    const bytes = await place.bytes(second);
    bytes[32 + 20] = (bytes[32 + 20] as number) ^ 0x01;
    await place.write(second, bytes);
    const reopened = await Wal.open<JsonValue>(dir, { ...options, segmentTargetBytes: 450, recovery: "point-in-time" });
    expect(reopened.healed[0]).toMatchObject({ kind: "corruptionCut" });
    for (let i = 0; i < 2; i++) {
      const tx = await reopened.wal.begin();
      await reopened.wal.appendBatch(tx, [`n${i}`]);
      await reopened.wal.appendBatch(tx, [`m${i}`]);
      await reopened.wal.commit(tx);
    }
    for (let i = 2; i < 9; i++) await reopened.wal.commitTx([`n${i}`]);
    await reopened.wal.sync();
    // The same name and base, at least as long, other bytes.
    const now = await place.bytes(segmentPath(dir, last));
    expect(decodeSegmentHeader(now.subarray(0, 32)).baseLsn).toBe(decodeSegmentHeader(before.subarray(0, 32)).baseLsn);
    expect(now.byteLength).toBeGreaterThanOrEqual(before.byteLength);
    expect(now.subarray(32, before.byteLength)).not.toEqual(before.subarray(32));

    // The first writer's last commit was LSN 30: the new history's transactions after it.
    expect(await nextWithin(follower, stop, POLLS)).toEqual([31, 33, ["n6"]]);
    await follower.return();
    await reopened.wal.close();
  });

  it("a follower behind, on a sealed segment moved aside, reads the new history whole and none of the moved one", async () => {
    const { fs, dir } = place;
    const options = { fs, codec: jsonCodec, syncMode: "none", publishDurableLsn: false } as const;
    const { wal } = await Wal.open<JsonValue>(dir, { ...options, segmentTargetBytes: 200 });
    for (let i = 0; i < 5; i++) await wal.commitTx([`o${i}`]);
    expect(wal.activeSegmentId()).toBe(2);

    const stop = new AbortController();
    const follower = followDir<JsonValue>(dir, { fs, codec: jsonCodec, signal: stop.signal, watch: false });
    for (let i = 0; i < 5; i++) expect((await follower.next()).value?.events).toEqual([`o${i}`]);
    // The writer goes on while the follower rests at the end of segment 2: segment 2 is sealed, more come after it.
    for (let i = 5; i < 12; i++) await wal.commitTx([`o${i}`]);
    expect(wal.activeSegmentId()).toBeGreaterThan(3);
    await wal.close();

    // The next writer cuts at LSN 4 and moves segment 2 and every later one aside. Its segments are larger: its
    // segment 3 starts past every LSN of the moved segment 2.
    await rot(place, 4);
    const reopened = await Wal.open<JsonValue>(dir, { ...options, segmentTargetBytes: 600, recovery: "point-in-time" });
    expect(reopened.healed[0]).toMatchObject({ kind: "corruptionCut" });
    for (let i = 0; i < 30; i++) await reopened.wal.commitTx([`n${i}`]);
    await reopened.wal.sync();
    expect(reopened.wal.activeSegmentId()).toBeGreaterThan(3);

    // Everything after the last delivered commit (15), as the new history holds it: from n4 on, each once, in order.
    const got: JsonValue[] = [];
    for (let i = 4; i < 30; i++) {
      const n = await nextWithin(follower, stop, POLLS);
      if (n === "waited") break;
      got.push(...n[2]);
      if (typeof n[2][0] === "string" && n[2][0].startsWith("o")) break; // the moved history: no need to go on
    }
    expect(got).toEqual(Array.from({ length: 26 }, (_, i) => `n${i + 4}`));
    await follower.return();
    await reopened.wal.close();
  });

  it("more than 1024 transactions read before a cut that lands during the follower's self-sync are all dropped", async () => {
    const { fs: base, dir } = place;
    const options = { fs: base, codec: jsonCodec, syncMode: "none", publishDurableLsn: false } as const;
    const first = await Wal.open<JsonValue>(dir, { ...options, segmentTargetBytes: 200 });
    for (let i = 0; i < 5; i++) await first.wal.commitTx([`o${i}`]);
    await first.wal.close();
    // Segment 2 gets 3000 transactions more: a follower reads 1024 into its queue and holds the rest of its first
    // read (256 KiB) in its read buffer before it syncs.
    const second = await Wal.open<JsonValue>(dir, { ...options, segmentTargetBytes: 1 << 20 });
    for (let i = 5; i < 3005; i++) await second.wal.commitTx([`o${i}`]);
    expect(second.wal.activeSegmentId()).toBe(2);
    await second.wal.close();

    // The next writer (no mark either) opens in `point-in-time` just as the follower starts its self-sync (its open
    // of segment 1 after it read records of segment 2): it cuts at LSN 4, moves segment 2 aside, creates a new one.
    let reopened: Awaited<ReturnType<typeof Wal.open<JsonValue>>> | undefined;
    let readSecond = false;
    const fs = interceptOpen(base, async (path, mode, open) => {
      if (mode === "read" && path === segmentPath(dir, 1) && readSecond && reopened === undefined) {
        await rot(place, 4);
        reopened = await Wal.open<JsonValue>(dir, { ...options, recovery: "point-in-time" });
        for (let i = 0; i < 10; i++) await reopened.wal.commitTx([`n${i}`]);
      }
      const file = await open(path, mode);
      if (path !== segmentPath(dir, 2)) return file;
      // A read past the header is the reader reading records.
      return new Proxy(file, {
        get(target, key) {
          if (key !== "read" && key !== "readSync") return boundProperty(target, key);
          const read = boundProperty(target, key) as (b: Uint8Array, o: number, l: number, p: number) => unknown;
          return (b: Uint8Array, o: number, l: number, p: number) => {
            if (p >= 32 && l > 4) readSecond = true;
            return read(b, o, l, p);
          };
        },
      });
    });
    const stop = new AbortController();
    const follower = followDir<JsonValue>(dir, { fs, codec: jsonCodec, signal: stop.signal, watch: false });

    // o0 (LSNs 1 to 3) is before the cut; then the new history, none of the moved segment's transactions.
    const got: JsonValue[] = [];
    for (let i = 0; i < 11; i++) {
      const n = await nextWithin(follower, stop, POLLS);
      if (n === "waited") break;
      got.push(...n[2]);
    }
    expect(reopened?.healed[0]).toMatchObject({
      kind: "corruptionCut",
      laterSegmentsMoved: [`${segmentPath(dir, 2)}.broken`],
    });
    expect(got).toEqual(["o0", ...Array.from({ length: 10 }, (_, i) => `n${i}`)]);
    await follower.return();
    await reopened?.wal.close();
  });
});
