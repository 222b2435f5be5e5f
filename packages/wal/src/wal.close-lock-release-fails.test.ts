/**
 * `close()` when releasing the directory lock fails: the log is closed and durable by then, so the failure must not
 * hide that, must not replace the close's own failure, and must not skip ending the handle (calls after it are refused
 * `WAL_CLOSED`, as after any close).
 */

import { bytesCodec } from "@lora/wal-codec";
import type { WalFileSystem } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { Wal } from "./wal.js";

/** SimFS whose lock's release throws `thrown` (as a lock seam's release may) after releasing. */
function simWithFailingRelease(thrown: unknown): SimFS {
  const sim = SimFS.withDir("/w");
  const tryLock = sim.tryLock.bind(sim);
  sim.tryLock = (path: string) => {
    const release = tryLock(path);
    if (release === null) return null;
    return () => {
      release();
      throw thrown;
    };
  };
  return sim;
}

const bytes = (n: number): Uint8Array => new Uint8Array([n]);

it("a close whose lock release fails says the log is closed and durable, and ends the handle", async () => {
  const thrown = new Error("EIO: closing the lock");
  const sim = simWithFailingRelease(thrown);
  const { wal } = await Wal.open("/w/log", { fs: sim as unknown as WalFileSystem, codec: bytesCodec });
  await wal.commitTx([bytes(1), bytes(2)]);

  const error = await wal.close().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toMatchObject({ name: "WalError", code: "WAL_IO", details: { path: "/w/log" } });
  expect((error as Error).message).toMatch(/is closed and durable/);
  // The lock's own refusal of its release (WAL_IO, the seam's throw as its cause).
  expect((error as Error).cause).toMatchObject({ code: "WAL_IO", cause: thrown });
  // The same promise again: close is not retried.
  await expect(wal.close()).rejects.toBe(error);
  // The handle is over, as after a close that released.
  await expect(wal.commitTx([bytes(3)])).rejects.toMatchObject({ code: "WAL_CLOSED" });

  // Every acknowledged commit is there once the lock is free again (the release did release here).
  const reopened = await Wal.open("/w/log", { fs: sim as unknown as WalFileSystem, codec: bytesCodec });
  expect(reopened.events).toEqual([bytes(1), bytes(2)]);
  await expect(reopened.wal.close()).rejects.toMatchObject({ code: "WAL_IO" });
});

it("a close that failed keeps its own failure when the lock release fails too", async () => {
  const sim = simWithFailingRelease(new Error("EIO: closing the lock"));
  const { wal } = await Wal.open("/w/log", { fs: sim as unknown as WalFileSystem, codec: bytesCodec });
  await wal.commitTx([bytes(1)]);
  const tx = await wal.begin();
  await wal.append(tx, bytes(2));
  // The close's last flush fails: that is the failure close reports, not the lock's.
  sim.injectFault({ op: "write", path: /\.wal$/, errno: "EIO" });
  const error = await wal.close().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).not.toMatchObject({ message: expect.stringMatching(/closing the lock/) });
  expect((error as Error & { code?: string }).code).toBe("WAL_IO");
  await expect(wal.commitTx([bytes(3)])).rejects.toMatchObject({ code: "WAL_CLOSED" });
});

it("a poisoned close with uncovered acknowledged commits still says WAL_POISONED when the lock release fails", async () => {
  const sim = simWithFailingRelease(new Error("EIO: closing the lock"));
  const { wal } = await Wal.open("/w/log", {
    fs: sim as unknown as WalFileSystem,
    codec: bytesCodec,
    syncMode: { mode: "none" },
  });
  await wal.commitTx([bytes(1)]);
  await wal.sync();
  // Acknowledged once written (none mode), then the fsync that would cover it fails: the handle is poisoned.
  await wal.commitTx([bytes(2)]);
  sim.injectFault({ op: "datasync", errno: "EIO", persistent: true });
  await expect(wal.sync()).rejects.toMatchObject({ code: "WAL_IO" });
  await expect(wal.close()).rejects.toMatchObject({ code: "WAL_POISONED" });
});
