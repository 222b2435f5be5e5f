/**
 * fsyncgate between two fdatasyncs of one file: the segment writer's background sync (started once half the
 * unsynced window is written) fails, dropping the dirty pages, and a commit round's fdatasync running beside it
 * succeeds (a writeback error is reported once per open file). The round must not acknowledge the commit: its bytes
 * are in no crash image.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { replayDir } from "@lora/wal-replay";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";

const DIR = "/w";

describe("a background fdatasync that fails beside a commit round's", () => {
  it("the commit is refused, never acknowledged without being durable", async () => {
    const fs = SimFS.withDir(DIR);
    const { wal } = await Wal.open<JsonValue>(DIR, {
      fs,
      codec: jsonCodec,
      blockingSync: false,
      preallocateBytes: 0,
      unsyncedWindowBytes: 4096,
    });
    await wal.commitTx(["first"]);
    // The next fdatasync fails: the background one the big commit's write starts (more than half the window).
    fs.injectFault({ op: "datasync", errno: "EIO" });
    const outcome = await wal.commitTx(["b".repeat(3000)]).then(
      () => "acknowledged",
      (error: { code?: string }) => error.code,
    );
    const durable: JsonValue[] = [];
    for await (const tx of replayDir<JsonValue>(DIR, { fs: fs.durableImage(), codec: jsonCodec })) {
      durable.push(...tx.events);
    }
    if (outcome === "acknowledged") expect(durable).toHaveLength(2);
    expect(outcome).not.toBe("acknowledged");
    await wal.close().catch(() => undefined);
  });
});
