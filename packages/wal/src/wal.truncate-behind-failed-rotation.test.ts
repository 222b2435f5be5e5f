/**
 * A truncation that waits for a rotation runs only if the handle is still healthy when its turn comes: a rotation
 * that fails poisons the handle, and the truncation queued behind it is refused with `WAL_POISONED`, deleting
 * nothing (a poisoned handle may no longer own its directory).
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { Wal } from "./wal.js";

const DIR = "/w";

it("truncateUpTo issued while a rotation runs, which then fails, is refused WAL_POISONED and deletes nothing", async () => {
  const fs = SimFS.withDir(DIR);
  const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, segmentTargetBytes: 64 });
  for (let i = 0; i < 4; i++) await wal.commitTx([`e${i}`]);
  const segmentFiles = () => fs.listSync(DIR).filter((name) => name.endsWith(".wal"));
  const before = segmentFiles();
  expect(before).toHaveLength(4);
  const fence = wal.safeCheckpointLsn();
  // The next commit rotates (its segment is full); that rotation's directory fsync fails.
  fs.injectFault({ op: "syncDir", errno: "EIO" });
  const commit = wal.commitTx(["rotates"]).catch((e: unknown) => e);
  const truncation = wal.truncateUpTo(fence).catch((e: unknown) => e);
  expect(await commit).toMatchObject({ code: "WAL_IO" });
  expect(await truncation).toMatchObject({ code: "WAL_POISONED" });
  expect(segmentFiles().slice(0, 4)).toEqual(before);
  expect(wal.oldestSegmentId()).toBe(1);
  await wal.close().catch(() => undefined);
});
