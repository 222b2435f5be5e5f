/**
 * A follower that meets damage it cannot get past (here a CRC mismatch in a sealed segment that has a successor,
 * `WAL_CORRUPT`) first delivers every committed transaction it read before it, as `readCommitted` returns them
 * before it throws: they are whole, CRC-checked records of the log. The `next()` after the last of them rejects.
 */

import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { afterEach, beforeEach, expect, it } from "vitest";
import { flipBit, tx, writeSegment } from "../test/build-log.js";
import { deliveriesUntilFailure } from "../test/deliveries-until-failure.js";
import { followDir } from "./follow-dir.js";
import { readCommitted } from "./read-committed.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "follow-damage-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

it("the transactions before damage in a sealed segment are delivered, then WAL_CORRUPT", async () => {
  await writeSegment(dir, 1, 1, [...tx(1, ["a"]), ...tx(4, ["b"])], { sealed: true });
  const second = await writeSegment(dir, 2, 7, [...tx(7, ["c"]), ...tx(10, ["d"])], { sealed: true });
  await writeSegment(dir, 3, 13, tx(13, ["e"]));
  // The last byte of segment 2's last record (the commit at 12, in its CRC): the transaction at 10 is lost.
  const { size } = await stat(second);
  await flipBit(second, size - 1);

  const expected: number[] = [];
  let readFailure: unknown;
  try {
    for await (const t of readCommitted<JsonValue>(dir, { codec: jsonCodec })) expected.push(t.commitLsn);
  } catch (error) {
    readFailure = error;
  }
  expect(expected).toEqual([3, 6, 9]);
  expect(readFailure).toMatchObject({ code: "WAL_CORRUPT" });

  const follower = followDir<JsonValue>(dir, { codec: jsonCodec, watch: false, pollIntervalMs: 5 });
  // One call more than the transactions before the damage: it is the one that fails.
  const { delivered, failure } = await deliveriesUntilFailure(follower, expected.length + 1);
  expect(delivered).toEqual(expected);
  expect(failure).toMatchObject({ code: "WAL_CORRUPT", details: { segment: second } });
});
