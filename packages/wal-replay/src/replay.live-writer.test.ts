/**
 * Replay beside a live writer that is creating its newest segment: the walk may read that file in the instant
 * between its creation and its header's write, and look at it again only after the header landed (or after a
 * writer's recovery removed it as headerless). Neither is damage: the regression was `WAL_BAD_HEADER`.
 */

import { mkdtemp, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JsonValue, jsonCodec, WalError } from "@lora/wal-codec";
import { createNodeFileSystem, SegmentWriter, segmentPath } from "@lora/wal-segment";
import { blankFile, boundProperty, wrapFileSystem } from "@lora/wal-segment/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { tx } from "../test/build-log.js";
import { replayDir } from "./replay.js";
import { oldestRetainedLsn } from "./segment-locate.js";

const fs = createNodeFileSystem();
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-replay-live-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Segments 1..`count`, one transaction `{ id }` each (3 LSNs); all sealed but the newest. */
async function writeSegments(count: number): Promise<void> {
  for (let id = 1; id <= count; id++) {
    const w = await SegmentWriter.create(fs, segmentPath(dir, id), 3 * id - 2);
    for (const r of tx(3 * id - 2, [{ id }])) w.append(r, jsonCodec);
    if (id < count) await w.seal();
    else await w.flush();
    await w.close();
  }
}

/** A seam whose first open of segment `id` reads nothing; with `alsoRemove`, the file is removed during that read. */
function blankFirstOpen(id: number, alsoRemove: boolean) {
  const state = { fired: 0 };
  const seam = wrapFileSystem(fs, (file) => {
    if (state.fired > 0 || !file.path.endsWith(segmentPath("", id))) return file;
    state.fired++;
    return blankFile(file, async () => {
      if (alsoRemove) await unlink(file.path);
    });
  });
  return { state, seam };
}

async function replayAll(options: Parameters<typeof replayDir<JsonValue>>[1]) {
  const replay = replayDir<JsonValue>(dir, options);
  const events: JsonValue[] = [];
  for await (const t of replay) events.push(...t.events);
  return { events, outcome: await replay.outcome() };
}

describe("replayDir beside a writer creating its newest segment", () => {
  it("reads the newest segment whose header landed between the blank read and the look at the file", async () => {
    await writeSegments(2);
    const { state, seam } = blankFirstOpen(2, false);
    const { events, outcome } = await replayAll({ codec: jsonCodec, fs: seam });
    expect(events).toEqual([{ id: 1 }, { id: 2 }]);
    expect(outcome.headerlessLastSegment).toBeNull();
    expect(state.fired).toBe(1);
  });

  it("the same when it seeks with after (the search reads the newest header first)", async () => {
    await writeSegments(3);
    const { state, seam } = blankFirstOpen(3, false);
    const { events } = await replayAll({ codec: jsonCodec, fs: seam, after: 3 });
    expect(events).toEqual([{ id: 2 }, { id: 3 }]);
    expect(state.fired).toBe(1);
  });

  it("a newest segment read blank and removed before the second look held no records: headerless, size 0", async () => {
    await writeSegments(3);
    const { state, seam } = blankFirstOpen(3, true);
    const { events, outcome } = await replayAll({ codec: jsonCodec, fs: seam });
    expect(events).toEqual([{ id: 1 }, { id: 2 }]);
    expect(outcome.headerlessLastSegment).toMatchObject({ path: segmentPath(dir, 3), fileSize: 0 });
    expect(state.fired).toBe(1);
  });

  it("a header still unreadable at the second look stays WAL_BAD_HEADER", async () => {
    await writeSegments(2);
    // A whole header with its magic overwritten: not a write in progress, so not headerless.
    const file = await fs.open(segmentPath(dir, 2), "readWrite");
    await file.write(new Uint8Array([0x58, 0x58, 0x58, 0x58]), 0);
    await file.close();
    await expect(replayAll({ codec: jsonCodec, fs })).rejects.toMatchObject({ code: "WAL_BAD_HEADER" });
  });

  it("a zero-filled newest segment removed between the stat and the look for zeros: headerless, size 0", async () => {
    await writeSegments(1);
    // Segment 2 as a preallocating writer that died before its header landed leaves it: zeros only.
    const zeros = await fs.open(segmentPath(dir, 2), "createExclusive");
    await zeros.write(new Uint8Array(8192), 0);
    await zeros.close();
    let opensOf2 = 0;
    const seam = new Proxy(fs, {
      get(target, k) {
        if (k !== "open") return boundProperty(target, k);
        return async (path: string, mode: Parameters<typeof fs.open>[1]) => {
          // Open 1 reads the zero header; open 2 is the damage rules' look for zeros: a recovery removed it first.
          if (path === segmentPath(dir, 2) && ++opensOf2 === 2) await unlink(path);
          return target.open(path, mode);
        };
      },
    });
    const { events, outcome } = await replayAll({ codec: jsonCodec, fs: seam });
    expect(events).toEqual([{ id: 1 }]);
    expect(outcome.headerlessLastSegment).toMatchObject({ path: segmentPath(dir, 2), fileSize: 0 });
    expect(opensOf2).toBe(3); // the second look found it gone
  });

  it("an I/O error at the second look is thrown as it is, never taken for a bad header", async () => {
    await writeSegments(2);
    let opensOf2 = 0;
    const seam = new Proxy(fs, {
      get(target, k) {
        if (k !== "open") return boundProperty(target, k);
        return async (path: string, mode: Parameters<typeof fs.open>[1]) => {
          if (path !== segmentPath(dir, 2)) return target.open(path, mode);
          opensOf2++;
          const file = await target.open(path, mode);
          if (opensOf2 === 1) {
            return blankFile(file);
          }
          if (opensOf2 === 3) {
            await file.close();
            throw new WalError("WAL_IO", "EIO at the second look", { details: { errno: "EIO" } });
          }
          return file;
        };
      },
    });
    await expect(replayAll({ codec: jsonCodec, fs: seam })).rejects.toMatchObject({ code: "WAL_IO" });
    expect(opensOf2).toBe(3);
  });

  it("oldestRetainedLsn of a new log whose only segment has no header yet is null, and its base once it has one", async () => {
    const only = await fs.open(segmentPath(dir, 1), "createExclusive");
    await only.close();
    expect(await oldestRetainedLsn(dir, { fs })).toBeNull();
    await rm(segmentPath(dir, 1));
    await writeSegments(1);
    const { state, seam } = blankFirstOpen(1, false);
    expect(await oldestRetainedLsn(dir, { fs: seam })).toBe(1); // the header landed after the blank read
    expect(state.fired).toBe(1);
  });
});
