/**
 * A slot file write that fails does not fail archiving (truncation only keeps more), and it is not forgotten: the
 * next flush writes the position again, so the slot file catches up with what is archived.
 */

import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { readSlot } from "@lora/wal-replay";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { startArchiver } from "./archiver.js";
import { memoryArchive } from "./memory-archive.js";

/** No timer pass: only events and flushes run the archiver. */
const NEVER = 2 ** 31 - 1;

it("after a slot write fails, the next flush moves the slot file up to the archived position", async () => {
  const fs = new SimFS();
  const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs, segmentTargetBytes: 200 });
  const archiver = startArchiver(wal, { store: memoryArchive(), fs, intervalMs: NEVER });
  const rotateTo = async (id: number) => {
    for (let i = 0; wal.activeSegmentId() < id; i++) await wal.commitTx([{ i }]);
  };
  const slotLsn = async () => (await readSlot("/w", "archive", { fs })).confirmedLsn;
  await rotateTo(2);
  await archiver.flush();
  const before = await slotLsn();
  expect(before).toBeGreaterThan(0);

  const fault = fs.injectFault({ op: "rename", path: /^\/w\/slots\//, errno: "EIO" });
  await rotateTo(3);
  await archiver.flush(); // the slot write fails: the flush resolves all the same
  expect(fault.hits).toBe(1);
  expect(await slotLsn()).toBe(before);
  // An I/O failure says nothing about who moves the slot: no slot problem is reported.
  expect(archiver.status()).toMatchObject({ slotProblem: null, lastError: null });

  await archiver.flush(); // nothing new to ship, but the slot file lags
  const segments = await wal.segments();
  const activeBase = (segments.at(-1) as { baseLsn: number }).baseLsn;
  expect(await slotLsn()).toBe(activeBase - 1);
  await archiver.stop();
  await wal.close();
});
