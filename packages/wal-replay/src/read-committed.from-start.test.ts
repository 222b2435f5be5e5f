import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { tx, writeSegment } from "../test/build-log.js";
import { readCommitted } from "./read-committed.js";
import type { CommittedTransaction } from "./replay-types.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-read-from-start-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function commitLsns(after: number): Promise<number[]> {
  const out: CommittedTransaction<JsonValue>[] = [];
  for await (const t of readCommitted(dir, { codec: jsonCodec, after })) out.push(t);
  return out.map((t) => t.commitLsn);
}

/*
 * `after: 0` (the default) asks for the whole history. Its resume point then equals the fence (0), and a log whose
 * oldest segments were truncated away is the change feed's error, with its one-missing-LSN rule, as for any other
 * resume point: not a fence error.
 */
describe("readCommitted from the start of a log whose oldest segments are gone", () => {
  it("is WAL_TRUNCATED naming the oldest retained LSN when two or more LSNs are gone", async () => {
    await writeSegment(dir, 2, 5, tx(5, ["a"]));
    await expect(commitLsns(0)).rejects.toMatchObject({
      code: "WAL_TRUNCATED",
      details: { lsn: 0, oldestRetainedLsn: 5 },
    });
  });

  it("reads on when only LSN 1 is gone (one LSN cannot hold a committed transaction)", async () => {
    await writeSegment(dir, 2, 2, [...tx(2, ["a"]), ...tx(5, ["b"])]);
    expect(await commitLsns(0)).toEqual([4, 7]);
  });
});
