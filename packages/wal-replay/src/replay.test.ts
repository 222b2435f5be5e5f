import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeRecord, type JsonValue, jsonCodec } from "@lora/wal-codec";
import { encodeSegmentHeader, segmentPath } from "@lora/wal-segment";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { appendBytes, flipBit, type Rec, tx, writeSegment } from "../test/build-log.js";
import { replayDir, replaySegments } from "./replay.js";
import type { ReplayOptions } from "./replay-types.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-replay-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function collect(options: Partial<ReplayOptions<JsonValue>> = {}) {
  const replay = replayDir(dir, { codec: jsonCodec, ...options });
  const txs = [];
  for await (const t of replay) txs.push(t);
  return { txs, outcome: await replay.outcome() };
}

const events = (txs: { events: JsonValue[] }[]) => txs.flatMap((t) => t.events);

describe("transactions", () => {
  it("interleaved transactions come out in commit order, each in append order", async () => {
    const records: Rec[] = [
      { kind: "txBegin", lsn: 1 },
      { kind: "txBegin", lsn: 2 },
      { kind: "mutation", lsn: 3, txBeginLsn: 1, event: "a1" },
      { kind: "mutation", lsn: 4, txBeginLsn: 2, event: "b1" },
      { kind: "mutationBatch", lsn: 5, txBeginLsn: 1, events: ["a2", "a3"] },
      { kind: "txCommit", lsn: 6, txBeginLsn: 2 },
      { kind: "txCommit", lsn: 7, txBeginLsn: 1 },
    ];
    await writeSegment(dir, 1, 1, records);
    const { txs, outcome } = await collect();
    expect(txs).toEqual([
      { beginLsn: 2, commitLsn: 6, events: ["b1"] },
      { beginLsn: 1, commitLsn: 7, events: ["a1", "a2", "a3"] },
    ]);
    expect(outcome).toMatchObject({ maxLsn: 7, committedTransactions: 2, records: 7, complete: true });
    expect(outcome.tornTail).toBeNull();
    expect(outcome.lastGoodOffset).toBe((await stat(segmentPath(dir, 1))).size);
  });

  it("aborted and unfinished transactions are discarded; an empty committed one yields no events", async () => {
    await writeSegment(dir, 1, 1, [
      ...tx(1, ["keep"]),
      { kind: "txBegin", lsn: 4 },
      { kind: "mutation", lsn: 5, txBeginLsn: 4, event: "aborted" },
      { kind: "txAbort", lsn: 6, txBeginLsn: 4 },
      { kind: "txBegin", lsn: 7 },
      { kind: "txCommit", lsn: 8, txBeginLsn: 7 },
      { kind: "txBegin", lsn: 9 },
      { kind: "mutation", lsn: 10, txBeginLsn: 9, event: "open" },
    ]);
    const { txs, outcome } = await collect();
    expect(events(txs)).toEqual(["keep"]);
    expect(txs.map((t) => t.commitLsn)).toEqual([3, 8]);
    expect(outcome).toMatchObject({ abortedTransactions: 1, uncommittedTransactions: 1, maxLsn: 10 });
  });

  it("the fence skips records at or below it; fenced commits close their buckets; fenced markers are not observed", async () => {
    await writeSegment(dir, 1, 1, [
      ...tx(1, ["a"]),
      { kind: "checkpoint", lsn: 4, snapshotLsn: 3 },
      ...tx(5, ["b"]),
      { kind: "checkpoint", lsn: 8, snapshotLsn: 7 },
    ]);
    const fenced = await collect({ checkpointLsn: 4 });
    expect(events(fenced.txs)).toEqual(["b"]);
    expect(fenced.outcome.checkpointLsnObserved).toBe(7);
    expect(fenced.outcome.maxLsn).toBe(8);
    const all = await collect({ checkpointLsn: 8 });
    expect(all.txs).toEqual([]);
    expect(all.outcome.checkpointLsnObserved).toBeNull();
  });

  it("a fence inside a transaction is WAL_FENCE_IN_TRANSACTION naming the highest boundary below it", async () => {
    // tx 1..3 (begin, mutation, commit), tx 4..6: boundaries are 0, 3 and 6.
    await writeSegment(dir, 1, 1, [...tx(1, ["a"]), ...tx(4, ["b"])]);
    for (const [fence, usable] of [
      [1, 0],
      [2, 0],
      [4, 3],
      [5, 3],
    ] as const) {
      await expect(collect({ checkpointLsn: fence })).rejects.toMatchObject({
        code: "WAL_FENCE_IN_TRANSACTION",
        details: { usableFence: usable, oldestFence: 0 },
      });
    }
    for (const fence of [0, 3, 6]) await expect(collect({ checkpointLsn: fence })).resolves.toBeDefined();
  });

  it("a record naming a begin that never was is still malformed, fence or not", async () => {
    await writeSegment(dir, 1, 1, [...tx(1, ["a"]), { kind: "txCommit", lsn: 4, txBeginLsn: 2 }]);
    for (const fence of [0, 3]) {
      await expect(collect({ checkpointLsn: fence })).rejects.toMatchObject({
        code: "WAL_MALFORMED",
        message: expect.stringContaining("references missing tx begin 2"),
      });
    }
  });

  it("interleaved and unfinished transactions count: the usable fence lies below every one the fence cuts", async () => {
    // begin A@1, begin B@2, A mut@3, A commit@4, B mut@5, B commit@6, begin C@7 (never finished), mut C@8
    await writeSegment(dir, 1, 1, [
      { kind: "txBegin", lsn: 1 },
      { kind: "txBegin", lsn: 2 },
      { kind: "mutation", lsn: 3, txBeginLsn: 1, event: "a" },
      { kind: "txCommit", lsn: 4, txBeginLsn: 1 },
      { kind: "mutation", lsn: 5, txBeginLsn: 2, event: "b" },
      { kind: "txCommit", lsn: 6, txBeginLsn: 2 },
      { kind: "txBegin", lsn: 7 },
      { kind: "mutation", lsn: 8, txBeginLsn: 7, event: "c" },
    ]);
    await expect(collect({ checkpointLsn: 4 })).rejects.toMatchObject({
      code: "WAL_FENCE_IN_TRANSACTION",
      details: { usableFence: 0 },
    });
    const { outcome } = await collect({ checkpointLsn: 6 });
    const spans = outcome.transactionSpans;
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8].filter((l) => !spans.isInside(l))).toEqual([0, 6, 8]);
  });
});

describe("fence below the retained log", () => {
  it("is WAL_FENCE_TOO_LOW naming the lowest fence the log can serve, unless history may be missing", async () => {
    await writeSegment(dir, 4, 10, tx(10, ["a"]), { sealed: true });
    await writeSegment(dir, 5, 13, tx(13, ["b"]));
    for (const fence of [0, 8]) {
      await expect(collect({ checkpointLsn: fence })).rejects.toMatchObject({
        code: "WAL_FENCE_TOO_LOW",
        details: { oldestFence: 9, usableFence: 9 },
      });
    }
    expect(events((await collect({ checkpointLsn: 9 })).txs)).toEqual(["a", "b"]);
    const opted = await collect({ allowTruncatedHistory: true });
    expect(events(opted.txs)).toEqual(["a", "b"]);
    expect(opted.outcome.oldestFence).toBe(9);
  });

  it("names a fence past a transaction whose begin was truncated away", async () => {
    // The oldest retained segment starts inside a transaction begun at 8: its batch at 10 and commit at 11.
    await writeSegment(dir, 3, 10, [
      { kind: "mutation", lsn: 10, txBeginLsn: 8, event: "x" },
      { kind: "txCommit", lsn: 11, txBeginLsn: 8 },
      ...tx(12, ["b"]),
    ]);
    await expect(collect()).rejects.toMatchObject({ code: "WAL_FENCE_TOO_LOW", details: { usableFence: 11 } });
    await expect(collect({ checkpointLsn: 9 })).rejects.toMatchObject({
      code: "WAL_FENCE_IN_TRANSACTION",
      details: { oldestFence: 9 },
    });
    expect(events((await collect({ checkpointLsn: 11 })).txs)).toEqual(["b"]);
  });

  it("reports the newest checkpoint snapshot, fenced markers included", async () => {
    await writeSegment(dir, 1, 1, [...tx(1, ["a"]), { kind: "checkpoint", lsn: 4, snapshotLsn: 3 }, ...tx(5, ["b"])]);
    const { outcome } = await collect({ checkpointLsn: 4 });
    expect(outcome.checkpointLsnObserved).toBeNull();
    expect(outcome.newestSnapshotLsn).toBe(3);
  });
});

describe("malformed structure", () => {
  const cases: [string, Rec[], string][] = [
    [
      "commit without begin",
      [{ kind: "txCommit", lsn: 1, txBeginLsn: 99 }],
      "commit at lsn 1 references missing tx begin 99",
    ],
    [
      "abort without begin",
      [{ kind: "txAbort", lsn: 1, txBeginLsn: 99 }],
      "abort at lsn 1 references missing tx begin 99",
    ],
    [
      "mutation without begin",
      [{ kind: "mutation", lsn: 1, txBeginLsn: 99, event: 1 }],
      "mutation at lsn 1 references missing tx begin 99",
    ],
    [
      "batch with tx 0",
      [{ kind: "mutationBatch", lsn: 1, txBeginLsn: 0, events: [1] }],
      "mutation batch at lsn 1 references missing tx begin 0",
    ],
    [
      "double commit",
      [...tx(1, [1]), { kind: "txCommit", lsn: 4, txBeginLsn: 1 }],
      "commit at lsn 4 references missing tx begin 1",
    ],
    [
      "LSN not increasing",
      [
        { kind: "txBegin", lsn: 5 },
        { kind: "txBegin", lsn: 5 },
      ],
      "record lsn 5 is not greater than previous lsn 5",
    ],
    ["LSN below the base", [{ kind: "txBegin", lsn: 0 }], "record lsn 0 is below segment base_lsn 1"],
    [
      "future checkpoint",
      [{ kind: "checkpoint", lsn: 3, snapshotLsn: 4 }],
      "checkpoint at lsn 3 points to future snapshot lsn 4",
    ],
    [
      "regressing checkpoint",
      [
        { kind: "checkpoint", lsn: 3, snapshotLsn: 3 },
        { kind: "checkpoint", lsn: 4, snapshotLsn: 3 },
        { kind: "checkpoint", lsn: 5, snapshotLsn: 2 },
      ],
      "checkpoint snapshot lsn 2 regressed below previous checkpoint 3",
    ],
  ];
  for (const [name, records, message] of cases) {
    it(name, async () => {
      await writeSegment(dir, 1, 1, records);
      await expect(collect()).rejects.toMatchObject({
        code: "WAL_MALFORMED",
        message: expect.stringContaining(message),
      });
    });
  }

  it("segment bases must rise above the previous base and the previous record", async () => {
    await writeSegment(dir, 1, 10, tx(10, [1]), { sealed: true });
    await writeSegment(dir, 2, 10, []);
    await expect(collect({ checkpointLsn: 9 })).rejects.toMatchObject({
      message: expect.stringContaining("segment base_lsn 10 is not greater than previous base_lsn 10"),
    });
    await rm(segmentPath(dir, 2));
    await writeSegment(dir, 2, 12, []);
    await expect(collect({ checkpointLsn: 9 })).rejects.toMatchObject({
      message: expect.stringContaining("segment base_lsn 12 is not greater than previous record lsn 12"),
    });
  });

  it("gaps between LSNs are allowed, and the oldest segments may be gone (truncation)", async () => {
    await writeSegment(dir, 4, 1, tx(3, ["a"]), { sealed: true });
    await writeSegment(dir, 5, 100, tx(200, ["b"]));
    const { txs, outcome } = await collect();
    expect(events(txs)).toEqual(["a", "b"]);
    expect(outcome.segments.map((s) => [s.id, s.baseLsn, s.records, s.sealed])).toEqual([
      [4, 1, 3, true],
      [5, 100, 3, false],
    ]);
  });

  it("a segment missing from the middle is corruption, never a silently shorter history", async () => {
    const first = await writeSegment(dir, 1, 1, tx(1, ["a"]), { sealed: true });
    await writeSegment(dir, 3, 10, tx(10, ["c"]));
    await expect(collect()).rejects.toMatchObject({
      code: "WAL_CORRUPT",
      message: expect.stringContaining("segment 2 is missing"),
    });
    const pit = await collect({ recovery: "point-in-time" });
    expect(events(pit.txs)).toEqual(["a"]);
    expect(pit.outcome.corruption).toMatchObject({ segmentPath: first, segmentId: 1 });
  });

  it("a gap below the fence is what a crash during truncation leaves, and is accepted", async () => {
    await writeSegment(dir, 1, 1, tx(1, ["a"]), { sealed: true });
    await writeSegment(dir, 3, 10, tx(10, ["c"]));
    // Everything before segment 3 is in the snapshot: segment 2's removal was kept while segment 1's was undone.
    const { txs } = await collect({ checkpointLsn: 9 });
    expect(events(txs)).toEqual(["c"]);
    await expect(collect({ checkpointLsn: 8 })).rejects.toMatchObject({ code: "WAL_CORRUPT" });
  });
});

describe("torn tail versus corruption", () => {
  it("garbage after the last record is a torn tail, reported with where to cut", async () => {
    const path = await writeSegment(dir, 1, 1, tx(1, ["a"]));
    const clean = (await stat(path)).size;
    await appendBytes(path, new Uint8Array(32).fill(0xff));
    const { txs, outcome } = await collect();
    expect(events(txs)).toEqual(["a"]);
    expect(outcome.tornTail).toMatchObject({ segmentPath: path, offset: clean, droppedBytes: 32, segmentId: 1 });
    expect(outcome.lastGoodOffset).toBe(clean);
  });

  it("a zero-filled tail is the end (a preallocating writer's), neither damage nor empty records", async () => {
    const path = await writeSegment(dir, 1, 1, tx(1, ["a"]));
    const clean = (await stat(path)).size;
    await appendBytes(path, new Uint8Array(4096));
    for (const recovery of ["tolerate-torn-tail", "absolute", "point-in-time"] as const) {
      const { txs, outcome } = await collect({ recovery });
      expect(events(txs)).toEqual(["a"]);
      expect(outcome.tornTail).toBeNull();
      expect(outcome.corruption).toBeNull();
      expect(outcome.lastGoodOffset).toBe(clean);
    }
  });

  it("the unsynced window is measured back from the data's end, not from the end of a zero tail", async () => {
    const path = await writeSegment(dir, 1, 1, [...tx(1, ["a"]), ...tx(4, ["b"]), ...tx(7, ["c"])]);
    await flipBit(path, 32 + 25 + 10); // inside the first batch record, followed by intact markers
    await appendBytes(path, new Uint8Array(3 * 4096));
    // Within the last 4 KiB of data: may be a torn write, whatever follows it, however long the zeros after.
    const torn = await collect({ unsyncedWindowBytes: 4096 });
    expect(torn.outcome.tornTail?.offset).toBe(32 + 25);
    // Before the window (0 bytes here), the markers after it prove data follows: corruption, zeros or not.
    await expect(collect({ unsyncedWindowBytes: 0 })).rejects.toMatchObject({ code: "WAL_CORRUPT" });
  });

  it("zeros with one non-zero byte after them are a torn tail", async () => {
    const path = await writeSegment(dir, 1, 1, tx(1, ["a"]));
    const clean = (await stat(path)).size;
    const tail = new Uint8Array(4096);
    tail[4000] = 7;
    await appendBytes(path, tail);
    const { txs, outcome } = await collect();
    expect(events(txs)).toEqual(["a"]);
    expect(outcome.tornTail?.cause.code).toBe("WAL_BAD_LENGTH");
    expect(outcome.tornTail?.offset).toBe(clean);
  });

  it("every strict prefix of the last record is a torn tail", async () => {
    const records = [...tx(1, ["a"]), ...tx(4, ["b"])];
    const path = await writeSegment(dir, 1, 1, records);
    const full = (await stat(path)).size;
    const last = encodeRecord(records.at(-1) as Rec, jsonCodec).byteLength;
    const { readFile } = await import("node:fs/promises");
    const bytes = await readFile(path);
    for (let cut = full - last + 1; cut < full; cut++) {
      await writeFile(path, bytes.subarray(0, cut));
      const { txs, outcome } = await collect();
      expect(events(txs)).toEqual(["a"]);
      expect(outcome.tornTail?.offset).toBe(full - last);
      expect(outcome.uncommittedTransactions).toBe(1);
    }
  });

  it("a flipped bit followed by valid records before the unsynced window is corruption, never cut", async () => {
    // unsyncedWindowBytes 0: every byte of this small log counts as fsynced (the default window is 1 MiB).
    const synced = { unsyncedWindowBytes: 0 };
    const path = await writeSegment(dir, 1, 1, [...tx(1, ["a"]), ...tx(4, ["b"]), ...tx(7, ["c"])]);
    await flipBit(path, 32 + 25 + 10); // inside the first batch record
    await expect(collect(synced)).rejects.toMatchObject({ code: "WAL_CORRUPT", cause: { code: "WAL_CRC_MISMATCH" } });
    await expect(collect({ ...synced, recovery: "absolute" })).rejects.toMatchObject({ code: "WAL_CORRUPT" });
    const pit = await collect({ ...synced, recovery: "point-in-time" });
    expect(pit.txs).toEqual([]);
    expect(pit.outcome.corruption).toMatchObject({ offset: 32 + 25, validRecordAfter: { lsn: 3 } });
    expect(pit.outcome.tornTail).toBeNull();
  });

  it("the same flip within the unsynced window is a torn tail: a torn write may land later sectors first", async () => {
    const path = await writeSegment(dir, 1, 1, [...tx(1, ["a"]), ...tx(4, ["b"]), ...tx(7, ["c"])]);
    await flipBit(path, 32 + 25 + 10);
    const { txs, outcome } = await collect();
    expect(txs).toEqual([]);
    expect(outcome.tornTail).toMatchObject({ offset: 32 + 25 });
    expect(outcome.corruption).toBeNull();
  });

  it("a torn record whose payload holds CRC-valid records of higher LSNs is still a torn tail", async () => {
    // The user's bytes contain whole, CRC-valid frames (a stored WAL, or an attacker's choice).
    const inner = [...tx(100, ["x"]), { kind: "checkpoint", lsn: 200, snapshotLsn: 1 } as Rec].flatMap((r) =>
      Array.from(encodeRecord(r, jsonCodec)),
    );
    const text = Array.from(inner, (b) => String.fromCharCode(b)).join("");
    const path = await writeSegment(dir, 1, 1, [...tx(1, ["a"]), ...tx(4, [text.repeat(50)])]);
    const { readFile } = await import("node:fs/promises");
    const full = await readFile(path);
    // The second transaction's write is torn: its first sector never landed (zeros), the rest did.
    const second = 32 + tx(1, ["a"]).reduce((n, r) => n + encodeRecord(r, jsonCodec).byteLength, 0);
    full.fill(0, second, second + 512);
    await writeFile(path, full);
    const { txs, outcome } = await collect();
    expect(events(txs)).toEqual(["a"]);
    expect(outcome.tornTail).not.toBeNull();
    expect(outcome.corruption).toBeNull();
  });

  it("a CRC-valid record whose payload does not decode is corruption even at the very end", async () => {
    const path = await writeSegment(dir, 1, 1, tx(1, ["a"]));
    const bad = encodeRecord(
      { kind: "mutation", lsn: 4, txBeginLsn: 1, event: new Uint8Array([0x7b]) },
      {
        name: "raw",
        encodeEvent: (e: Uint8Array, out) => out.raw(e),
        encodeBatch: () => undefined,
        decodeEvent: (p) => p,
        decodeBatch: () => [],
      },
    );
    await appendBytes(path, bad);
    await expect(collect()).rejects.toMatchObject({ code: "WAL_CORRUPT", cause: { code: "WAL_DECODE" } });
    const pit = await collect({ recovery: "point-in-time" });
    expect(pit.outcome.corruption?.validRecordAfter).toBeUndefined();
    expect(events(pit.txs)).toEqual(["a"]);
  });

  it("damage in a segment that is not the newest is corruption", async () => {
    const first = await writeSegment(dir, 1, 1, [...tx(1, ["a"]), ...tx(4, ["b"])], { sealed: true });
    await writeSegment(dir, 2, 7, tx(7, ["c"]));
    const size = (await stat(first)).size;
    await flipBit(first, size - 2);
    await expect(collect()).rejects.toMatchObject({ code: "WAL_CORRUPT" });
    const pit = await collect({ recovery: "point-in-time" });
    expect(events(pit.txs)).toEqual(["a"]);
    expect(pit.outcome.corruption?.segmentId).toBe(1);
  });

  it("absolute mode refuses a torn tail; point-in-time reports it", async () => {
    const path = await writeSegment(dir, 1, 1, tx(1, ["a"]));
    await appendBytes(path, new Uint8Array([1, 2, 3]));
    await expect(collect({ recovery: "absolute" })).rejects.toMatchObject({ code: "WAL_TORN_TAIL" });
    const pit = await collect({ recovery: "point-in-time" });
    expect(pit.outcome.tornTail?.droppedBytes).toBe(3);
  });

  it("a newest segment too short for its header, or all zeros, is reported as headerless", async () => {
    await writeSegment(dir, 1, 1, tx(1, ["a"]), { sealed: true });
    await writeFile(segmentPath(dir, 2), new Uint8Array(10));
    let r = await collect();
    expect(events(r.txs)).toEqual(["a"]);
    expect(r.outcome.headerlessLastSegment).toMatchObject({ id: 2, fileSize: 10 });
    await writeFile(segmentPath(dir, 2), new Uint8Array(32));
    r = await collect();
    expect(r.outcome.headerlessLastSegment?.fileSize).toBe(32);
    // All zeros at any length (a preallocated file whose header never landed) holds no records either.
    await writeFile(segmentPath(dir, 2), new Uint8Array(100));
    r = await collect();
    expect(r.outcome.headerlessLastSegment).toMatchObject({ id: 2, fileSize: 100 });
    // Zeros in the header but not after it: records may have been written after a durable header, so it is damage.
    const zeroHeader = new Uint8Array(100);
    zeroHeader[60] = 1;
    await writeFile(segmentPath(dir, 2), zeroHeader);
    await expect(collect()).rejects.toMatchObject({ code: "WAL_BAD_HEADER" });
    // A non-zero bad header is not a crash artefact: it is refused.
    await writeFile(segmentPath(dir, 2), new Uint8Array(32).fill(7));
    await expect(collect()).rejects.toMatchObject({ code: "WAL_BAD_HEADER" });
    // A header write cut short (some of its bytes landed, the rest, the last one included, are zeros), with no byte
    // after it: no record
    // can follow, so it is a creation that did not finish (found by torture tier F killing a writer mid-write).
    const torn = encodeSegmentHeader({ baseLsn: 7, sealed: false });
    torn.fill(0, 20); // the write landed up to byte 20
    torn[3] = 0;
    await writeFile(segmentPath(dir, 2), torn);
    r = await collect();
    expect(r.outcome.headerlessLastSegment).toMatchObject({ id: 2, fileSize: 32 });
    // The same bytes with a record's worth after them: records may follow a header that was durable once.
    await writeFile(segmentPath(dir, 2), Buffer.concat([torn, new Uint8Array(40).fill(1)]));
    await expect(collect()).rejects.toMatchObject({ code: "WAL_BAD_HEADER" });
    // A magic byte that is neither what a header holds there nor zero: no write cut short leaves it, so it is damage,
    // even with every other byte right or zero.
    const wrongByte = torn.slice();
    wrongByte[1] = (wrongByte[1] as number) ^ 0x40;
    expect(wrongByte[1]).not.toBe(0);
    await writeFile(segmentPath(dir, 2), wrongByte);
    await expect(collect()).rejects.toMatchObject({ code: "WAL_BAD_HEADER" });
  });
});

describe("a headerless newest segment after a missing one", () => {
  it("is corruption at the end of the last readable segment; point-in-time keeps it and cuts the rest", async () => {
    await writeSegment(dir, 1, 1, tx(1, ["a"]), { sealed: true });
    const end = (await stat(segmentPath(dir, 1))).size;
    await writeFile(segmentPath(dir, 3), new Uint8Array(10)); // segment 2 is missing
    await expect(collect()).rejects.toMatchObject({
      code: "WAL_CORRUPT",
      details: { segment: segmentPath(dir, 1), offset: end, segmentId: 1 },
    });
    await expect(collect({ recovery: "absolute" })).rejects.toMatchObject({ code: "WAL_CORRUPT" });
    const pit = await collect({ recovery: "point-in-time" });
    expect(events(pit.txs)).toEqual(["a"]);
    expect(pit.outcome.corruption).toMatchObject({ segmentPath: segmentPath(dir, 1), segmentId: 1, offset: end });
    expect(pit.outcome.headerlessLastSegment).toBeNull();
    // Segment 2 present and sealed: the same headerless segment 3 is a rotation cut short.
    await writeSegment(dir, 2, 4, tx(4, ["b"]), { sealed: true });
    const r = await collect();
    expect(events(r.txs)).toEqual(["a", "b"]);
    expect(r.outcome.headerlessLastSegment).toMatchObject({ id: 3, fileSize: 10 });
  });
});

describe("streaming", () => {
  it("hands transactions over before reading the rest, and reports an early stop", async () => {
    await writeSegment(dir, 1, 1, [...tx(1, ["a"]), ...tx(4, ["b"])]);
    const replay = replayDir(dir, { codec: jsonCodec });
    for await (const t of replay) {
      expect(t.events).toEqual(["a"]);
      break;
    }
    expect((await replay.outcome()).complete).toBe(false);
  });

  it("outcome() alone drains the replay", async () => {
    await writeSegment(dir, 1, 1, [...tx(1, ["a"]), ...tx(4, ["b"])]);
    const outcome = await replayDir(dir, { codec: jsonCodec }).outcome();
    expect(outcome).toMatchObject({ committedTransactions: 2, complete: true, maxLsn: 6 });
  });

  it("replays explicit segment paths", async () => {
    const a = await writeSegment(dir, 1, 1, tx(1, ["a"]), { sealed: true });
    const b = await writeSegment(dir, 2, 4, tx(4, ["b"]));
    const replay = replaySegments([a, b], { codec: jsonCodec });
    const got = [];
    for await (const t of replay) got.push(...t.events);
    expect(got).toEqual(["a", "b"]);
  });

  it("a missing directory is WAL_IO; an abort signal stops the replay", async () => {
    await expect(replayDir(join(dir, "nope"), { codec: jsonCodec }).outcome()).rejects.toMatchObject({
      code: "WAL_IO",
    });
    await writeSegment(dir, 1, 1, tx(1, ["a"]));
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    await expect(replayDir(dir, { codec: jsonCodec, signal: controller.signal }).outcome()).rejects.toThrow("stop");
  });

  it("invalid options are refused with WAL_INVALID_OPTION", () => {
    expect(() => replayDir(dir, { codec: jsonCodec, checkpointLsn: -1 })).toThrow(
      expect.objectContaining({ code: "WAL_INVALID_OPTION" }),
    );
    expect(() => replayDir(dir, { codec: jsonCodec, recovery: "yolo" as never })).toThrow(
      expect.objectContaining({ code: "WAL_INVALID_OPTION" }),
    );
  });

  it("a codec, allowTruncatedHistory or signal of the wrong type is refused at once", () => {
    const refused: Partial<ReplayOptions<JsonValue>>[] = [
      { codec: undefined as never },
      { codec: {} as never },
      { codec: { ...jsonCodec, decodeBatch: undefined } as never },
      { codec: { decodeEvent: jsonCodec.decodeEvent, decodeBatch: jsonCodec.decodeBatch } as never },
      // Taken as true, this read across truncated history where the fence check should have refused.
      { allowTruncatedHistory: "no" as never },
      { allowTruncatedHistory: 0 as never },
      { signal: {} as never },
      { signal: "x" as never },
    ];
    for (const bad of refused) {
      expect(() => replayDir(dir, { codec: jsonCodec, ...bad }), JSON.stringify(bad)).toThrow(
        expect.objectContaining({ code: "WAL_INVALID_OPTION" }),
      );
      expect(() => replaySegments([], { codec: jsonCodec, ...bad }), JSON.stringify(bad)).toThrow(
        expect.objectContaining({ code: "WAL_INVALID_OPTION" }),
      );
    }
  });

  it("options that are not an object, and segment paths that are not an array of strings, are refused at once", () => {
    for (const options of [null, undefined, "json"]) {
      expect(() => replayDir(dir, options as never), String(options)).toThrow(
        expect.objectContaining({ code: "WAL_INVALID_OPTION" }),
      );
      expect(() => replaySegments([], options as never), String(options)).toThrow(
        expect.objectContaining({ code: "WAL_INVALID_OPTION" }),
      );
    }
    // A string used to be walked as an array of one-character paths.
    for (const paths of ["abc", null, [1]]) {
      expect(() => replaySegments(paths as never, { codec: jsonCodec }), String(paths)).toThrow(
        expect.objectContaining({ code: "WAL_INVALID_ARGUMENT" }),
      );
    }
  });

  it("a decode-only codec is enough to replay (a replay never encodes)", async () => {
    await writeSegment(dir, 1, 1, [...tx(1, ["a"])]);
    const decodeOnly = { name: "json", decodeEvent: jsonCodec.decodeEvent, decodeBatch: jsonCodec.decodeBatch };
    const events: unknown[] = [];
    for await (const t of replayDir(dir, { codec: decodeOnly as never })) events.push(...t.events);
    expect(events).toEqual(["a"]);
  });

  it("a read size that is not an integer of at least 1 is refused at once; any such size replays every record", async () => {
    await writeSegment(dir, 1, 1, [...tx(1, ["a", "b"]), ...tx(4, ["c"])]);
    // NaN used to replay nothing at all, and -1 to fail with a RangeError that has no code.
    for (const chunkBytes of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "4096" as never]) {
      expect(() => replayDir(dir, { codec: jsonCodec, chunkBytes }), String(chunkBytes)).toThrow(
        expect.objectContaining({ code: "WAL_INVALID_OPTION", message: expect.stringContaining("chunkBytes") }),
      );
    }
    for (const chunkBytes of [1, 3, 25, 4096]) {
      const events: unknown[] = [];
      const r = replayDir(dir, { codec: jsonCodec, chunkBytes });
      for await (const tx of r) events.push(...tx.events);
      expect(events, String(chunkBytes)).toEqual(["a", "b", "c"]);
    }
  });
});
