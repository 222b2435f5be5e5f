import { fc, test } from "@fast-check/vitest";
import type { WalFileSystem } from "@lora/wal-segment";
import { countingFileSystem, SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { type JsonValue, jsonCodec, readCommitted, Wal } from "./index.js";

// An in-process follower at the live end is handed commitTx transactions from memory, not from the segment. These
// tests pin both halves of that: it really reads nothing back, and whatever mix of commitTx, low-level
// transactions, markers and rotation the writer does, what it delivers is exactly what the file holds.

type Tx = { beginLsn: number; commitLsn: number; events: JsonValue[] };

/** A file system that counts the bytes read from segment files. */
function countingReads(inner: SimFS): { fs: WalFileSystem; segmentBytesRead: () => number } {
  const { fs, counts } = countingFileSystem(inner);
  return { fs, segmentBytesRead: () => counts.totalBytesRead((path) => path.endsWith(".wal")) };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 20_000 && !cond(); i++) await new Promise((r) => setImmediate(r));
  if (!cond()) throw new Error(`never: ${what}`);
}

function consume(it: AsyncIterable<Tx>, out: Tx[]): Promise<void> {
  return (async () => {
    for await (const tx of it) out.push(tx);
  })();
}

describe("wal.follow at the live end", () => {
  it("takes commitTx transactions from memory: no segment byte is read back", async () => {
    const sim = new SimFS();
    const { fs, segmentBytesRead } = countingReads(sim);
    const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs });
    await wal.commitTx([{ before: true }]); // in the file before the follower starts: read from there
    const got: Tx[] = [];
    const done = consume(wal.follow(), got);
    await until(() => got.length === 1, "the first delivery");
    const readAtLiveEnd = segmentBytesRead();
    for (let i = 0; i < 50; i++) await wal.commitTx([{ i }]);
    await until(() => got.length === 51, "51 deliveries");
    expect(segmentBytesRead()).toBe(readAtLiveEnd);
    expect(got.slice(1).map((t) => t.events)).toEqual(Array.from({ length: 50 }, (_, i) => [{ i }]));
    await wal.close();
    await done;
  });

  it("hands out copies: a caller changing its event after commitTx does not change what is delivered", async () => {
    const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs: new SimFS() });
    const got: Tx[] = [];
    const done = consume(wal.follow(), got);
    const event = { n: 1 };
    await wal.commitTx([event]);
    event.n = 2;
    await until(() => got.length === 1, "a delivery");
    expect(got[0]?.events).toEqual([{ n: 1 }]);
    await wal.close();
    await done;
  });

  const op = fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant("commitTx" as const), n: fc.integer({ min: 1, max: 3 }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("begin" as const) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("append" as const), pick: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("commit" as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("abort" as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("checkpoint" as const) }) },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant("yield" as const), turns: fc.integer({ min: 1, max: 30 }) }),
    },
  );

  test.prop(
    [
      fc.array(op, { minLength: 10, maxLength: 60 }),
      fc.constantFrom("durable" as const, "written" as const),
      fc.constantFrom("perCommit" as const, "none" as const),
    ],
    { numRuns: 60 },
  )(
    "whatever the writer mixes, the follower delivers exactly what readCommitted reads from the file",
    async (ops, durability, syncMode) => {
      const fs = new SimFS();
      const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs, segmentTargetBytes: 300, syncMode });
      const got: Tx[] = [];
      // A follower that lags (yields between deliveries) and one that keeps up: each moves between file and memory.
      const eager = consume(wal.follow({ durability }), got);
      const lagging: Tx[] = [];
      const slow = (async () => {
        for await (const tx of wal.follow({ durability })) {
          lagging.push(tx);
          if (lagging.length % 3 === 0) for (let k = 0; k < 5; k++) await new Promise((r) => setImmediate(r));
        }
      })();
      const open: number[] = [];
      let i = 0;
      for (const o of ops) {
        switch (o.kind) {
          case "commitTx":
            await wal.commitTx(Array.from({ length: o.n }, () => ({ i: i++ })));
            break;
          case "begin":
            open.push(await wal.begin());
            break;
          case "append":
            if (open.length > 0) await wal.append(open[o.pick % open.length] as number, { i: i++ });
            break;
          case "commit":
          case "abort": {
            if (open.length === 0) break;
            const [tx] = open.splice(o.pick % open.length, 1);
            if (o.kind === "commit") await wal.commit(tx as number);
            else await wal.abort(tx as number);
            break;
          }
          case "checkpoint":
            if (open.length === 0) await wal.checkpointMarker(wal.safeCheckpointLsn());
            break;
          case "yield":
            for (let k = 0; k < o.turns; k++) await new Promise((r) => setImmediate(r));
            break;
        }
        if (syncMode === "none" && i % 4 === 0) await wal.sync();
      }
      for (const tx of open) await wal.commit(tx);
      await wal.close();
      await Promise.all([eager, slow]);
      const expected: Tx[] = [];
      for await (const tx of readCommitted<JsonValue>("/w", { codec: jsonCodec, fs })) expected.push(tx);
      const shape = (txs: Tx[]) => txs.map((t) => `${t.beginLsn}-${t.commitLsn}:${JSON.stringify(t.events)}`);
      expect(shape(got)).toEqual(shape(expected));
      expect(shape(lagging)).toEqual(shape(expected));
    },
  );
});
