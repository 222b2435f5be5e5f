/**
 * `archiver.stop()` settles only once the pass it interrupts is over: after it resolves, the archiver reads no more of
 * the log directory and calls the store no more, so the caller may close the handle and move the directory.
 */

import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { interceptOpen, SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { startArchiver } from "./archiver.js";
import { memoryArchive } from "./memory-archive.js";

/** No timer pass: only events and flushes run the archiver. */
const NEVER = 2 ** 31 - 1;

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

it("stop({ flush: false }) during a pass reading a sealed segment resolves after that pass, not before", async () => {
  const sim = new SimFS();
  const store = memoryArchive();
  // The archiver's opens of the first segment wait for `release` once armed: the pass uploading it is held there.
  let armed = false;
  let held = false;
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const log: string[] = [];
  const fs = interceptOpen(sim, async (path, mode, next) => {
    if (armed && mode === "read" && path === "/w/0000000001.wal") {
      held = true;
      await gate;
      log.push("open released");
    }
    return next(path, mode);
  });
  const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs: sim, segmentTargetBytes: 200 });
  const archiver = startArchiver(wal, { store, fs, intervalMs: NEVER });
  await wal.commitTx([{ i: 0 }]);
  await archiver.flush();

  armed = true;
  for (let i = 1; wal.activeSegmentId() < 2; i++) await wal.commitTx([{ i }]);
  for (let i = 0; i < 1000 && !held; i++) await turn();
  expect(held).toBe(true);

  const stopped = archiver.stop({ flush: false }).then(() => {
    log.push("stop resolved");
  });
  // Time for a stop that does not wait to resolve (bounded by a count of turns), then the pass goes on.
  for (let i = 0; i < 1000 && log.length === 0; i++) await turn();
  release();
  await stopped;
  const callsAtStop = { ...store.calls };
  for (let i = 0; i < 100; i++) await turn();

  expect(log).toEqual(["open released", "stop resolved"]);
  expect(store.calls).toEqual(callsAtStop);
  expect(archiver.status().state).toBe("stopped");
  await wal.close();
});
