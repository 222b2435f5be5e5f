/**
 * The replay's fast path (a synchronous loop over buffered records inside a hand-written async iterator) and the
 * assembler's single-open-transaction fields: the same results as the slow paths, and the iterator protocol kept.
 */

import { fc, test } from "@fast-check/vitest";
import { type JsonValue, jsonCodec, type WalRecord } from "@lora/wal-codec";
import { SegmentWriter, segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { replayDir } from "./replay.js";
import type { RecoveryMode, ReplayedTransaction } from "./replay-types.js";
import { TransactionAssembler } from "./transaction-assembler.js";

const DIR = "/wal";
type Rec = WalRecord<JsonValue>;

async function writeSegment(fs: SimFS, id: number, records: readonly Rec[], sealed: boolean): Promise<void> {
  fs.mkdirpSync(DIR);
  const w = await SegmentWriter.create(fs, segmentPath(DIR, id), records[0]?.lsn ?? 1);
  for (const r of records) w.append(r, jsonCodec);
  if (sealed) await w.seal();
  else await w.flush();
  await w.close();
}

/** Everything a replay hands out and reports, or how it failed, in comparable form. */
async function run(fs: SimFS, recovery: RecoveryMode, chunkBytes: number) {
  const replay = replayDir(DIR, { codec: jsonCodec, fs, recovery, chunkBytes });
  const txs: ReplayedTransaction<JsonValue>[] = [];
  try {
    for await (const t of replay) txs.push(t);
  } catch (error) {
    const e = error as { code?: string; message?: string };
    return { txs, failed: { code: e.code, message: e.message } };
  }
  const outcome = await replay.outcome();
  return {
    txs,
    outcome: {
      ...outcome,
      tornTail: outcome.tornTail && { ...outcome.tornTail, cause: outcome.tornTail.cause.code },
      corruption: outcome.corruption && { ...outcome.corruption, error: outcome.corruption.error.message },
    },
  };
}

/**
 * A log of transactions split over segments. Each transaction is `[events, interleaveWithNext, abort]`: an
 * interleaved pair is begun together, so the map holds one while the other sits in the fields.
 */
const logShape = fc.array(fc.tuple(fc.array(fc.nat(200), { maxLength: 3 }), fc.boolean(), fc.boolean(), fc.boolean()), {
  minLength: 1,
  maxLength: 12,
});

function buildRecords(shape: [number[], boolean, boolean, boolean][]): Rec[][] {
  const segments: Rec[][] = [[]];
  let lsn = 1;
  let open: { begin: number; sizes: number[]; abort: boolean }[] = [];
  const finish = (t: { begin: number; sizes: number[]; abort: boolean }) => {
    const seg = segments.at(-1) as Rec[];
    if (t.sizes.length > 0) {
      seg.push({ kind: "mutationBatch", lsn: lsn++, txBeginLsn: t.begin, events: t.sizes.map((n) => "x".repeat(n)) });
    }
    seg.push(
      t.abort
        ? { kind: "txAbort", lsn: lsn++, txBeginLsn: t.begin }
        : { kind: "txCommit", lsn: lsn++, txBeginLsn: t.begin },
    );
  };
  for (const [sizes, interleave, abort, rotate] of shape) {
    const seg = segments.at(-1) as Rec[];
    seg.push({ kind: "txBegin", lsn });
    open.push({ begin: lsn++, sizes, abort });
    if (interleave && open.length < 2) continue;
    // Finish in reverse begin order: the older transaction is in the map when the newer one commits.
    for (const t of open.reverse()) finish(t);
    open = [];
    if (rotate) segments.push([]);
  }
  for (const t of open) finish(t);
  return segments.filter((s) => s.length > 0);
}

describe("the fast path gives what the slow path gives", () => {
  test.prop(
    [
      logShape,
      fc.constantFrom<RecoveryMode>("tolerate-torn-tail", "absolute", "point-in-time"),
      fc.option(fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }), { nil: undefined }),
      fc.option(fc.nat(), { nil: undefined }),
    ],
    { numRuns: 100 },
  )("for any log, damage and recovery mode, with a tiny and a large read buffer", async (shape, mode, flip, cut) => {
    const fs = new SimFS();
    const segments = buildRecords(shape);
    for (const [i, records] of segments.entries()) await writeSegment(fs, i + 1, records, i < segments.length - 1);
    const last = `${DIR}/${fs.listSync(DIR).sort().at(-1)}`;
    let bytes = fs.readFileSync(last);
    if (flip !== undefined && bytes.byteLength > 32) {
      const at = 32 + (flip.at % (bytes.byteLength - 32));
      bytes[at] = (bytes[at] as number) ^ flip.xor;
    }
    if (cut !== undefined) bytes = bytes.subarray(0, 32 + (cut % (bytes.byteLength - 31)));
    fs.writeFileSync(last, bytes);
    // 25 bytes: nearly every record needs a refill (the slow path); 1 MiB: everything is buffered (the fast path).
    const small = await run(fs, mode, 25);
    const large = await run(fs, mode, 1 << 20);
    expect(large).toEqual(small);
  });
});

describe("the iterator", () => {
  async function commitTxLog(fs: SimFS, transactions: number, segments = 1): Promise<void> {
    let lsn = 1;
    for (let s = 1; s <= segments; s++) {
      const records: Rec[] = [];
      for (let i = 0; i < transactions; i++) {
        records.push(
          { kind: "txBegin", lsn },
          { kind: "mutationBatch", lsn: lsn + 1, txBeginLsn: lsn, events: [lsn] },
          { kind: "txCommit", lsn: lsn + 2, txBeginLsn: lsn },
        );
        lsn += 3;
      }
      await writeSegment(fs, s, records, s < segments);
    }
  }

  it("serves concurrent next() calls in order, like an async generator", async () => {
    const fs = new SimFS();
    await commitTxLog(fs, 5, 2);
    const it = replayDir(DIR, { codec: jsonCodec, fs })[Symbol.asyncIterator]();
    const results = await Promise.all(Array.from({ length: 12 }, () => it.next()));
    expect(results.map((r) => (r.done ? "done" : r.value.beginLsn))).toEqual([
      ...Array.from({ length: 10 }, (_, i) => 1 + 3 * i),
      "done",
      "done",
    ]);
  });

  it("a next() made while earlier calls wait is answered after them, even from a continuation", async () => {
    const fs = new SimFS();
    await commitTxLog(fs, 5);
    const it = replayDir(DIR, { codec: jsonCodec, fs })[Symbol.asyncIterator]();
    let third: Promise<IteratorResult<ReplayedTransaction<JsonValue>>> | undefined;
    // The first call has to open the segment (asynchronous); the second waits behind it; the third is made as soon
    // as the first resolves, while the second is still waiting, and must not overtake it.
    const first = it.next().then((r) => {
      third = it.next();
      return r;
    });
    const second = it.next();
    const got = [await first, await second, await (third as Promise<IteratorResult<ReplayedTransaction<JsonValue>>>)];
    expect(got.map((r) => (r.done ? "done" : r.value.beginLsn))).toEqual([1, 4, 7]);
  });

  it("return() before the first next() and in the middle settles the outcome and closes every file", async () => {
    const fs = new SimFS();
    await commitTxLog(fs, 50, 3);
    const early = replayDir(DIR, { codec: jsonCodec, fs });
    await early[Symbol.asyncIterator]().return?.();
    expect(await early.outcome()).toMatchObject({ complete: false, records: 0, segments: [] });

    const replay = replayDir(DIR, { codec: jsonCodec, fs });
    let seen = 0;
    for await (const _ of replay) if (++seen === 60) break;
    const outcome = await replay.outcome();
    expect(outcome).toMatchObject({ complete: false, committedTransactions: 60 });
    expect(outcome.segments).toHaveLength(1);
    expect(fs.stats.closes).toBe(fs.stats.opens);
  });

  it("an error thrown inside a buffered run rejects next() and the outcome with it, and closes the segment", async () => {
    const fs = new SimFS();
    await writeSegment(
      fs,
      1,
      [
        { kind: "txBegin", lsn: 1 },
        { kind: "txCommit", lsn: 2, txBeginLsn: 1 },
        { kind: "mutation", lsn: 3, txBeginLsn: 9, event: "orphan" },
      ],
      false,
    );
    const replay = replayDir(DIR, { codec: jsonCodec, fs });
    const it = replay[Symbol.asyncIterator]();
    expect((await it.next()).done).toBe(false);
    const failure = await it.next().catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: "WAL_MALFORMED" });
    await expect(replay.outcome()).rejects.toBe(failure);
    expect(await it.next()).toEqual({ value: undefined, done: true });
    expect(fs.stats.closes).toBe(fs.stats.opens);
  });

  it("an abort signal stops a replay that never leaves the buffer", async () => {
    const fs = new SimFS();
    await commitTxLog(fs, 5000);
    const controller = new AbortController();
    const replay = replayDir(DIR, { codec: jsonCodec, fs, signal: controller.signal });
    let seen = 0;
    const reason = new Error("enough");
    const failure = await (async () => {
      for await (const _ of replay) if (++seen === 10) controller.abort(reason);
    })().catch((e: unknown) => e);
    expect(failure).toBe(reason);
    // Checked before each transaction is handed over: the one that called abort() is the last.
    expect(seen).toBe(10);
    expect(fs.stats.closes).toBe(fs.stats.opens);
  });
});

/** The assembler before the fields: every open transaction in one map. The reference for the property below. */
function referenceAssembler(records: readonly WalRecord<number>[]) {
  const pending = new Map<number, number[]>();
  const out: unknown[] = [];
  for (const r of records) {
    if (r.kind === "txBegin") {
      if (pending.has(r.lsn)) return [...out, "malformed"];
      pending.set(r.lsn, []);
    } else if (r.kind === "mutation" || r.kind === "mutationBatch") {
      const bucket = pending.get(r.txBeginLsn);
      if (bucket === undefined) return [...out, "malformed"];
      if (r.kind === "mutation") bucket.push(r.event);
      else bucket.push(...r.events);
    } else if (r.kind === "txCommit") {
      const events = pending.get(r.txBeginLsn);
      if (events === undefined) return [...out, "malformed"];
      pending.delete(r.txBeginLsn);
      out.push({ beginLsn: r.txBeginLsn, commitLsn: r.lsn, events });
    } else if (r.kind === "txAbort") {
      if (!pending.delete(r.txBeginLsn)) return [...out, "malformed"];
    }
  }
  return [...out, `open ${pending.size}`];
}

describe("TransactionAssembler", () => {
  // Operations on up to four transactions, referenced by the index of their begin (or a begin that never was).
  const op = fc.oneof(
    fc.constant({ op: "begin" as const, ref: 0 }),
    fc.record({ op: fc.constantFrom("event" as const, "commit" as const, "abort" as const), ref: fc.nat(4) }),
  );

  test.prop([fc.array(op, { maxLength: 30 })], { numRuns: 300 })(
    "matches a map-only assembler on any interleaving, including references to transactions not open",
    (ops) => {
      const begins: number[] = [];
      const records: WalRecord<number>[] = [];
      let lsn = 1;
      for (const { op: kind, ref } of ops) {
        const target = begins[begins.length - 1 - ref] ?? 1000 + ref;
        if (kind === "begin") {
          begins.push(lsn);
          records.push({ kind: "txBegin", lsn: lsn++ });
        } else if (kind === "event") {
          records.push({ kind: "mutation", lsn, txBeginLsn: target, event: lsn++ });
        } else {
          records.push({ kind: kind === "commit" ? "txCommit" : "txAbort", lsn: lsn++, txBeginLsn: target });
        }
      }
      const assembler = new TransactionAssembler<number>(0);
      const got: unknown[] = [];
      try {
        for (const r of records) {
          const committed = assembler.apply(r, 1, "/wal/x");
          if (committed !== undefined) got.push(committed);
        }
        got.push(`open ${assembler.openTransactions}`);
      } catch (error) {
        expect(error).toMatchObject({ code: "WAL_MALFORMED" });
        got.push("malformed");
      }
      expect(got).toEqual(referenceAssembler(records));
    },
  );
});

describe("the read buffer shared by a directory walk", () => {
  /** The byte length of the buffer each read of each segment filled. */
  function recordReads(fs: SimFS): Map<string, number[]> {
    const reads = new Map<string, number[]>();
    const open = fs.open.bind(fs);
    fs.open = async (path, mode) => {
      const file = await open(path, mode);
      const note = (buffer: Uint8Array): void => {
        if (buffer.byteLength > 64) reads.set(path, [...(reads.get(path) ?? []), buffer.byteLength]);
      };
      const read = file.read.bind(file);
      file.read = (buffer, offset, length, position) => {
        note(buffer);
        return read(buffer, offset, length, position);
      };
      // Small reads go through readSync where the file has it.
      const readSync = file.readSync?.bind(file);
      if (readSync !== undefined) {
        file.readSync = (buffer, offset, length, position) => {
          note(buffer);
          return readSync(buffer, offset, length, position);
        };
      }
      return file;
    };
    return reads;
  }

  it("goes on to the next segment at the read size, not at the size one large record grew it to", async () => {
    const fs = new SimFS();
    const big = "x".repeat(20_000);
    await writeSegment(
      fs,
      1,
      [
        { kind: "txBegin", lsn: 1 },
        { kind: "mutation", lsn: 2, txBeginLsn: 1, event: big },
        { kind: "txCommit", lsn: 3, txBeginLsn: 1 },
      ],
      true,
    );
    await writeSegment(
      fs,
      2,
      [
        { kind: "txBegin", lsn: 4 },
        { kind: "mutation", lsn: 5, txBeginLsn: 4, event: "small" },
        { kind: "txCommit", lsn: 6, txBeginLsn: 4 },
      ],
      false,
    );
    const reads = recordReads(fs);
    const txs: ReplayedTransaction<JsonValue>[] = [];
    for await (const t of replayDir(DIR, { codec: jsonCodec, fs, chunkBytes: 4096 })) txs.push(t);
    expect(txs.map((t) => t.events)).toEqual([[big], ["small"]]);
    const first = reads.get(segmentPath(DIR, 1)) ?? [];
    const second = reads.get(segmentPath(DIR, 2)) ?? [];
    expect(Math.max(...first)).toBeGreaterThan(20_000);
    expect(second.length).toBeGreaterThan(0);
    expect(Math.max(...second)).toBeLessThanOrEqual(4096);
  });
});
