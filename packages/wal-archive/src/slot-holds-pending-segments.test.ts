/**
 * The archiver's hold on truncation (its in-process hold and its slot) stays below the oldest sealed segment it has
 * not archived, also when catch-up finds several waiting: a segment the store does not hold yet is never truncated.
 */

import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { readSlot } from "@lora/wal-replay";
import { listSegments } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { startArchiver } from "./archiver.js";
import { memoryArchive } from "./memory-archive.js";

const turn = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

it("attached to a log with sealed segments the store lacks, it keeps all of them from truncation until uploaded", async () => {
  const fs = new SimFS();
  const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs, segmentTargetBytes: 200 });
  for (let i = 0; wal.activeSegmentId() < 4; i++) await wal.commitTx([{ i }]);
  const store = memoryArchive();
  // The listing works, every upload fails: catch-up queues segments 1 to 3 and none of them gets archived.
  const fault = store.injectFault({ op: "put", times: Number.POSITIVE_INFINITY });
  const archiver = startArchiver(wal, { store, fs, intervalMs: 5, retry: { initialMs: 1, maxMs: 2 } });
  for (let i = 0; i < 2000 && fault.hits < 3; i++) await turn();
  expect(fault.hits).toBeGreaterThanOrEqual(3);
  expect(archiver.status().pendingSegments).toBe(3);

  expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBe(0);
  expect((await listSegments(fs, "/w")).map((s) => s.id)).toEqual([1, 2, 3, 4]);
  expect((await readSlot("/w", "archive", { fs })).confirmedLsn).toBe(0);

  fault.cancel();
  await archiver.flush();
  expect(archiver.status()).toMatchObject({ pendingSegments: 0, uploadedSegments: 3 });
  expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBeGreaterThan(0);
  await archiver.stop();
  await wal.close();
});
