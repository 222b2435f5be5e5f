/**
 * One archiver per slot on a handle. Two archivers with the same slot name would share its file and its in-process
 * hold (the second's replacing the first's), so truncation could delete segments the first has not archived
 * although no slot was invalidated: the second is refused, and the first keeps holding what it lacks.
 */

import { Wal } from "@lora/wal";
import { isWalError, type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { startArchiver } from "./archiver.js";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";

it("refuses a second archiver on a slot in use, and the first keeps truncation from what it has not archived", async () => {
  const fs = new SimFS();
  const { wal } = await Wal.open<JsonValue>("/w", {
    codec: jsonCodec,
    fs,
    segmentTargetBytes: 200,
    preallocateBytes: 0,
  });
  const down = memoryArchive({ name: "down" });
  const outage = down.injectFault({ op: "put", times: Number.POSITIVE_INFINITY });
  const up = memoryArchive({ name: "up" });
  const a = startArchiver(wal, { store: down, fs, intervalMs: 5, retry: { initialMs: 1, maxMs: 5 } });
  let refused: unknown = null;
  try {
    startArchiver(wal, { store: up, fs, intervalMs: 5 });
  } catch (error) {
    refused = error;
  }
  expect(isWalError(refused, "WAL_INVALID_OPTION")).toBe(true);
  expect(String((refused as Error).message)).toMatch(/slot "archive".*different `slot`/);
  // Another slot is another archiver's own.
  const b = startArchiver(wal, { store: up, fs, intervalMs: 5, slot: "archive-up" });

  let last = 0;
  for (let i = 0; i < 40; i++) last = (await wal.commitTx([{ i, pad: "p".repeat(30) }]))?.commitLsn as number;
  await b.flush();
  await wal.truncateUpTo(last);
  outage.cancel();
  await a.flush();
  expect(a.status()).toMatchObject({ skippedSegments: 0, archivedLsn: last });
  await a.stop();
  // Once the first has stopped, its slot is free for a new archiver.
  const again = startArchiver(wal, { store: down, fs, intervalMs: 5 });
  await again.stop();
  await b.stop();
  await wal.close();
  await restore({ store: down, dir: "/r", fs });
  const { wal: restored, events } = await Wal.open<JsonValue>("/r", { codec: jsonCodec, fs });
  await restored.close();
  expect(events).toHaveLength(40);
});
