import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { type JsonValue, jsonCodec, Wal } from "./index.js";

// `appendBatch` of something that is not an array is the caller's mistake, refused as `commitTx` refuses it:
// `WAL_INVALID_ARGUMENT` saying an array was wanted (it was `WAL_ENCODE` "mutation batch must contain at least one
// event", which sent a caller who passed one event or a Set looking for an empty batch). Nothing is written, no LSN
// is used, and the transaction stays open.

it("appendBatch refuses a non-array with WAL_INVALID_ARGUMENT and changes nothing", async () => {
  const fs = new SimFS();
  const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs });
  const tx = await wal.begin();
  const notArrays: unknown[] = [{ put: "a" }, "abc", { length: 1, 0: { put: "a" } }, new Set([{ put: "a" }]), null, 5];
  let refused = 0;
  for (const events of notArrays) {
    const next = wal.nextLsn();
    await expect(wal.appendBatch(tx, events as JsonValue[])).rejects.toMatchObject({
      code: "WAL_INVALID_ARGUMENT",
      message: expect.stringMatching(/^appendBatch takes an array of events, got /),
    });
    expect(wal.nextLsn()).toBe(next);
    refused++;
  }
  expect(refused).toBe(notArrays.length);
  // An empty array is still an empty batch.
  await expect(wal.appendBatch(tx, [])).rejects.toMatchObject({ code: "WAL_ENCODE" });
  await wal.appendBatch(tx, [{ put: "b" }]);
  await wal.commit(tx);
  await wal.close();
  const again = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs });
  expect(again.events).toEqual([{ put: "b" }]);
  await again.wal.close();
});
