/**
 * A checkpoint whose handle is poisoned between appending its marker and waiting for the marker's fsync: the wait
 * must be refused at once with the failure, never queued behind a pipeline that will run no more rounds. Queued, the
 * checkpoint never settled, and `close()`, which lets admitted calls finish first, never settled either.
 */

import { isWalError, type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { Wal } from "./wal.js";

const PENDING = Symbol("pending");

it("a checkpoint poisoned after its marker was appended rejects with the failure, and close still settles", async () => {
  const sim = SimFS.withDir("/w");
  // `none` mode: a commit that finds the pipeline idle is written in its caller's own turn, so its failing write
  // poisons the handle synchronously, inside the microtask queued ahead of the checkpoint's next step.
  const { wal } = await Wal.open<JsonValue>("/w", { fs: sim, codec: jsonCodec, syncMode: "none" });
  sim.injectFault({ op: "write", errno: "EIO" });

  const commit = Promise.resolve().then(() => wal.commitTx(["written while the checkpoint runs"]));
  let checkpoint: unknown = PENDING;
  // Appends its marker now (buffered, nothing written), then waits for an fsync one microtask later: after the
  // commit above has failed its write and poisoned the handle.
  void wal.checkpoint(wal.safeCheckpointLsn()).then(
    (info) => {
      checkpoint = info;
    },
    (error: unknown) => {
      checkpoint = error;
    },
  );

  const commitFailure = await commit.catch((error: unknown) => error);
  expect(isWalError(commitFailure, "WAL_IO")).toBe(true);
  expect(wal.failure()).toBe(commitFailure);
  // Bounded by turns of the event loop, not by time: the refusal needs none, a queued wait would need them all.
  for (let i = 0; i < 20 && checkpoint === PENDING; i++) await new Promise((resolve) => setImmediate(resolve));
  expect(checkpoint).toBe(commitFailure);

  // Nothing was acknowledged, so the poisoned close resolves; it no longer waits for the checkpoint.
  await expect(wal.close()).resolves.toBeUndefined();
  // The failed write left nothing in the file: the log reopens empty.
  const reopened = await Wal.open<JsonValue>("/w", { fs: sim.durableImage(), codec: jsonCodec });
  expect(reopened.events).toEqual([]);
  await reopened.wal.close();
});
