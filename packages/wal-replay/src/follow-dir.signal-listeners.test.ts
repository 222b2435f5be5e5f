/**
 * A follower given a caller's signal stops listening to it once it ends. A service that starts a follower per
 * request, or restarts one after each failure, passes the one signal that stops the whole service: every follower
 * that ended (a `break`, `return()`, an error, the end of the log) used to leave its "abort" listener on that
 * signal, and with it the follower itself (its queue, its read buffer's relay), for as long as the signal lived.
 */

import { getEventListeners } from "node:events";
import { jsonCodec } from "@lora/wal-codec";
import { segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { followDir } from "./follow-dir.js";
import { evenLog, writeSimLog } from "./test-support/sim-log.js";

const DIR = "/w";
const FOLLOWERS = 1000;

const listeners = (signal: AbortSignal) => getEventListeners(signal, "abort").length;

describe("followDir leaves no listener on the caller's signal once it ends", () => {
  it(`after ${FOLLOWERS} followers that each delivered a transaction and were stopped by a break`, async () => {
    const fs = SimFS.withDir("/");
    await writeSimLog(fs, DIR, evenLog(2, 3));
    const stop = new AbortController();
    for (let i = 0; i < FOLLOWERS; i++) {
      const follower = followDir(DIR, { fs, codec: jsonCodec, durability: "written", signal: stop.signal });
      for await (const tx of follower) {
        expect(tx.commitLsn).toBe(3);
        break;
      }
    }
    expect(listeners(stop.signal)).toBe(0);
    expect(fs.stats.opens - fs.stats.closes).toBe(0);
  });

  it(`after ${FOLLOWERS} followers that each failed`, async () => {
    const fs = SimFS.withDir("/");
    await writeSimLog(fs, DIR, evenLog(2, 3));
    // Damage a whole record of the sealed first segment: every follower fails there.
    const path = segmentPath(DIR, 1);
    const bytes = fs.readFileSync(path);
    bytes[100] = (bytes[100] as number) ^ 0xff;
    fs.writeFileSync(path, bytes);
    const stop = new AbortController();
    for (let i = 0; i < FOLLOWERS; i++) {
      const follower = followDir(DIR, { fs, codec: jsonCodec, durability: "written", signal: stop.signal });
      await expect(follower.next()).rejects.toMatchObject({ code: "WAL_CORRUPT" });
    }
    expect(listeners(stop.signal)).toBe(0);
    expect(fs.stats.opens - fs.stats.closes).toBe(0);
  });

  it("while it runs, it listens once, and an abort still ends it", async () => {
    const fs = SimFS.withDir("/");
    await writeSimLog(fs, DIR, evenLog(1, 3));
    const stop = new AbortController();
    const follower = followDir(DIR, { fs, codec: jsonCodec, durability: "written", signal: stop.signal });
    expect((await follower.next()).done).toBe(false);
    expect(listeners(stop.signal)).toBe(1);
    stop.abort();
    expect(await follower.next()).toEqual({ value: undefined, done: true });
    expect(listeners(stop.signal)).toBe(0);
    expect(fs.stats.opens - fs.stats.closes).toBe(0);
  });
});
