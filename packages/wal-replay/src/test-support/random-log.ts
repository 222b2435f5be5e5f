/**
 * Random logs for property tests of replay: operations (begins, events, batches, commits, aborts, checkpoints, LSN
 * gaps, rotations, and with `allowBad` rule violations) and the segments of records they make. Shared by the
 * differential test against the reference replay and the range tests.
 */

import { fc } from "@fast-check/vitest";
import type { WalRecord } from "@lora/wal-codec";

export type Op =
  | { op: "begin" }
  | { op: "event"; ref: number; size: number }
  | { op: "batch"; ref: number; sizes: number[] }
  | { op: "commit"; ref: number }
  | { op: "abort"; ref: number }
  | { op: "checkpoint"; back: number }
  | { op: "skip"; n: number }
  | { op: "repeat" }
  | { op: "rotate" };

export const size = fc.oneof(
  { weight: 5, arbitrary: fc.nat(40) },
  { weight: 1, arbitrary: fc.constantFrom(0, 1023, 1024, 1025, 2000, 9000) },
);
export const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ op: "begin" as const }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant("event" as const), ref: fc.nat(3), size }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("batch" as const),
      ref: fc.nat(3),
      sizes: fc.array(size, { minLength: 1, maxLength: 4 }),
    }),
  },
  { weight: 4, arbitrary: fc.record({ op: fc.constant("commit" as const), ref: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("abort" as const), ref: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("checkpoint" as const), back: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("skip" as const), n: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.constant({ op: "repeat" as const }) },
  { weight: 2, arbitrary: fc.constant({ op: "rotate" as const }) },
);

export function eventOf(codecName: string, n: number, seed: number): unknown {
  if (codecName === "json") return "x".repeat(n) + String(seed);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (seed * 31 + i * 7) & 0xff;
  return b;
}

export function buildSegments(ops: Op[], codecName: string, allowBad: boolean): WalRecord<unknown>[][] {
  const segs: WalRecord<unknown>[][] = [[]];
  let lsn = 1;
  const open: number[] = [];
  let lastCp = 0;
  // With `allowBad`, a reference may name a transaction that is not open (a commit or mutation for an unknown tx).
  const target = (ref: number) =>
    open.length === 0
      ? allowBad
        ? 5000 + ref
        : undefined
      : (open[open.length - 1 - (ref % (allowBad ? 4 : open.length))] ?? 5000 + ref);
  for (const o of ops) {
    const seg = segs.at(-1) as WalRecord<unknown>[];
    switch (o.op) {
      case "begin":
        open.push(lsn);
        seg.push({ kind: "txBegin", lsn: lsn++ });
        break;
      case "event": {
        const t = target(o.ref);
        if (t === undefined) break;
        seg.push({ kind: "mutation", lsn, txBeginLsn: t, event: eventOf(codecName, o.size, lsn) });
        lsn++;
        break;
      }
      case "batch": {
        const t = target(o.ref);
        if (t === undefined) break;
        seg.push({
          kind: "mutationBatch",
          lsn,
          txBeginLsn: t,
          events: o.sizes.map((s, i) => eventOf(codecName, s, lsn * 10 + i)),
        });
        lsn++;
        break;
      }
      case "commit":
      case "abort": {
        const t = target(o.ref);
        if (t === undefined) break;
        const i = open.indexOf(t);
        if (i >= 0) open.splice(i, 1);
        seg.push({ kind: o.op === "commit" ? "txCommit" : "txAbort", lsn: lsn++, txBeginLsn: t });
        break;
      }
      case "checkpoint": {
        const snap = Math.max(lastCp, lsn - 1 - o.back, 0);
        lastCp = snap;
        seg.push({ kind: "checkpoint", lsn: lsn++, snapshotLsn: snap });
        break;
      }
      case "skip":
        lsn += o.n;
        break;
      case "repeat":
        if (allowBad && lsn > 1) seg.push({ kind: "txBegin", lsn: lsn - 1 });
        break;
      case "rotate":
        segs.push([]);
        break;
    }
  }
  return segs;
}

export type Tx = typeof txArb extends fc.Arbitrary<infer T> ? T : never;
export const txArb = fc.record({
  events: fc.array(fc.tuple(size, fc.boolean()), { maxLength: 4 }),
  interleave: fc.boolean(),
  end: fc.constantFrom("commit", "commit", "commit", "commit", "commit", "commit", "abort", "none"),
  rotate: fc.constantFrom(false, false, false, true),
  checkpoint: fc.constantFrom(false, false, false, false, true),
  skip: fc.constantFrom(0, 0, 0, 0, 1, 3),
});
export function txOps(txs: Tx[]): Op[] {
  const ops: Op[] = [];
  let pending: Tx[] = [];
  const finish = (t: Tx, ref: number) => {
    const batch: number[] = [];
    for (const [n, b] of t.events) {
      if (b) batch.push(n);
      else ops.push({ op: "event", ref, size: n });
    }
    if (batch.length > 0) ops.push({ op: "batch", ref, sizes: batch });
    if (t.end !== "none") ops.push({ op: t.end as "commit" | "abort", ref });
  };
  for (const t of txs) {
    ops.push({ op: "begin" });
    pending.push(t);
    if (t.interleave && pending.length < 3) continue;
    // Finish the newest first, then older ones (ref 0 = newest open).
    for (const x of pending.reverse()) finish(x, 0);
    pending = [];
    if (t.checkpoint) ops.push({ op: "checkpoint", back: 2 });
    if (t.skip) ops.push({ op: "skip", n: t.skip });
    if (t.rotate) ops.push({ op: "rotate" });
  }
  for (const x of pending) finish(x, 0);
  return ops;
}
export const opsArb = fc.oneof(
  { weight: 4, arbitrary: fc.array(txArb, { minLength: 1, maxLength: 25 }).map(txOps) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.array(txArb, { minLength: 1, maxLength: 25 }).map(txOps),
        fc.array(fc.tuple(fc.nat(), opArb), { maxLength: 3 }),
      )
      .map(([ops, extra]) => {
        const out = [...ops];
        for (const [at, o] of extra) out.splice(at % (out.length + 1), 0, o);
        return out;
      }),
  },
);
