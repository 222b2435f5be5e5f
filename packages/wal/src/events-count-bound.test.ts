/**
 * `commitTx` and `appendBatch` refuse more events than one record can hold (`MAX_RECORD_BYTES`, each event taking at
 * least one byte) with `WAL_RECORD_TOO_LARGE` before any event is read. A proxy claiming a length up to 2^32 - 1 was
 * copied element by element, and a sparse array handed to the codec, for minutes before the record was too large.
 */

import { isWalError, type JsonValue, jsonCodec, MAX_RECORD_BYTES, type PayloadCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { Wal } from "./wal.js";

/** A codec that refuses, by a marker error, a batch of more than 1000 events: reaching it means nothing stopped one. */
const codec: PayloadCodec<JsonValue> = {
  ...jsonCodec,
  encodeBatch(events, out) {
    if (events.length > 1000) throw new Error("the codec was handed the batch");
    jsonCodec.encodeBatch(events, out);
  },
};

/** An array proxy claiming `length`; each element read is counted, and the 1001st throws. */
function claiming(length: number): { events: JsonValue[]; reads: () => number } {
  let reads = 0;
  const events = new Proxy([] as JsonValue[], {
    get(target, key, receiver) {
      if (key === "length") return length;
      if (typeof key === "string" && /^\d+$/.test(key)) {
        reads++;
        if (reads > 1000) throw new Error("read more than 1000 events");
        return { n: Number(key) };
      }
      return Reflect.get(target, key, receiver);
    },
  });
  return { events, reads: () => reads };
}

async function refusal(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error("not refused");
}

it("refuses a proxy or a sparse array of more events than a record holds, reading none, writing nothing", async () => {
  const fs = SimFS.withDir("/w");
  const { wal } = await Wal.open<JsonValue>("/w", { codec, fs });
  await wal.commitTx([{ n: 0 }]);
  const next = wal.nextLsn();
  const sparse: JsonValue[] = [];
  sparse.length = 2 ** 32 - 1;
  for (const length of [2 ** 32 - 1, 4e9, MAX_RECORD_BYTES + 1]) {
    const proxy = claiming(length);
    const error = await refusal(() => wal.commitTx(proxy.events));
    expect(isWalError(error, "WAL_RECORD_TOO_LARGE"), String(error)).toBe(true);
    expect((error as Error).message).toBe(
      `commitTx: ${length} events cannot fit one record (at most ${MAX_RECORD_BYTES} bytes, at least one per event)`,
    );
    expect(proxy.reads()).toBe(0);
  }
  const tx = await wal.begin();
  const batch = claiming(MAX_RECORD_BYTES + 1);
  expect(isWalError(await refusal(() => wal.appendBatch(tx, batch.events)), "WAL_RECORD_TOO_LARGE")).toBe(true);
  expect(batch.reads()).toBe(0);
  await wal.abort(tx);
  const error = await refusal(() => wal.commitTx(sparse));
  expect(isWalError(error, "WAL_RECORD_TOO_LARGE"), String(error)).toBe(true);
  expect(wal.nextLsn()).toBe(next + 2);
  // At the bound itself the count is no refusal: such a batch goes on to the codec (here refused by the marker).
  const atBound = claiming(MAX_RECORD_BYTES);
  expect(isWalError(await refusal(() => wal.commitTx(atBound.events)), "WAL_RECORD_TOO_LARGE")).toBe(false);
  await wal.commitTx([{ n: 1 }]);
  await wal.close();
});
