/**
 * A `Wal.open` that fails closes every file it opened. Recovery leaves the active segment open for appends before the
 * durable mark is opened; a failure there (EMFILE, EIO) used to leave that segment's descriptor open for the life
 * of the process, one per attempt: an application retrying an open that fails for lack of descriptors made the
 * shortage worse with each try.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";

const DIR = "/w";
const MARK = `${DIR}/.lora-wal.durable`;

/** Files opened and not closed since `fs` was made (a failed open leaves nothing to close and is not counted). */
const stillOpen = (fs: SimFS) => fs.stats.opens - fs.stats.closes;

describe("a failed Wal.open closes what it opened", () => {
  for (const existing of [false, true]) {
    it(`when the durable mark cannot be opened (${existing ? "existing log" : "fresh directory"})`, async () => {
      const fs = SimFS.withDir(DIR);
      if (existing) {
        const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
        await wal.commitTx(["a"]);
        await wal.close();
      }
      expect(stillOpen(fs)).toBe(0);
      for (let attempt = 0; attempt < 3; attempt++) {
        // Every open of the mark fails: replay's walk of an existing log reads it first and goes on without it (a
        // hint it does not need while it meets no damage), then recovery's own open of it fails the open.
        const fault = fs.injectFault({ op: "open", path: MARK, errno: "EMFILE", persistent: true });
        await expect(Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec })).rejects.toMatchObject({
          code: "WAL_IO",
          details: { errno: "EMFILE" },
        });
        fault.remove();
        expect(fault.hits).toBe(existing ? 2 : 1);
        expect(stillOpen(fs)).toBe(0);
      }
      // Nothing held: the lock is free and the log opens with its history.
      const { wal, events } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
      expect(events).toEqual(existing ? ["a"] : []);
      await wal.close();
      expect(stillOpen(fs)).toBe(0);
    });
  }
});
