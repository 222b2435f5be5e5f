/**
 * A follower that syncs the log itself must sync every segment it read records from that are not known durable,
 * also a sealed one it has moved past: a sealed header says the segment is whole, not that its bytes reached the
 * disk (a writer other than `@lora/wal`'s may seal without an fsync). Here neither segment was ever synced, and no
 * mark says anything: the transaction delivered from the first must be in what a power loss leaves.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SegmentWriter, segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { type Rec, tx } from "../test/build-log.js";
import { followDir } from "./follow-dir.js";
import { readCommitted } from "./read-committed.js";

const DIR = "/wal";

/** The bytes of a segment holding `records`, built on a scratch file system. */
async function segmentBytes(id: number, baseLsn: number, records: readonly Rec[], sealed: boolean) {
  const scratch = SimFS.withDir(DIR);
  const w = await SegmentWriter.create(scratch, segmentPath(DIR, id), baseLsn);
  for (const r of records) w.append(r, jsonCodec);
  if (sealed) await w.seal();
  else await w.flush();
  await w.close();
  return scratch.readFileSync(segmentPath(DIR, id));
}

it("a self-sync covers a sealed segment passed before it, not only the one being read", async () => {
  const fs = SimFS.withDir(DIR);
  // Segment 1 (A, 1..3) sealed and segment 2 (B, 4..6), both written and never synced.
  const first = await segmentBytes(1, 1, tx(1, ["a"]), true);
  fs.writeFileSync(segmentPath(DIR, 1), first, { durable: false });
  fs.writeFileSync(segmentPath(DIR, 2), await segmentBytes(2, 4, tx(4, ["b"]), false), { durable: false });

  const follower = followDir<JsonValue>(DIR, { codec: jsonCodec, fs, pollIntervalMs: 5, selfSyncAfterMs: 0 });
  const a = await follower.next();
  expect(a.done === false && a.value.commitLsn).toBe(3);
  // Delivered, so durable: segment 1 whole in the durable image, and A read back from it.
  expect(fs.durableImage().readFileSync(segmentPath(DIR, 1))).toEqual(first);
  const durable: number[] = [];
  for await (const t of readCommitted<JsonValue>(DIR, { codec: jsonCodec, fs: fs.durableImage() })) {
    durable.push(t.commitLsn);
  }
  expect(durable).toContain(3);
  await follower.return();
});
