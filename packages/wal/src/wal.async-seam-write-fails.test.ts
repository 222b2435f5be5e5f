/**
 * A file-system seam without blocking calls (no `writeSync` or `datasyncSync`, as a store author's own seam may be)
 * takes the pipeline's asynchronous write loop. A write that fails there poisons the handle as a blocking one does:
 * the commit it carried rejects with the I/O error, every later call with `WAL_POISONED` (the first failure its
 * cause), close releases everything, and the log opens with every commit acknowledged before the failure.
 */

import { isWalError, type JsonValue, jsonCodec } from "@lora/wal-codec";
import type { WalFile } from "@lora/wal-segment";
import { boundProperty, SimFS, wrapFileSystem } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";

const DIR = "/w";
const ACTIVE = `${DIR}/0000000001.wal`;
const BLOCKING = new Set<string | symbol>(["writeSync", "datasyncSync", "readSync", "sizeSync"]);

/** `file` without its blocking calls: every write and fsync goes through the asynchronous path. */
const asyncOnly = (file: WalFile): WalFile =>
  new Proxy(file, { get: (target, key) => (BLOCKING.has(key) ? undefined : boundProperty(target, key)) });

describe("a failed write through a seam without blocking calls", () => {
  for (const syncMode of [{ mode: "perCommit" }, { mode: "group", intervalMs: 5 }, { mode: "none" }] as const) {
    it(`poisons the handle (${syncMode.mode}): the commit rejects, later calls too, close resolves, nothing acknowledged is lost`, async () => {
      const sim = SimFS.withDir(DIR);
      const fs = wrapFileSystem(sim, asyncOnly);
      const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, syncMode });
      expect(await wal.commitTx(["a"])).toEqual({ beginLsn: 1, commitLsn: 3 });
      await wal.sync();

      const fault = sim.injectFault({ op: "write", path: ACTIVE, errno: "EIO" });
      const failed = await wal.commitTx(["b"]).then(
        () => expect.unreachable("the commit resolved"),
        (e: unknown) => e,
      );
      expect(fault.hits).toBe(1);
      expect(failed).toMatchObject({ code: "WAL_IO", details: { errno: "EIO", syscall: "write", path: ACTIVE } });
      expect(wal.failure()).toBe(failed);
      const later = await wal.commitTx(["c"]).then(
        () => expect.unreachable("the commit resolved"),
        (e: unknown) => e,
      );
      expect(isWalError(later, "WAL_POISONED")).toBe(true);
      expect((later as Error).cause).toBe(failed);

      // "a" was fsynced and "b" never acknowledged: close keeps its promise and resolves.
      await wal.close();
      expect(sim.stats.opens - sim.stats.closes).toBe(0);
      const { wal: reopened, events } = await Wal.open<JsonValue>(DIR, { fs: sim.durableImage(), codec: jsonCodec });
      expect(events).toEqual(["a"]);
      await reopened.close();
    });
  }
});
