/**
 * One fdatasync at a time covers every flush of the file, not only `#syncWritten`'s: a `truncateTo` started while
 * the background sync (half the window written) is still in flight must not fsync beside it (only one of the two
 * would learn of a writeback error), nor let that sync, finishing late, count bytes the cut removed as synced.
 */

import { bytesCodec } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import type { WalFile } from "./fs/file-system.js";
import { SEGMENT_HEADER_BYTES } from "./segment-header.js";
import { SegmentWriter } from "./segment-writer.js";
import { SimFS } from "./testing/sim-fs.js";
import { boundProperty, wrapFileSystem } from "./testing/wrapped-fs.js";

const PATH = "/w/0000000001.wal";
const WINDOW = 4096;
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A SimFS whose flushes (datasync and sync) can be held; counts how many run at once. */
function heldFlushes() {
  const sim = SimFS.withDir("/w");
  const state = { hold: false, inFlight: 0, most: 0, held: [] as ((fail: boolean) => void)[] };
  const fs = wrapFileSystem(
    sim,
    (file: WalFile) =>
      new Proxy(file, {
        get(target, key) {
          if (key === "datasyncSync") return undefined;
          if (key === "datasync" || key === "sync") {
            const flush = key === "datasync" ? target.datasync.bind(target) : target.sync.bind(target);
            return async () => {
              state.inFlight++;
              state.most = Math.max(state.most, state.inFlight);
              try {
                const fail = state.hold ? await new Promise<boolean>((go) => state.held.push(go)) : false;
                if (fail) throw Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" });
                await flush();
              } finally {
                state.inFlight--;
              }
            };
          }
          return boundProperty(target, key);
        },
      }),
  );
  return { fs, state };
}

async function writerWithBackgroundSync({ fs, state }: ReturnType<typeof heldFlushes>): Promise<SegmentWriter> {
  const writer = await SegmentWriter.create(fs, PATH, 1, { maxUnsyncedBytes: WINDOW });
  state.hold = true;
  writer.append({ kind: "mutation", lsn: 1, txBeginLsn: 1, event: new Uint8Array(3000) }, bytesCodec);
  await writer.write(); // more than half the window: the background sync starts (and is held)
  return writer;
}

describe("truncateTo beside the background fdatasync", () => {
  it("waits for it: never two flushes at once, and the late sync does not count cut bytes as synced", async () => {
    const held = heldFlushes();
    const { state } = held;
    const writer = await writerWithBackgroundSync(held);
    expect(state.held).toHaveLength(1);
    const cut = writer.truncateTo(SEGMENT_HEADER_BYTES);
    await turn();
    expect(state.most).toBe(1);
    state.hold = false;
    while (state.held.length > 0) state.held.shift()?.(false);
    await cut;
    expect(writer.writtenBytes).toBe(SEGMENT_HEADER_BYTES);
    expect(writer.unsyncedBytes).toBe(0);
    await writer.close();
  });

  it("a background sync that fails beside it fails the truncation, which cuts nothing (the handle is poisoned)", async () => {
    const held = heldFlushes();
    const { state } = held;
    const writer = await writerWithBackgroundSync(held);
    const size = (await held.fs.stat(PATH))?.size;
    expect(size).toBe(writer.writtenBytes);
    const cut = writer.truncateTo(SEGMENT_HEADER_BYTES).then(
      () => "resolved",
      (error: { code?: string }) => error.code,
    );
    await turn();
    state.hold = false;
    // The background sync fails; a flush beside it would succeed.
    state.held.shift()?.(true);
    while (state.held.length > 0) state.held.shift()?.(false);
    expect(await cut).toBe("EIO");
    // Refused before it cut anything: a failed writer changes no byte of its file.
    expect((await held.fs.stat(PATH))?.size).toBe(size);
    await writer.discardAndClose().catch(() => undefined);
  });
});
