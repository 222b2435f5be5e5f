/**
 * Open makes what replay read of the active segment durable before anything new is acknowledged after it (it rewrites
 * the segment's bytes, then fdatasyncs it). When that rewrite fails, the open fails with the I/O error: the
 * segment it opened for appends is closed without writing its buffer again, the lock is free, and the next open
 * has every commit.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";

const DIR = "/w";
const ACTIVE = `${DIR}/0000000001.wal`;

/** Files opened and not closed since `fs` was made. */
const stillOpen = (fs: SimFS) => fs.stats.opens - fs.stats.closes;

describe("an open whose rewrite of the active segment fails", () => {
  for (const [op, syscall] of [
    ["write", "write"],
    ["datasync", "fdatasync"],
  ] as const) {
    it(`rejects with WAL_IO (${syscall} EIO), leaves nothing open or locked, and the log opens afterwards`, async () => {
      const fs = SimFS.withDir(DIR);
      const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
      await wal.commitTx(["a"]);
      await wal.commitTx(["b"]);
      await wal.close();
      expect(stillOpen(fs)).toBe(0);

      const fault = fs.injectFault({ op, path: ACTIVE, errno: "EIO" });
      await expect(Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec })).rejects.toMatchObject({
        code: "WAL_IO",
        details: { errno: "EIO", syscall, path: ACTIVE },
      });
      expect(fault.hits).toBe(1);
      expect(stillOpen(fs)).toBe(0);

      const { wal: again, events } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
      expect(events).toEqual(["a", "b"]);
      expect(await again.commitTx(["c"])).toEqual({ beginLsn: 7, commitLsn: 9 });
      await again.close();
      expect(stillOpen(fs)).toBe(0);
    });
  }
});
