/**
 * Attaching compares the store's newest sealed segment and last pieces with the log byte for byte, to find another
 * history. A read that does not match its own key (a body cut short without an error: an HTTP response delimited by
 * the connection's close, which S3's client returns as it came) is a failed call, retried; compared as it came, it
 * latched a healthy archiver in WAL_ARCHIVE_DIVERGED for good.
 */

import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import type { ArchiveStore } from "./archive-store.js";
import { startArchiver } from "./archiver.js";
import { memoryArchive } from "./memory-archive.js";

/** `store`, but its next `damaged` gets return the object cut short (or with a byte flipped). */
function flakyReads(store: ArchiveStore, how: "cut" | "flip", damaged: number): ArchiveStore {
  let left = damaged;
  return {
    name: store.name,
    put: (key, bytes, options) => store.put(key, bytes, options),
    delete: (key, options) => store.delete(key, options),
    list: (prefix, options) => store.list(prefix, options),
    async get(key, options) {
      const bytes = await store.get(key, options);
      if (bytes === null || left <= 0) return bytes;
      left--;
      if (how === "cut") return bytes.slice(0, bytes.byteLength - 7);
      const copy = bytes.slice();
      copy[copy.byteLength - 3] = (copy[copy.byteLength - 3] as number) ^ 0xff;
      return copy;
    },
  };
}

describe("a damaged read while attaching", () => {
  it.each([
    ["cut short", "cut", 1],
    ["with a byte flipped", "flip", 1],
    ["twice in a row", "cut", 2],
  ] as const)("%s is retried, not taken for another history", async (_, how, damaged) => {
    const fs = new SimFS();
    const store = memoryArchive();
    const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs, segmentTargetBytes: 300 });
    const first = startArchiver(wal, { store, fs, intervalMs: 3_600_000 });
    // A sealed segment and pieces of the active one: attaching again fetches both.
    for (let i = 0; i < 50 && (await wal.segments()).length < 2; i++) await wal.commitTx([{ v: i }]);
    await wal.commitTx([{ v: "active" }]);
    await first.flush();
    await first.stop();
    const keys = store.keys();
    expect(keys.some((k) => k.startsWith("segments/")) && keys.some((k) => k.startsWith("partial/"))).toBe(true);

    const again = startArchiver(wal, {
      store: flakyReads(store, how, damaged),
      fs,
      intervalMs: 3_600_000,
      retry: { initialMs: 1, maxMs: 1 },
    });
    await again.flush();
    await wal.commitTx([{ v: "after" }]);
    await again.flush();
    expect(again.status()).toMatchObject({ state: "running", failures: damaged });
    await again.stop();
    await wal.close();
  });
});
