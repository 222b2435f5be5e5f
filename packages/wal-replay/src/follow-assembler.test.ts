import { fc, test } from "@fast-check/vitest";
import { WalError, type WalRecord } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import { FollowAssembler } from "./follow-assembler.js";

/**
 * The assembler's rules written the plain way (every open transaction in one map, in begin order), to hold the
 * fast path for the newest open transaction to: same transactions, same events, same resume tokens, same open set.
 */
class PlainAssembler {
  readonly open = new Map<number, number[]>();
  floor: number;
  deadBelow: number;
  lastLsn = 0;

  constructor(floor: number, deadBelow: number) {
    this.floor = floor;
    this.deadBelow = deadBelow;
  }

  forgetDead(): void {
    for (const begin of [...this.open.keys()]) if (begin < this.deadBelow) this.open.delete(begin);
  }

  apply(r: WalRecord<number>) {
    if (r.lsn >= this.deadBelow && this.lastLsn < this.deadBelow) this.forgetDead();
    this.lastLsn = r.lsn;
    if (r.kind === "txBegin") {
      this.open.set(r.lsn, []);
      return undefined;
    }
    if (r.kind === "checkpoint") return undefined;
    const events = this.open.get(r.txBeginLsn);
    if (events === undefined) {
      // Begun below the floor: skipped. Otherwise its begin is unknown (or was forgotten as dead): malformed.
      if (r.txBeginLsn < this.floor) return undefined;
      throw new Error("malformed");
    }
    if (r.kind === "mutation") events.push(r.event);
    else if (r.kind === "mutationBatch") events.push(...r.events);
    else {
      this.open.delete(r.txBeginLsn);
      if (r.kind === "txAbort") return undefined;
      const restartLsn = Math.min(r.lsn + 1, ...this.open.keys());
      return { beginLsn: r.txBeginLsn, commitLsn: r.lsn, events, restartLsn };
    }
    return undefined;
  }
}

type Step = { op: "begin" } | { op: "event"; tx: number; batch: boolean } | { op: "end"; tx: number; commit: boolean };

/** Records for `steps`: LSNs from `start`, each step acting on the `tx`-th transaction still open (modulo). */
function recordsOf(steps: readonly Step[], start: number): WalRecord<number>[] {
  const open: number[] = [];
  const out: WalRecord<number>[] = [];
  let lsn = start;
  for (const step of steps) {
    if (step.op === "begin") {
      open.push(lsn);
      out.push({ kind: "txBegin", lsn: lsn++ });
      continue;
    }
    if (open.length === 0) continue;
    const i = step.tx % open.length;
    const begin = open[i] as number;
    if (step.op === "event") {
      out.push(
        step.batch
          ? { kind: "mutationBatch", lsn, txBeginLsn: begin, events: [lsn, -lsn] }
          : { kind: "mutation", lsn, txBeginLsn: begin, event: lsn },
      );
      lsn++;
    } else {
      open.splice(i, 1);
      out.push({ kind: step.commit ? "txCommit" : "txAbort", lsn: lsn++, txBeginLsn: begin });
    }
  }
  return out;
}

// Events weighted up, so that transactions of several records (mutations and batches mixed) are common.
const steps = fc.array(
  fc.oneof(
    { arbitrary: fc.constant<Step>({ op: "begin" }), weight: 1 },
    { arbitrary: fc.record({ op: fc.constant("event" as const), tx: fc.nat(4), batch: fc.boolean() }), weight: 4 },
    { arbitrary: fc.record({ op: fc.constant("end" as const), tx: fc.nat(4), commit: fc.boolean() }), weight: 1 },
  ),
  { maxLength: 60 },
);

describe("FollowAssembler", () => {
  test.prop([steps, fc.nat(5), fc.nat(80), fc.boolean()], { numRuns: 300 })(
    "assembles interleaved transactions exactly as the plain rules do, tokens and open set included",
    (plan, skip, dead, adoptBatches) => {
      const all = recordsOf(plan, 1);
      // Reading may start past the first records (a follower starts at some segment): what began before is skipped.
      const records = all.slice(Math.min(skip, all.length));
      const floor = records[0]?.lsn ?? 1;
      // Adopting batch arrays is sound here: every batch record has an events array of its own.
      const fast = new FollowAssembler<number>(floor, dead, adoptBatches);
      const plain = new PlainAssembler(floor, dead);
      for (const r of records) {
        const outcome = (apply: () => unknown) => {
          try {
            return { value: apply() };
          } catch (error) {
            return { threw: (error as { code?: string }).code ?? "malformed" };
          }
        };
        const got = outcome(() => fast.apply(r, "/seg"));
        const want = outcome(() => plain.apply(r));
        if ("threw" in want) {
          // A record of a transaction forgotten as dead: the generator does not keep sessions apart.
          expect(got).toEqual({ threw: "WAL_MALFORMED" });
          return;
        }
        expect(got).toEqual(want);
        expect([...fast.openBegins()].sort((a, b) => a - b)).toEqual([...plain.open.keys()].sort((a, b) => a - b));
        expect(fast.anyOpen).toBe(plain.open.size > 0);
      }
    },
  );

  test.prop([steps], { numRuns: 300 })(
    "adopting batch arrays changes nothing delivered, whatever mutations and batches a transaction mixes",
    (plan) => {
      const records = recordsOf(plan, 1);
      const copying = new FollowAssembler<number>(1);
      const adopting = new FollowAssembler<number>(1, 0, true);
      // The adopting assembler takes a batch's own array: give it records of its own, as a decoder would.
      const own = (r: WalRecord<number>): WalRecord<number> =>
        r.kind === "mutationBatch" ? { ...r, events: [...r.events] } : r;
      const delivered: { got: unknown; want: unknown }[] = [];
      for (const r of records) {
        const got = adopting.apply(own(r), "/seg");
        const want = copying.apply(r, "/seg");
        expect(got).toEqual(want);
        if (want !== undefined) delivered.push({ got, want: structuredClone(want) });
      }
      // Nothing delivered changes afterwards (an adopted array is never appended to once its transaction is out).
      for (const { got, want } of delivered) expect(got).toEqual(want);
    },
  );

  it("an adopted batch array keeps the events before it and takes the ones after", () => {
    const a = new FollowAssembler<number>(1, 0, true);
    const first = [30];
    a.apply({ kind: "txBegin", lsn: 10 }, "/seg");
    a.apply({ kind: "mutationBatch", lsn: 11, txBeginLsn: 10, events: first }, "/seg");
    // The newest transaction's first batch is its events array: adopted, not copied.
    expect(a.apply({ kind: "txCommit", lsn: 12, txBeginLsn: 10 }, "/seg")?.events).toBe(first);
    a.apply({ kind: "txBegin", lsn: 13 }, "/seg");
    a.apply({ kind: "mutation", lsn: 14, txBeginLsn: 13, event: 7 }, "/seg");
    a.apply({ kind: "mutationBatch", lsn: 15, txBeginLsn: 13, events: [8, 9] }, "/seg");
    a.apply({ kind: "txBegin", lsn: 16 }, "/seg");
    a.apply({ kind: "mutationBatch", lsn: 17, txBeginLsn: 16, events: [20] }, "/seg");
    a.apply({ kind: "mutation", lsn: 18, txBeginLsn: 16, event: 21 }, "/seg");
    a.apply({ kind: "mutationBatch", lsn: 19, txBeginLsn: 13, events: [10] }, "/seg");
    expect(a.apply({ kind: "txCommit", lsn: 20, txBeginLsn: 13 }, "/seg")?.events).toEqual([7, 8, 9, 10]);
    expect(a.apply({ kind: "txCommit", lsn: 21, txBeginLsn: 16 }, "/seg")?.events).toEqual([20, 21]);
  });

  it("forgets the newest open transaction too once reading reaches a later session", () => {
    const a = new FollowAssembler<number>(1);
    a.apply({ kind: "txBegin", lsn: 1 }, "/seg");
    a.apply({ kind: "txBegin", lsn: 2 }, "/seg");
    a.deadBelow(3); // a new writer session starts at 3: what 1 and 2 began never commits
    expect(a.anyOpen).toBe(false);
    expect(a.apply({ kind: "txBegin", lsn: 3 }, "/seg")).toBeUndefined();
    expect(a.apply({ kind: "txCommit", lsn: 4, txBeginLsn: 3 }, "/seg")).toEqual({
      beginLsn: 3,
      commitLsn: 4,
      events: [],
      restartLsn: 5,
    });
  });

  it("refuses a record whose LSN does not rise, also one equal to the last (its events would count twice)", () => {
    const a = new FollowAssembler<number>(1);
    a.apply({ kind: "txBegin", lsn: 1 }, "/seg");
    a.apply({ kind: "mutation", lsn: 2, txBeginLsn: 1, event: 7 }, "/seg");
    expect(() => a.apply({ kind: "mutation", lsn: 2, txBeginLsn: 1, event: 7 }, "/seg")).toThrow(
      expect.objectContaining({ code: "WAL_MALFORMED", message: expect.stringContaining("lsn 2 is not greater") }),
    );
  });

  it("refuses a segment whose base LSN is the last LSN read, even one with no records", () => {
    const a = new FollowAssembler<number>(1);
    a.enterSegment(1, "/seg-1");
    a.apply({ kind: "txBegin", lsn: 1 }, "/seg-1");
    a.apply({ kind: "txCommit", lsn: 2, txBeginLsn: 1 }, "/seg-1");
    expect(() => a.enterSegment(2, "/seg-2")).toThrow(
      expect.objectContaining({ code: "WAL_MALFORMED", message: expect.stringContaining("base_lsn 2") }),
    );
    expect(() => a.enterSegment(3, "/seg-2")).not.toThrow();
  });

  it("a transaction begun at the session's first LSN stays open when the session is learned after its begin", () => {
    const a = new FollowAssembler<number>(1);
    a.apply({ kind: "txBegin", lsn: 1 }, "/seg"); // the earlier session's, never committed
    a.apply({ kind: "txBegin", lsn: 2 }, "/seg"); // the new session's first record
    a.deadBelow(2);
    expect([...a.openBegins()]).toEqual([2]);
    a.apply({ kind: "mutation", lsn: 3, txBeginLsn: 2, event: 9 }, "/seg");
    expect(a.apply({ kind: "txCommit", lsn: 4, txBeginLsn: 2 }, "/seg")).toEqual({
      beginLsn: 2,
      commitLsn: 4,
      events: [9],
      restartLsn: 5,
    });
  });

  it("a checkpoint whose snapshot is the lost LSN says no transaction began there; one below it does not", () => {
    const lost = { begin: 5, error: new WalError("WAL_TRUNCATED", "lost") };
    const below = new FollowAssembler<number>(5, 0, false, lost);
    below.enterSegment(6, "/seg");
    below.apply({ kind: "checkpoint", lsn: 6, snapshotLsn: 4 }, "/seg");
    expect(below.lostOpenBegin).toBe(5);
    const at = new FollowAssembler<number>(5, 0, false, lost);
    at.enterSegment(6, "/seg");
    at.apply({ kind: "checkpoint", lsn: 6, snapshotLsn: 5 }, "/seg");
    expect(at.lostOpenBegin).toBeUndefined();
    at.apply({ kind: "txBegin", lsn: 7 }, "/seg");
    expect(at.apply({ kind: "txCommit", lsn: 8, txBeginLsn: 7 }, "/seg")?.restartLsn).toBe(9);
  });
});
