/**
 * Only a left-out (or `undefined`) option takes its default: `null` is refused like any value of the wrong type,
 * before anything is read or written. `readCommitted`'s `upto: null` read the whole log, `createSlot`'s
 * `confirmedLsn: null` made a slot at 0 (holding everything back), and a follower's `after: null` started from the
 * beginning.
 */

import { jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { followDir } from "./follow-dir.js";
import { readCommitted } from "./read-committed.js";
import { replayDir } from "./replay.js";
import { advanceSlot, createSlot, readSlot } from "./replication-slots.js";

const refused = expect.objectContaining({ code: expect.stringMatching(/^WAL_INVALID_(OPTION|ARGUMENT)$/) });

/** Iterate to the end; a call that throws at once (replayDir checks its options then) rejects the same. */
async function drain(iterate: () => AsyncIterable<unknown>): Promise<void> {
  for await (const _ of iterate());
}

describe("an option given as null", () => {
  const fs = SimFS.withDir("/w");

  it("replayDir refuses recovery", async () => {
    await expect(drain(() => replayDir("/w", { codec: jsonCodec, fs, recovery: null as never }))).rejects.toEqual(
      refused,
    );
  });

  it.each(["after", "upto"])("readCommitted refuses %s", async (name) => {
    await expect(drain(() => readCommitted("/w", { codec: jsonCodec, fs, [name]: null }))).rejects.toEqual(refused);
  });

  it.each(["after", "durability", "pollIntervalMs", "selfSyncAfterMs"])("followDir refuses %s", (name) => {
    expect(() => followDir("/w", { codec: jsonCodec, fs, watch: false, [name]: null })).toThrow(refused);
  });

  it.each(["confirmedLsn", "restartLsn"])("createSlot refuses %s and creates no slot", async (name) => {
    await expect(createSlot("/w", "s", { fs, [name]: null })).rejects.toEqual(refused);
    expect(fs.listSync("/w")).toEqual([]);
  });

  it("advanceSlot refuses restartLsn and leaves the slot where it was", async () => {
    const sim = SimFS.withDir("/w");
    await createSlot("/w", "s", { fs: sim });
    await expect(advanceSlot("/w", "s", 0, { fs: sim, restartLsn: null as never })).rejects.toEqual(refused);
    expect(await readSlot("/w", "s", { fs: sim })).toMatchObject({ confirmedLsn: 0, restartLsn: 1 });
  });
});
