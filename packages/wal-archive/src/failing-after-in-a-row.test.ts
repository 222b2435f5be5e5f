/**
 * `retry.failingAfter` counts failures in a row: a store call that succeeds starts the count again, so failures
 * spread out between successes never turn the archiver `failing` (nor reject a flush with WAL_ARCHIVE_UNAVAILABLE).
 */

import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { startArchiver } from "./archiver.js";
import { memoryArchive } from "./memory-archive.js";

/** No timer pass: only events and flushes run the archiver. */
const NEVER = 2 ** 31 - 1;

it("single failures between successes leave the archiver retrying and running, never failing", async () => {
  const fs = new SimFS();
  const store = memoryArchive();
  const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs });
  const states: string[] = [];
  const archiver = startArchiver(wal, {
    store,
    fs,
    intervalMs: NEVER,
    retry: { initialMs: 1, maxMs: 2, failingAfter: 2 },
    onStateChange: (s) => states.push(s.state),
  });
  for (let i = 0; i < 3; i++) {
    await wal.commitTx([{ i }]);
    store.injectFault({ op: "put" }); // this flush's upload fails once, then its retry succeeds
    await archiver.flush();
  }
  expect(archiver.status()).toMatchObject({ state: "running", failures: 3, archivedLsn: wal.fsyncedLsn() });
  expect(states).toEqual(["retrying", "running", "retrying", "running", "retrying", "running"]);
  await archiver.stop();
  await wal.close();
});
