/**
 * Review: `truncateTo` takes `dataEnd` (`#written`) before `#oneFlush` waits for a sync in flight (the background
 * one). A write that lands during that wait (it does not wait for the sync while it fits in the window) puts records
 * far past the cut, and `cutFile` is then told the data ends within 4 KiB of it: one step, the unsafe cut the two
 * steps exist for. Before the `dataEnd` shortcut `cutFile` read the tail and saw them.
 */

import { bytesCodec } from "@lora/wal-codec";
import { expect, it } from "vitest";
import type { WalFile } from "./fs/file-system.js";
import { SegmentWriter } from "./segment-writer.js";
import { SimFS } from "./testing/sim-fs.js";
import { boundProperty, wrapFileSystem } from "./testing/wrapped-fs.js";

const PATH = "/w/0000000001.wal";

it("a write during truncateTo's wait for the background sync is counted in the cut's dataEnd", async () => {
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
  const cut = writer.writtenBytes - 1000;
  const truncating = writer.truncateTo(cut);
  // truncateTo awaits only settled promises before it waits for the sync in flight: once the microtasks have run
  // (setImmediate runs after them), it is waiting there.
  await new Promise((r) => setImmediate(r));
  // 100 KiB more fits in the window: written now, past the cut, while truncateTo waits for the sync.
  writer.append({ kind: "mutation", lsn: 2, txBeginLsn: 1, event: new Uint8Array(100 * 1024).fill(2) }, bytesCodec);
  await writer.write();
  expect(sim.readFileSync(PATH).byteLength - cut).toBeGreaterThan(100 * 1024);
  open();
  await truncating;
  // Non-zero bytes lay 100 KiB past the cut when it was made: two steps.
  expect(truncates).toBe(2);
  await writer.close();
});
