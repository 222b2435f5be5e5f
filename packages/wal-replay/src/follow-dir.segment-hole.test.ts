/**
 * A segment missing from the middle of the log (its neighbours still there) is a gap like one truncation leaves:
 * the follower reports it and never reads across it, also when the segment after the hole was named by a listing
 * it made before (it takes a successor from an earlier listing only when that one has the next id).
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { afterEach, beforeEach, expect, it } from "vitest";
import { tx, writeSegment } from "../test/build-log.js";
import { deliveriesUntilFailure } from "../test/deliveries-until-failure.js";
import { followDir } from "./follow-dir.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "follow-hole-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

it("a hole in the segment ids is WAL_TRUNCATED, and nothing after it is delivered", async () => {
  // Segments 1 (1..3), 2 (4..6) and 4 (10..12): segment 3, which held 7..9, is gone.
  await writeSegment(dir, 1, 1, tx(1, ["a"]), { sealed: true });
  await writeSegment(dir, 2, 4, tx(4, ["b"]), { sealed: true });
  await writeSegment(dir, 4, 10, tx(10, ["d"]));
  const follower = followDir<JsonValue>(dir, { codec: jsonCodec, watch: false, pollIntervalMs: 5 });
  // At most the three transactions the files hold: the loop never waits for one that does not come.
  const { delivered, failure } = await deliveriesUntilFailure(follower, 3);
  expect(delivered).not.toContain(12);
  expect(failure).toMatchObject({ code: "WAL_TRUNCATED" });
});

it("every transaction before the hole is delivered first, then the hole is WAL_TRUNCATED", async () => {
  // Segments 1 (1..6), 2 (7..12) and 4 (19..21): segment 3, which held 13..18, is gone.
  await writeSegment(dir, 1, 1, [...tx(1, ["a"]), ...tx(4, ["b"])], { sealed: true });
  await writeSegment(dir, 2, 7, [...tx(7, ["c"]), ...tx(10, ["d"])], { sealed: true });
  await writeSegment(dir, 4, 19, tx(19, ["f"]));
  const follower = followDir<JsonValue>(dir, { codec: jsonCodec, watch: false, pollIntervalMs: 5 });
  // One call more than the four transactions before the hole: it is the one that fails.
  const { delivered, failure } = await deliveriesUntilFailure(follower, 5);
  expect(delivered).toEqual([3, 6, 9, 12]);
  expect(failure).toMatchObject({ code: "WAL_TRUNCATED", details: { lsn: 12, oldestRetainedLsn: 19 } });
  expect(follower.position).toBe(12);
  // The follower is over, as after any failure.
  expect(await follower.next()).toEqual({ value: undefined, done: true });
});
