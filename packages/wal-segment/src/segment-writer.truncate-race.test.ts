/**
 * Review: `truncateTo` took `dataEnd` (`#written`) before `#oneFlush` waited for a sync in flight (the background
 * one). A write that landed during that wait (it does not wait for the sync while it fits in the window) put records
 * far past the cut, and `cutFile` was then told the data ended within 4 KiB of it: one step, the unsafe cut the two
 * steps exist for. The cut now holds the write slot from its call: such a write waits for it and lands after it, and
 * the data end the cut is given is the one it cuts.
 */

import { bytesCodec, encodeRecord, type WalRecord } from "@lora/wal-codec";
import { expect, it } from "vitest";
import type { WalFile } from "./fs/file-system.js";
import { SegmentWriter } from "./segment-writer.js";
import { SimFS } from "./testing/sim-fs.js";
import { boundProperty, wrapFileSystem } from "./testing/wrapped-fs.js";

const PATH = "/w/0000000001.wal";

it("a write called during truncateTo's wait for the background sync waits for the cut and lands after it", async () => {
  const sim = SimFS.withDir("/w");
  let gate: Promise<void> | undefined;
  let open: () => void = () => undefined;
  const fs = wrapFileSystem(
    sim,
    (file: WalFile) =>
      new Proxy(file, {
        get(target, key) {
          if (key === "datasync")
            return async () => {
              if (gate !== undefined) await gate;
              return target.datasync();
            };
          if (key === "datasyncSync") return undefined;
          return boundProperty(target, key);
        },
      }),
  );
  let truncates = 0;
  sim.onOperation((e) => {
    if (e.op === "truncate" && e.path === PATH) truncates++;
  });
  const writer = await SegmentWriter.create(fs, PATH, 1);
  gate = new Promise<void>((resolve) => {
    open = resolve;
  });
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
  open();
  await truncating;
  await writing;
  // Only 1000 bytes lay past the cut when it was made: one step. The record then landed at the new end.
  expect(truncates).toBe(1);
  expect(writer.writtenBytes).toBe(cut + encodeRecord(second, bytesCodec).byteLength);
  expect(sim.readFileSync(PATH).subarray(cut)).toEqual(encodeRecord(second, bytesCodec));
  await writer.close();
});
