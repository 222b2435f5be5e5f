/**
 * Power loss at any moment opens by default, with every acknowledged commit. The hard case: one unsynced
 * multi-sector write (a group commit) whose sectors land in any order, a later sector persisted while an earlier
 * one was not. Before the unsynced-window rule, 7 of the 16 images of one 4-sector group-commit write were refused
 * with WAL_CORRUPT, because valid records followed the hole.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { withTestingHooks } from "./testing/index.js";
import { Wal } from "./wal.js";

const DIR = "/w";

describe("a torn multi-sector write", () => {
  it("every crash image of one unsynced 4-sector group-commit write opens by default with every acked commit", async () => {
    const fs = new SimFS();
    const acked: JsonValue[] = [];
    let stop = false;
    const { wal } = await Wal.open<JsonValue>(
      DIR,
      withTestingHooks(
        { fs, codec: jsonCodec },
        {
          // Stop the commit pipeline after its write and before its fsync: the batch stays unsynced.
          failpoint: (name) => {
            if (stop && name === "commit.beforeFsync") throw new Error("power loss");
          },
        },
      ),
    );
    for (let i = 0; i < 3; i++) {
      await wal.commitTx([`acked ${i}`]);
      acked.push(`acked ${i}`);
    }
    stop = true;
    const payload = "p".repeat(90);
    const inFlight = Array.from({ length: 14 }, (_, i) => wal.commitTx([`${i}:${payload}`]));
    await Promise.allSettled(inFlight);
    let images = 0;
    let reordered = 0;
    for (const { description, fs: image } of fs.crashImages({ maxImages: 4096, tornSamples: 64 })) {
      images++;
      if (/sectors \[[\d,]*\] of \d+ landed/.test(description) && !/sectors \[(0,)*0?\]/.test(description)) {
        reordered++;
      }
      const { wal: reopened, events } = await Wal.open<JsonValue>(DIR, { fs: image, codec: jsonCodec });
      expect(events.slice(0, acked.length), description).toEqual(acked);
      // Nothing unacknowledged is half there: every later event is one of the in-flight transactions, whole.
      for (const e of events.slice(acked.length)) expect(String(e)).toMatch(/^\d+:p{90}$/);
      await reopened.close();
    }
    expect(images).toBeGreaterThanOrEqual(16);
    expect(reordered).toBeGreaterThan(0);
    await wal.close().catch(() => undefined);
  });
});

describe("unsynced writes landed out of order", () => {
  it("a later commit's write that reached the disk before an earlier one's opens by default, as a prefix of the commit order", async () => {
    const fs = new SimFS();
    const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, syncMode: "none" });
    const acked: JsonValue[] = [];
    for (let i = 0; i < 3; i++) {
      await wal.commitTx([`acked ${i}`]);
      acked.push(`acked ${i}`);
    }
    await wal.sync();
    // Five commits, each its own write into the zero-filled segment, none fsynced.
    const unsynced = Array.from({ length: 5 }, (_, i) => `unsynced ${i}:${"q".repeat(40 * i)}`);
    for (const event of unsynced) {
      await wal.commitTx([event]);
      await wal.flush();
    }
    let reordered = 0;
    for (const { description, fs: image } of fs.crashImages({ maxImages: 4096 })) {
      if (description.includes("out of order")) reordered++;
      const { wal: reopened, events } = await Wal.open<JsonValue>(DIR, { fs: image, codec: jsonCodec });
      expect(events.slice(0, acked.length), description).toEqual(acked);
      // A commit is never visible without every commit before it: the hole ends the log.
      expect(events.slice(acked.length), description).toEqual(unsynced.slice(0, events.length - acked.length));
      // The log takes new commits after the hole and keeps them.
      await reopened.commitTx(["after"]);
      await reopened.close();
      const again = await Wal.open<JsonValue>(DIR, { fs: image, codec: jsonCodec });
      expect(again.events.at(-1), description).toBe("after");
      await again.wal.close();
    }
    expect(reordered).toBeGreaterThanOrEqual(10);
    await wal.close();
  });
});

describe("a new log directory", () => {
  it("is made durable in its parent (and each new ancestor in its own) before anything is acknowledged", async () => {
    const sim = new SimFS();
    const calls: string[] = [];
    const fs = new Proxy(sim, {
      get(target, key) {
        const value = Reflect.get(target, key, target);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          if (key === "mkdirp" || key === "syncDir") calls.push(`${String(key)} ${String(args[0])}`);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const { wal } = await Wal.open<JsonValue>("/data/logs/w", { fs, codec: jsonCodec });
    await wal.commitTx(["first"]);
    await wal.close();
    expect(calls.slice(0, 4)).toEqual(["mkdirp /data/logs/w", "syncDir /", "syncDir /data", "syncDir /data/logs"]);
    calls.length = 0;
    const again = await Wal.open<JsonValue>("/data/logs/w", { fs, codec: jsonCodec });
    await again.wal.close();
    expect(calls.filter((c) => c.startsWith("mkdirp"))).toEqual([]); // an existing directory costs a stat
  });
});
