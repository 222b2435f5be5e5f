/**
 * A `sync()` called while `truncateTo`'s flush runs waits for it, then starts at once, before `truncateTo` had set the
 * written end to the cut: it counted the bytes cut off as synced (`unsyncedBytes` went negative, so later writes could
 * leave more than the window unsynced). The cut now moves the written and synced ends inside its flush. Real files.
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesCodec } from "@lora/wal-codec";
import { afterEach, beforeEach, expect, it } from "vitest";
import { createNodeFileSystem } from "./fs/node-file-system.js";
import { SegmentWriter } from "./segment-writer.js";
import { heldFileOps } from "./test-support/held-file-ops.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-trunc-sync-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

it("a sync made while the cut's flush runs does not count the bytes cut off as synced", async () => {
  const io = heldFileOps(createNodeFileSystem());
  const writer = await SegmentWriter.create(io.fs, join(dir, "0000000001.wal"), 1);
  writer.append({ kind: "mutation", lsn: 1, txBeginLsn: 1, event: new Uint8Array(100) }, bytesCodec);
  await writer.flush();
  const cut = writer.writtenBytes;
  writer.append({ kind: "mutation", lsn: 2, txBeginLsn: 1, event: new Uint8Array(5000).fill(2) }, bytesCodec);
  await writer.flush();
  io.hold("truncate");
  const truncating = writer.truncateTo(cut);
  await io.untilHeld("truncate");
  // Waits for the cut's flush, and starts as soon as it has finished.
  const syncing = writer.sync();
  io.release("truncate");
  await Promise.all([truncating, syncing]);
  expect(writer.writtenBytes).toBe(cut);
  expect(writer.unsyncedBytes).toBe(0);
  await writer.close();
});
