/**
 * A follower whose restart point is the one LSN a truncation removes while the follower opens its segment: the
 * open finds the file gone, and the follower looks again rather than failing. Only that LSN is missing, and a token
 * naming it is read (the one-missing-LSN rule of `canRestartFrom`); two or more missing are `WAL_TRUNCATED`.
 */

import { unlink } from "node:fs/promises";
import { makeTempDir } from "@lora/test-utils";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { createNodeFileSystem, segmentPath } from "@lora/wal-segment";
import { interceptOpen } from "@lora/wal-segment/testing";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { tx, writeSegment } from "../test/build-log.js";
import { followDir } from "./follow-dir.js";

const fs = createNodeFileSystem();
let dir: string;
let cleanup: () => Promise<void>;
const stop = new AbortController();
beforeEach(async () => {
  ({ path: dir, cleanup } = await makeTempDir("lora-wal-lone-missing"));
});
afterEach(async () => await cleanup());
afterAll(() => stop.abort());

/** Three segments of one transaction each: 1..3, 4..6 (sealed) and 7..9 (the active one). */
async function threeSegments(): Promise<void> {
  for (let id = 1; id <= 3; id++)
    await writeSegment(dir, id, (id - 1) * 3 + 1, tx((id - 1) * 3 + 1, [id]), { sealed: id < 3 });
}

/**
 * A seam whose second open of segment 1 finds it removed: the first is the lookup's (it reads the header to learn the
 * base LSN), the second the follower's open for reading, so a truncation ran between the two.
 */
function truncatedOnOpen() {
  const state = { opens: 0, removed: 0 };
  const seam = interceptOpen(fs, async (path, mode, next) => {
    if (path === segmentPath(dir, 1) && ++state.opens === 2) {
      state.removed++;
      await unlink(path);
    }
    return await next(path, mode);
  });
  return { state, seam };
}

describe("a truncation between a follower's lookup and its open", () => {
  it("removing only the restart LSN: the follower looks again and delivers what follows", async () => {
    await threeSegments();
    const { state, seam } = truncatedOnOpen();
    // Restart at 3, the last LSN of segment 1 (a commit): once segment 1 is gone, 3 alone is missing.
    const follower = followDir<JsonValue>(dir, {
      codec: jsonCodec,
      fs: seam,
      after: 2,
      restartLsn: 3,
      durability: "written",
      watch: false,
      pollIntervalMs: 1,
      signal: stop.signal,
    });
    const first = await follower.next();
    const second = await follower.next();
    expect(state.removed).toBe(1);
    expect([first.value?.commitLsn, second.value?.commitLsn]).toEqual([6, 9]);
    await follower.return();
  });

  it("removing more than the restart LSN: WAL_TRUNCATED", async () => {
    await threeSegments();
    const { state, seam } = truncatedOnOpen();
    const follower = followDir<JsonValue>(dir, {
      codec: jsonCodec,
      fs: seam,
      after: 1,
      restartLsn: 2,
      durability: "written",
      watch: false,
      pollIntervalMs: 1,
      signal: stop.signal,
    });
    await expect(follower.next()).rejects.toMatchObject({ code: "WAL_TRUNCATED", details: { oldestRetainedLsn: 4 } });
    expect(state.removed).toBe(1);
  });
});
