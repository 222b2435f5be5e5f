import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fc, test } from "@fast-check/vitest";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Rec, writeSegment } from "../test/build-log.js";
import { readCommitted } from "./read-committed.js";
import type { CommittedTransaction } from "./replay-types.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-resume-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Op = { kind: "begin" } | { kind: "append" | "commit" | "abort"; pick: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.constant<Op>({ kind: "begin" }),
  fc.record({ kind: fc.constantFrom("append", "commit", "abort"), pick: fc.nat(7) }) as fc.Arbitrary<Op>,
);

/** Records of low-level transactions used concurrently, some left open (a writer that died with them open). */
function interleaved(ops: readonly Op[]): Rec[] {
  const records: Rec[] = [];
  const open: number[] = [];
  let lsn = 1;
  for (const op of ops) {
    if (op.kind === "begin") {
      records.push({ kind: "txBegin", lsn });
      open.push(lsn++);
      continue;
    }
    if (open.length === 0) continue;
    const i = op.pick % open.length;
    const begin = open[i] as number;
    if (op.kind === "append") records.push({ kind: "mutation", lsn: lsn++, txBeginLsn: begin, event: { lsn } });
    else {
      records.push({ kind: op.kind === "commit" ? "txCommit" : "txAbort", lsn: lsn++, txBeginLsn: begin });
      open.splice(i, 1);
    }
  }
  return records;
}

/** Write `records` as segments cut before the given record indexes (sealed but the last). */
async function writeCut(records: readonly Rec[], cuts: readonly number[]): Promise<void> {
  const starts = [...new Set([0, ...cuts.map((c) => c % Math.max(1, records.length))])].sort((a, b) => a - b);
  for (let s = 0; s < starts.length; s++) {
    const part = records.slice(starts[s], starts[s + 1] ?? records.length);
    const base = (part[0] as Rec | undefined)?.lsn ?? 1;
    await writeSegment(dir, s + 1, base, part, { sealed: s < starts.length - 1 });
  }
}

const read = async (options: { after?: number; restartLsn?: number } = {}) => {
  const out: CommittedTransaction<JsonValue>[] = [];
  for await (const t of readCommitted<JsonValue>(dir, { codec: jsonCodec, ...options })) out.push(t);
  return out;
};

describe("readCommitted: exact resume tokens", () => {
  test.prop([fc.array(opArb, { minLength: 1, maxLength: 60 }), fc.array(fc.nat(80), { maxLength: 4 })], {
    numRuns: 200,
  })("resuming from any delivered transaction's token returns exactly the rest", async (ops, cuts) => {
    await rm(dir, { recursive: true, force: true });
    dir = await mkdtemp(join(tmpdir(), "lora-wal-resume-"));
    const records = interleaved(ops);
    if (records.length === 0) return;
    await writeCut(records, cuts);
    const all = await read();
    let previous = 1;
    for (const [i, t] of all.entries()) {
      expect(t.restartLsn).toBeLessThanOrEqual(t.commitLsn + 1);
      expect(t.restartLsn).toBeGreaterThanOrEqual(previous);
      previous = t.restartLsn;
      const rest = await read({ after: t.commitLsn, restartLsn: t.restartLsn });
      expect(rest.map((r) => [r.beginLsn, r.commitLsn, r.events])).toEqual(
        all.slice(i + 1).map((r) => [r.beginLsn, r.commitLsn, r.events]),
      );
      expect(rest.map((r) => r.restartLsn)).toEqual(all.slice(i + 1).map((r) => r.restartLsn));
    }
  });

  it("a transaction begun before the token's commit and committed after it is delivered whole on resume", async () => {
    // T1 begins (1), T2 begins (2), T2 writes (3) and commits (4), T1 writes (5) and commits (6).
    await writeSegment(
      dir,
      1,
      1,
      [
        { kind: "txBegin", lsn: 1 },
        { kind: "txBegin", lsn: 2 },
        { kind: "mutation", lsn: 3, txBeginLsn: 2, event: "t2" },
      ],
      { sealed: true },
    );
    await writeSegment(dir, 2, 4, [
      { kind: "txCommit", lsn: 4, txBeginLsn: 2 },
      { kind: "mutation", lsn: 5, txBeginLsn: 1, event: "t1" },
      { kind: "txCommit", lsn: 6, txBeginLsn: 1 },
    ]);
    const [t2, t1] = await read();
    expect(t2).toMatchObject({ beginLsn: 2, commitLsn: 4, restartLsn: 1 });
    expect(t1).toMatchObject({ beginLsn: 1, commitLsn: 6, restartLsn: 7 });
    // The exact token reads T1 again; the commit LSN alone (LoraDB's rule) cannot, as documented.
    expect(await read({ after: 4, restartLsn: 1 })).toEqual([
      { beginLsn: 1, commitLsn: 6, events: ["t1"], restartLsn: 7 },
    ]);
    expect(await read({ after: 4 })).toEqual([]);
  });

  it("refuses a restartLsn above after + 1 (after defaults to 0) or below 1", async () => {
    await expect(read({ after: 4, restartLsn: 6 })).rejects.toMatchObject({ code: "WAL_INVALID_OPTION" });
    await expect(read({ restartLsn: 2 })).rejects.toMatchObject({ code: "WAL_INVALID_OPTION" });
    await expect(read({ after: 4, restartLsn: 0 })).rejects.toMatchObject({ code: "WAL_INVALID_OPTION" });
  });
});
