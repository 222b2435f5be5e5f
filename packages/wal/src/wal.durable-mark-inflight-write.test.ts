/**
 * The durable mark binds to the last record an fdatasync covered: the record written before that fdatasync began,
 * never one written while it ran. A commit written during an in-flight fdatasync is not covered by it; a mark bound
 * to it would vouch for bytes a power loss can tear (its last sector landed, one before it not), and a default open
 * of that crash state would refuse the log as corrupt, with every acknowledged commit in it.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { replayDir } from "@lora/wal-replay";
import { readDurableMark } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { withTestingHooks } from "./testing/index.js";
import { Wal } from "./wal.js";

const DIR = "/w";

describe("a commit written while an fdatasync is in flight", () => {
  it("is not what the mark binds to: every crash image before the next fsync opens with the acknowledged commits", async () => {
    const fs = SimFS.withDir(DIR);
    let rounds = 0;
    let late: Promise<unknown> | undefined;
    let wal: Wal<JsonValue> | undefined;
    const opened = await Wal.open<JsonValue>(
      DIR,
      withTestingHooks(
        // Rounds on the thread pool (never blocking), so a write can come in while one runs; small files.
        { fs, codec: jsonCodec, blockingSync: false, preallocateBytes: 0 },
        {
          failpoint: (name) => {
            if (name !== "commit.beforeFsync" || wal === undefined) return;
            rounds++;
            // The round for "acked" begins its fdatasync: "late" is written while it runs (several sectors).
            if (rounds === 1) late = wal.commitTx(["late ".repeat(1200)]).catch(() => undefined);
            // The power goes before the round that would cover "late".
            if (rounds === 2) throw new Error("power loss");
          },
        },
      ),
    );
    wal = opened.wal;
    await wal.commitTx(["acked"]);
    await late;
    expect(rounds).toBe(2);
    // The mark the acknowledgement of "acked" published binds to "acked"'s commit record, not "late"'s.
    const binding = (await readDurableMark(fs, DIR))?.binding;
    expect(binding?.recordLsn).toBe(3);

    let images = 0;
    for (const { description, fs: image } of fs.crashImages({ maxImages: 2048, tornSamples: 16 })) {
      images++;
      const events: JsonValue[] = [];
      for await (const tx of replayDir<JsonValue>(DIR, { fs: image, codec: jsonCodec })) events.push(...tx.events);
      expect(events[0], description).toBe("acked");
    }
    expect(images).toBeGreaterThan(10);
    await wal.close().catch(() => undefined);
  });
});
