/**
 * Review: `truncateTo` took `dataEnd` (`#written`) before `#oneFlush` waited for a sync in flight (the background
 * one). A write that landed during that wait (it does not wait for the sync while it fits in the window) put records
 * far past the cut, and `cutFile` was then told the data ended within 4 KiB of it: one step, the unsafe cut the two
 * steps exist for. The cut now holds the write slot from its call: such a write waits for it and lands after it, and
 * the data end the cut is given is the one it cuts.
 */

import { bytesCodec, encodeRecord, type WalRecord } from "@lora/wal-codec";
import { expect, it } from "vitest";
import { SegmentWriter } from "./segment-writer.js";
import { heldFileOps } from "./test-support/held-file-ops.js";
import { SimFS } from "./testing/sim-fs.js";

const PATH = "/w/0000000001.wal";

it("a write called during truncateTo's wait for the background sync waits for the cut and lands after it", async () => {
  const sim = SimFS.withDir("/w");
  // fdatasyncs held (their blocking twin hidden) once the writer is made.
  const io = heldFileOps(sim, { blocking: false });
  const fs = io.fs;
  let truncates = 0;
  sim.onOperation((e) => {
    if (e.op === "truncate" && e.path === PATH) truncates++;
  });
  const writer = await SegmentWriter.create(fs, PATH, 1);
  io.hold("datasync");
  // 600 KiB unsynced: more than half the 1 MiB window starts the background sync, held at the gate.
  writer.append({ kind: "mutation", lsn: 1, txBeginLsn: 1, event: new Uint8Array(600 * 1024).fill(1) }, bytesCodec);
  await writer.write();
  const end = writer.writtenBytes;
  const cut = end - 1000;
  const truncating = writer.truncateTo(cut);
  // truncateTo awaits only settled promises before it waits for the sync in flight: once the microtasks have run
  // (setImmediate runs after them), it is waiting there.
  await new Promise((r) => setImmediate(r));
  // 100 KiB more would fit in the window, but the cut holds the write slot: not written while it waits.
  const second: WalRecord<Uint8Array> = {
    kind: "mutation",
    lsn: 2,
    txBeginLsn: 1,
    event: new Uint8Array(100 * 1024).fill(2),
  };
  writer.append(second, bytesCodec);
  const writing = writer.write();
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  expect(sim.readFileSync(PATH).byteLength).toBe(end);
  io.release("datasync");
  await truncating;
  await writing;
  // Only 1000 bytes lay past the cut when it was made: one step. The record then landed at the new end.
  expect(truncates).toBe(1);
  expect(writer.writtenBytes).toBe(cut + encodeRecord(second, bytesCodec).byteLength);
  expect(sim.readFileSync(PATH).subarray(cut)).toEqual(encodeRecord(second, bytesCodec));
  await writer.close();
});
