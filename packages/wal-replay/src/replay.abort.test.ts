/**
 * Aborting a replay through its signal: once `AbortController.abort()` has returned, no further transaction
 * reaches the caller, whether the next one is already in the read buffer or needs a read.
 */

import { jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { replayDir } from "./replay.js";
import { evenLog, writeSimLog } from "./test-support/sim-log.js";

const DIR = "/wal";

describe("abort through the signal", () => {
  for (const at of [1, 10, 1364, 1365, 1366, 2000]) {
    it(`delivers nothing after abort() returned (aborted after transaction ${at} of 5000)`, async () => {
      const fs = new SimFS();
      await writeSimLog(fs, DIR, evenLog(2, 2500));
      const controller = new AbortController();
      const reason = new Error("enough");
      const replay = replayDir(DIR, { codec: jsonCodec, fs, signal: controller.signal });
      let seen = 0;
      const failure = await (async () => {
        for await (const _ of replay) if (++seen === at) controller.abort(reason);
      })().catch((e: unknown) => e);
      expect(failure).toBe(reason);
      expect(seen).toBe(at);
      await expect(replay.outcome()).rejects.toBe(reason);
      expect(fs.stats.closes).toBe(fs.stats.opens);
    });
  }

  it("a next() called after abort() rejects with the reason, also when the transaction is already buffered", async () => {
    const fs = new SimFS();
    await writeSimLog(fs, DIR, evenLog(1, 20));
    const controller = new AbortController();
    const iterator = replayDir(DIR, { codec: jsonCodec, fs, signal: controller.signal })[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    controller.abort("stop");
    await expect(iterator.next()).rejects.toBe("stop");
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });

  it("an already aborted signal delivers nothing and opens no segment", async () => {
    const fs = new SimFS();
    await writeSimLog(fs, DIR, evenLog(1, 20));
    const opensBefore = fs.stats.opens;
    const replay = replayDir(DIR, { codec: jsonCodec, fs, signal: AbortSignal.abort("never") });
    const got: unknown[] = [];
    await expect(
      (async () => {
        for await (const t of replay) got.push(t);
      })(),
    ).rejects.toBe("never");
    expect(got).toEqual([]);
    expect(fs.stats.opens).toBe(opensBefore);
  });
});
