/**
 * A seal that lands while the archiver looks is not a divergence. The header of a piece, or of the file the
 * archiver compares it with, may be in either form: sealed by a rotation between the archiver's header read and its
 * read of the bytes, or shipped in a read that landed after the seal's header write. Either way the archiver keeps
 * running and the store restores the whole log.
 */

import { Wal } from "@lora/wal";
import { crc32, type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { archiveKey } from "./archive-keys.js";
import { startArchiver } from "./archiver.js";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";

async function restoredEvents(store: ReturnType<typeof memoryArchive>, fs: SimFS): Promise<JsonValue[]> {
  await restore({ store, dir: "/r", fs });
  const { wal, events } = await Wal.open<JsonValue>("/r", { codec: jsonCodec, fs });
  await wal.close();
  return events;
}

describe("an archiver attaching around a seal", () => {
  it("keeps running when the newest segment, with pieces in the store, is sealed while it attaches", async () => {
    const fs = new SimFS();
    const options = { codec: jsonCodec, fs, segmentTargetBytes: 2000, preallocateBytes: 0 };
    const { wal } = await Wal.open<JsonValue>("/w", options);
    const store = memoryArchive({ name: "s" });
    const committed: JsonValue[] = [];
    for (let i = 0; i < 3; i++) {
      await wal.commitTx([{ i }]);
      committed.push({ i });
    }
    const first = startArchiver(wal, { store, fs, intervalMs: 5 });
    await first.flush();
    await first.stop();
    // The second archiver's first look at segment 1 waits until the handle has sealed it.
    let armed = true;
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let looked = () => {};
    const lookedAt = new Promise<void>((resolve) => {
      looked = resolve;
    });
    const gated = new Proxy(fs, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop === "stat") {
          return async (path: string) => {
            if (armed && path.endsWith("0000000001.wal")) {
              armed = false;
              looked();
              await gate;
            }
            return target.stat(path);
          };
        }
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const second = startArchiver(wal, { store, fs: gated, intervalMs: 5, retry: { initialMs: 1, maxMs: 5 } });
    await lookedAt;
    while (wal.activeSegmentId() === 1) {
      const event = { pad: "x".repeat(200) };
      await wal.commitTx([event]);
      committed.push(event);
    }
    release();
    await second.flush();
    expect(second.status()).toMatchObject({ state: "running", lastError: null });
    await second.stop();
    await wal.close();
    expect(await restoredEvents(store, fs)).toEqual(committed);
  });

  it("accepts a first piece shipped with the sealed header (read just after the seal's header write)", async () => {
    const fs = new SimFS();
    const options = { codec: jsonCodec, fs, segmentTargetBytes: 300, preallocateBytes: 0 };
    const { wal } = await Wal.open<JsonValue>("/w", options);
    const committed: JsonValue[] = [];
    while (wal.activeSegmentId() === 1) {
      const event = { p: "x".repeat(50) };
      await wal.commitTx([event]);
      committed.push(event);
    }
    await wal.commitTx([{ q: 1 }]);
    committed.push({ q: 1 });
    const sealed = fs.readFileSync("/w/0000000001.wal");
    const store = memoryArchive({ name: "s" });
    const piece = archiveKey({ kind: "piece", id: 1, baseLsn: 1, from: 0, to: sealed.length, crc32: crc32(sealed) });
    await store.put(piece, sealed);
    const archiver = startArchiver(wal, { store, fs, intervalMs: 5, retry: { initialMs: 1, maxMs: 5 } });
    await archiver.flush();
    expect(archiver.status()).toMatchObject({ state: "running", lastError: null });
    await archiver.stop();
    await wal.close();
    expect(await restoredEvents(store, fs)).toEqual(committed);
  });
});
