/**
 * planRetention: worked examples, input refusals, and its laws as properties checked against an independent
 * reference (a filter over the segments instead of the plan's prefix scan).
 *
 * Reproduce a failure: fast-check prints `seed` and `path`; re-run with `FC_SEED=<seed> FC_PATH=<path>`
 * (`FC_NUM_RUNS` sets the run count).
 */

import { fc, test } from "@fast-check/vitest";
import { isWalError } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import type { SlotState } from "./replication-slots.js";
import { planRetention, type RetentionInput, type RetentionSegment } from "./retention-plan.js";

const NUM_RUNS = Number(process.env.FC_NUM_RUNS ?? 500);
const SEED = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED);
const PATH = process.env.FC_PATH;
const params = {
  numRuns: NUM_RUNS,
  ...(SEED === undefined ? {} : { seed: SEED }),
  ...(PATH === undefined ? {} : { path: PATH }),
};

function segments(...spec: [id: number, baseLsn: number, bytes: number][]): RetentionSegment[] {
  return spec.map(([id, baseLsn, bytes]) => ({ id, path: `/log/${id}.wal`, baseLsn, bytes }));
}

function slot(name: string, confirmedLsn: number, invalidated = false, restartLsn = confirmedLsn + 1): SlotState {
  return {
    name,
    confirmedLsn,
    restartLsn,
    createdAtMs: 0,
    invalidated: invalidated ? { oldestRetainedLsn: 1, retainedBytes: 1, reason: "earlier" } : null,
  };
}

// Segments 1..5 hold LSNs 1-10, 11-20, 21-30, 31-40 and 41.. (5 is active); each is 100 bytes but the third (300).
const LOG = segments([1, 1, 100], [2, 11, 100], [3, 21, 300], [4, 31, 100], [5, 41, 100]);
const ids = (list: readonly RetentionSegment[]): number[] => list.map((s) => s.id);

describe("planRetention, worked examples", () => {
  const base: RetentionInput = { segments: LOG, fenceLsn: 35, keepFromId: 4, slots: [], maxSlotRetainedBytes: 1000 };

  it("without slots drops what the fence allows, short of the keep range", () => {
    expect(planRetention(base)).toEqual({ drop: LOG.slice(0, 3), invalidate: [], heldBackBy: [] });
    expect(ids(planRetention({ ...base, fenceLsn: 20 }).drop)).toEqual([1, 2]);
    expect(ids(planRetention({ ...base, fenceLsn: 19 }).drop)).toEqual([1]);
    expect(ids(planRetention({ ...base, fenceLsn: 9 }).drop)).toEqual([]);
    expect(ids(planRetention({ ...base, fenceLsn: 1000, keepFromId: 99 }).drop)).toEqual([1, 2, 3, 4]);
  });

  it("keeps the segments a lagging slot still needs, and names it", () => {
    const plan = planRetention({ ...base, slots: [slot("fast", 100), slot("slow", 15)] });
    expect(ids(plan.drop)).toEqual([1]);
    expect(plan.invalidate).toEqual([]);
    expect(plan.heldBackBy).toEqual(["slow"]);
  });

  it("keeps what an exact token's restart point needs, below its confirmed LSN", () => {
    // Confirmed at 25, but a transaction begun at 18 was still open then: segment 2 (11-20) holds its begin.
    const exact = planRetention({ ...base, slots: [slot("exact", 25, false, 18)] });
    expect(ids(exact.drop)).toEqual([1]);
    expect(exact.heldBackBy).toEqual(["exact"]);
    // The same position with nothing open keeps segment 3 only.
    expect(ids(planRetention({ ...base, slots: [slot("plain", 25)] }).drop)).toEqual([1, 2]);
    // A restart point above confirmedLsn + 1 is inconsistent input.
    expect(() => planRetention({ ...base, slots: [slot("bad", 25, false, 27)] })).toThrow(
      expect.objectContaining({ code: "WAL_INVALID_ARGUMENT" }),
    );
  });

  it("treats a slot exactly at a segment's last LSN as done with that segment", () => {
    expect(ids(planRetention({ ...base, slots: [slot("s", 20)] }).drop)).toEqual([1, 2]);
    expect(ids(planRetention({ ...base, slots: [slot("s", 10)] }).drop)).toEqual([1]);
    expect(ids(planRetention({ ...base, slots: [slot("s", 0)] }).drop)).toEqual([]);
  });

  it("invalidates a slot that would hold back more than the limit, then ignores it", () => {
    // "slow" needs segments 2 and 3 (400 bytes), "mid" needs segment 3 (300 bytes); the limit is 350.
    const plan = planRetention({
      ...base,
      slots: [slot("slow", 12), slot("mid", 25), slot("done", 35)],
      maxSlotRetainedBytes: 350,
    });
    expect(ids(plan.drop)).toEqual([1, 2]);
    expect(plan.heldBackBy).toEqual(["mid"]);
    expect(plan.invalidate).toEqual([
      {
        slot: "slow",
        oldestRetainedLsn: 21,
        retainedBytes: 400,
        reason: expect.stringContaining('slot "slow" at LSN 12 would hold back 400 bytes') as string,
      },
    ]);
  });

  it("names an invalidated slot's restart point in the reason only when it lies at or below its confirmed LSN", () => {
    const reasonFor = (restartLsn?: number): string => {
      const plan = planRetention({ ...base, slots: [slot("slow", 12, false, restartLsn)], maxSlotRetainedBytes: 350 });
      return plan.invalidate[0]?.reason ?? "";
    };
    expect(reasonFor()).toContain('slot "slow" at LSN 12 would hold back');
    expect(reasonFor()).not.toContain("restarting");
    // Equal to the confirmed LSN: a transaction begun at 12 was still open there (the boundary of the rule).
    expect(reasonFor(12)).toContain('slot "slow" at LSN 12 (restarting at 12) would hold back');
    expect(reasonFor(11)).toContain('slot "slow" at LSN 12 (restarting at 11) would hold back');
  });

  it("ignores slots that are already invalidated", () => {
    const plan = planRetention({ ...base, slots: [slot("gone", 0, true)], maxSlotRetainedBytes: 0 });
    expect(plan).toEqual({ drop: LOG.slice(0, 3), invalidate: [], heldBackBy: [] });
  });

  it("never invalidates with an infinite limit, and never holds back for a slot ahead of the fence", () => {
    const plan = planRetention({ ...base, slots: [slot("s", 0), slot("ahead", 1000)], maxSlotRetainedBytes: Infinity });
    expect(plan).toEqual({ drop: [], invalidate: [], heldBackBy: ["s"] });
  });

  it("handles an empty log, a single segment and empty segments", () => {
    expect(planRetention({ ...base, segments: [], slots: [slot("s", 0)], maxSlotRetainedBytes: 0 })).toEqual({
      drop: [],
      invalidate: [],
      heldBackBy: [],
    });
    const one = segments([1, 1, 50]);
    expect(planRetention({ ...base, segments: one, fenceLsn: 1000 }).drop).toEqual([]);
    // Segment 2 holds nothing (3 starts at the same LSN): it goes with segment 1's records.
    const hollow = segments([1, 1, 10], [2, 6, 0], [3, 6, 10], [4, 9, 10]);
    expect(ids(planRetention({ ...base, segments: hollow, fenceLsn: 5, keepFromId: 4 }).drop)).toEqual([1, 2]);
  });

  it("refuses inconsistent input with WAL_INVALID_ARGUMENT", () => {
    const bad: RetentionInput[] = [
      { ...base, segments: segments([2, 1, 1], [1, 5, 1]) },
      { ...base, segments: segments([1, 1, 1], [1, 5, 1]) },
      { ...base, segments: segments([1, 9, 1], [2, 5, 1]) },
      { ...base, segments: segments([1, 1, -1]) },
      { ...base, segments: segments([1, -1, 1]) },
      { ...base, segments: segments([1.5, 1, 1]) },
      { ...base, fenceLsn: -1 },
      { ...base, fenceLsn: 2 ** 53 },
      { ...base, keepFromId: Number.NaN },
      { ...base, maxSlotRetainedBytes: -1 },
      { ...base, maxSlotRetainedBytes: Number.NaN },
      { ...base, slots: [slot("a", 1), slot("a", 2)] },
      { ...base, slots: [slot("a", -3)] },
      { ...base, segments: undefined as unknown as RetentionSegment[] },
    ];
    for (const input of bad) {
      let caught: unknown;
      try {
        planRetention(input);
      } catch (e) {
        caught = e;
      }
      expect(isWalError(caught, "WAL_INVALID_ARGUMENT"), JSON.stringify(input)).toBe(true);
    }
  });
});

// ---- properties ------------------------------------------------------------------------------------------------

const inputArb: fc.Arbitrary<RetentionInput> = fc
  .record({
    firstId: fc.integer({ min: 0, max: 5 }),
    firstLsn: fc.integer({ min: 0, max: 5 }),
    steps: fc.array(
      fc.record({
        idGap: fc.integer({ min: 1, max: 3 }),
        lsnGap: fc.integer({ min: 0, max: 12 }),
        bytes: fc.integer({ min: 0, max: 400 }),
      }),
      { maxLength: 10 },
    ),
  })
  .map(({ firstId, firstLsn, steps }) => {
    const list: RetentionSegment[] = [];
    let id = firstId;
    let baseLsn = firstLsn;
    for (const step of steps) {
      id += step.idGap;
      baseLsn += step.lsnGap;
      list.push({ id, path: `/log/${id}.wal`, baseLsn, bytes: step.bytes });
    }
    return list;
  })
  .chain((segs) => {
    const top = (segs.at(-1)?.baseLsn ?? 0) + 15;
    const lastId = segs.at(-1)?.id ?? 0;
    return fc.record({
      segments: fc.constant(segs),
      fenceLsn: fc.integer({ min: 0, max: top }),
      keepFromId: fc.integer({ min: 0, max: lastId + 2 }),
      slots: fc.uniqueArray(
        fc.record({
          name: fc.constantFrom("a", "b", "c", "d", "e", "f"),
          confirmedLsn: fc.integer({ min: 0, max: top }),
          invalidated: fc.boolean(),
        }),
        { selector: (s) => s.name, maxLength: 5 },
      ),
      maxSlotRetainedBytes: fc.oneof(fc.constant(Number.POSITIVE_INFINITY), fc.integer({ min: 0, max: 1500 })),
    });
  })
  .map((raw) => ({ ...raw, slots: raw.slots.map((s) => slot(s.name, s.confirmedLsn, s.invalidated)) }));

/** The last LSN segment `i` can hold: the next segment's base minus one (the last segment: unbounded). */
function lastLsnOf(input: RetentionInput, i: number): number {
  const next = input.segments[i + 1];
  return next === undefined ? Number.POSITIVE_INFINITY : next.baseLsn - 1;
}

/** The reference: every segment outside the keep range whose records are all at or below `fence`, by filtering. */
function droppableBy(input: RetentionInput, fence: number): RetentionSegment[] {
  return input.segments.filter(
    (s, i) => i < input.segments.length - 1 && s.id < input.keepFromId && lastLsnOf(input, i) <= fence,
  );
}

/** The bytes of the segments the fence alone drops that hold records above `confirmedLsn`. */
function heldBackBytes(input: RetentionInput, confirmedLsn: number): number {
  let bytes = 0;
  for (const s of droppableBy(input, input.fenceLsn)) {
    if (lastLsnOf(input, input.segments.indexOf(s)) > confirmedLsn) bytes += s.bytes;
  }
  return bytes;
}

const sum = (list: readonly RetentionSegment[]): number => list.reduce((n, s) => n + s.bytes, 0);

describe("planRetention, laws", () => {
  test.prop([inputArb], params)(
    "never drops a record above the fence or a surviving valid slot's position",
    (input) => {
      const plan = planRetention(input);
      const invalidated = new Set(plan.invalidate.map((i) => i.slot));
      const survivors = input.slots.filter((s) => s.invalidated === null && !invalidated.has(s.name));
      // The plan drops a prefix (checked below): its k-th segment is the input's k-th.
      for (const k of plan.drop.keys()) {
        const last = lastLsnOf(input, k);
        expect(last).toBeLessThanOrEqual(input.fenceLsn);
        for (const s of survivors) expect(last).toBeLessThanOrEqual(s.confirmedLsn);
      }
    },
  );

  test.prop([inputArb], params)("drops a prefix, never the active segment or the keep range", (input) => {
    const plan = planRetention(input);
    expect(plan.drop).toEqual(input.segments.slice(0, plan.drop.length));
    expect(plan.drop.length).toBeLessThan(Math.max(1, input.segments.length));
    for (const segment of plan.drop) expect(segment.id).toBeLessThan(input.keepFromId);
  });

  test.prop([inputArb], params)("without valid slots drops exactly what the fence alone drops", (input) => {
    const noSlots = planRetention({ ...input, slots: [] });
    expect(noSlots).toEqual({ drop: droppableBy(input, input.fenceLsn), invalidate: [], heldBackBy: [] });
    const allInvalidated = input.slots.map((s) => slot(s.name, s.confirmedLsn, true));
    expect(planRetention({ ...input, slots: allInvalidated })).toEqual(noSlots);
  });

  test.prop([inputArb], params)("drops as much as the surviving slots allow (the effective fence)", (input) => {
    const plan = planRetention(input);
    const invalidated = new Set(plan.invalidate.map((i) => i.slot));
    let fence = input.fenceLsn;
    for (const s of input.slots) {
      if (s.invalidated === null && !invalidated.has(s.name)) fence = Math.min(fence, s.confirmedLsn);
    }
    expect(plan.drop).toEqual(droppableBy(input, fence));
  });

  test.prop([inputArb], params)("a surviving slot holds back at most the limit, and so do all together", (input) => {
    const plan = planRetention(input);
    const invalidated = new Set(plan.invalidate.map((i) => i.slot));
    for (const s of input.slots) {
      if (s.invalidated !== null || invalidated.has(s.name)) continue;
      expect(heldBackBytes(input, s.confirmedLsn)).toBeLessThanOrEqual(input.maxSlotRetainedBytes);
    }
    expect(sum(droppableBy(input, input.fenceLsn)) - sum(plan.drop)).toBeLessThanOrEqual(input.maxSlotRetainedBytes);
  });

  test.prop([inputArb], params)(
    "invalidates exactly the valid slots over the limit, each losing records it needed",
    (input) => {
      const plan = planRetention(input);
      const expected = input.slots.filter(
        (s) => s.invalidated === null && heldBackBytes(input, s.confirmedLsn) > input.maxSlotRetainedBytes,
      );
      expect(plan.invalidate.map((i) => i.slot)).toEqual(expected.map((s) => s.name));
      for (const [k, entry] of plan.invalidate.entries()) {
        const s = expected[k] as SlotState;
        expect(entry.retainedBytes).toBe(heldBackBytes(input, s.confirmedLsn));
        expect(entry.oldestRetainedLsn).toBe(input.segments[plan.drop.length]?.baseLsn);
        expect(entry.reason).toContain(`"${s.name}"`);
        const lost = plan.drop.some((_, k) => lastLsnOf(input, k) > s.confirmedLsn);
        expect(lost).toBe(true);
      }
      if (input.maxSlotRetainedBytes === Number.POSITIVE_INFINITY) expect(plan.invalidate).toEqual([]);
    },
  );

  test.prop([inputArb], params)("names the surviving slots that keep a segment the fence would drop", (input) => {
    const plan = planRetention(input);
    const invalidated = new Set(plan.invalidate.map((i) => i.slot));
    const expected = input.slots
      .filter((s) => s.invalidated === null && !invalidated.has(s.name))
      .filter((s) =>
        droppableBy(input, input.fenceLsn).some(
          (seg) => lastLsnOf(input, input.segments.indexOf(seg)) > s.confirmedLsn,
        ),
      )
      .map((s) => s.name);
    expect(plan.heldBackBy).toEqual(expected);
  });
});
