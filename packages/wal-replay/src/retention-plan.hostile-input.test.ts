/**
 * planRetention given hostile input: every value it takes (the input, its two arrays, each segment and slot, each of
 * their fields) is read once, and anything that is not what the types say, or that throws when read, is refused with
 * `WAL_INVALID_ARGUMENT` before a plan is made. Truncation deletes what the plan drops and invalidates what it lists,
 * so a field read twice could have a segment deleted by a path (or a slot judged by a position) that was never checked.
 */

import { hostileValues, readOnce } from "@lora/test-utils";
import { isWalError } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import type { SlotState } from "./replication-slots.js";
import { planRetention, type RetentionInput, type RetentionPlan, type RetentionSegment } from "./retention-plan.js";

function segment(id: number, baseLsn: number, bytes = 100): RetentionSegment {
  return { id, path: `/log/${id}.wal`, baseLsn, bytes };
}

function slot(name: string, confirmedLsn: number): SlotState {
  return { name, confirmedLsn, restartLsn: confirmedLsn + 1, createdAtMs: 0, invalidated: null };
}

/** Segments 1..4 hold LSNs 1-10, 11-20, 21-30 and 31..; a fence at 25 drops 1 and 2, slot "s" at 15 keeps 2. */
function input(): RetentionInput {
  return {
    segments: [segment(1, 1), segment(2, 11), segment(3, 21), segment(4, 31)],
    fenceLsn: 25,
    keepFromId: 4,
    slots: [slot("s", 15)],
    maxSlotRetainedBytes: 1000,
  };
}

/** The plan, or the refusal's code; anything else thrown is returned as itself (and fails the assertions). */
function outcome(given: unknown): RetentionPlan | string | unknown {
  try {
    return planRetention(given as RetentionInput);
  } catch (error) {
    return isWalError(error, "WAL_INVALID_ARGUMENT") ? "WAL_INVALID_ARGUMENT" : error;
  }
}

const refused = (given: unknown) => expect(outcome(given)).toBe("WAL_INVALID_ARGUMENT");

describe("planRetention reads each value once", () => {
  it("reads each input property, array length, element and field at most once, and plans from what it read", () => {
    const proxies: ReturnType<typeof readOnce>[] = [];
    const once = <T extends object>(target: T): T => {
      const proxy = readOnce(target);
      proxies.push(proxy);
      return proxy.value;
    };
    const plain = input();
    const given = once({
      ...plain,
      segments: once(plain.segments.map((s) => once({ ...s }))),
      slots: once(plain.slots.map((s) => once({ ...s }))),
    });
    const plan = planRetention(given);
    // Read after the call: a plan handing back the caller's objects would have them read again here.
    expect(plan.drop.map((s) => [s.id, s.path, s.baseLsn, s.bytes])).toEqual([[1, "/log/1.wal", 1, 100]]);
    expect(plan.heldBackBy).toEqual(["s"]);
    expect(plan.invalidate).toEqual([]);
    expect(proxies.flatMap((p) => p.readTwice())).toEqual([]);
  });

  it("uses the value it checked when a getter answers differently the second time", () => {
    // Segment 2 starts at 11 the first time (segment 1 holds 1-10, at or below the fence) and at 1000 after; segment
    // 1's path reads as its own the first time and as another file's after. What is dropped is what was read.
    let reads = 0;
    const first = Object.defineProperty({ ...segment(1, 1) }, "path", {
      enumerable: true,
      get: () => (reads++ === 0 ? "/log/1.wal" : "/elsewhere"),
    });
    let baseReads = 0;
    const second = Object.defineProperty({ ...segment(2, 11) }, "baseLsn", {
      enumerable: true,
      get: () => (baseReads++ === 0 ? 11 : 1000),
    });
    const plan = planRetention({ ...input(), segments: [first, second, segment(3, 21)], slots: [] });
    expect(plan.drop.map((s) => s.path)).toEqual(["/log/1.wal", "/log/2.wal"]);
    expect([reads, baseReads]).toEqual([1, 1]);
  });
});

describe("planRetention refuses what is not its input, before planning", () => {
  it("refuses every hostile value in every place, or plans with it, and never throws anything else", () => {
    const places: ((value: unknown) => unknown)[] = [
      (v) => v,
      (v) => ({ ...input(), segments: v }),
      (v) => ({ ...input(), slots: v }),
      (v) => ({ ...input(), fenceLsn: v }),
      (v) => ({ ...input(), keepFromId: v }),
      (v) => ({ ...input(), maxSlotRetainedBytes: v }),
      (v) => ({ ...input(), segments: [v, segment(2, 11)] }),
      (v) => ({ ...input(), slots: [v] }),
      ...(["id", "path", "baseLsn", "bytes"] as const).map((field) => (v: unknown) => ({
        ...input(),
        segments: [{ ...segment(1, 1), [field]: v }, segment(2, 11)],
      })),
      ...(["name", "confirmedLsn", "restartLsn", "invalidated"] as const).map((field) => (v: unknown) => ({
        ...input(),
        slots: [{ ...slot("s", 15), [field]: v }],
      })),
    ];
    for (const [p, place] of places.entries()) {
      for (const [label, value] of hostileValues(["length", "0", "id", "name", "segments"])) {
        const result = outcome(place(value));
        const ok =
          result === "WAL_INVALID_ARGUMENT" || (typeof result === "object" && result !== null && "drop" in result);
        expect(ok, `place ${p}, ${label}: ${String(result)}`).toBe(true);
      }
    }
  });

  it("refuses an input property it does not know, as every entry point refuses an unknown option, naming the one meant", () => {
    // Before, ignored without a word: `{ ...input(), keepFromID: 2 }` planned with the caller's keepFromId as if the
    // misspelled one had not been written.
    for (const [name, meant] of [
      ["keepFromID", "keepFromId"],
      ["maxSlotRetainedByte", "maxSlotRetainedBytes"],
      ["colour", undefined],
    ] as const) {
      let error: unknown;
      try {
        planRetention({ ...input(), [name]: 2 } as RetentionInput);
      } catch (e) {
        error = e;
      }
      expect(error, name).toMatchObject({
        name: "WalError",
        code: "WAL_INVALID_ARGUMENT",
        details: {
          option: name,
          knownOptions: ["segments", "fenceLsn", "keepFromId", "slots", "maxSlotRetainedBytes"],
        },
      });
      expect((error as Error).message).toContain(`planRetention: unknown option "${name}"`);
      if (meant !== undefined) expect((error as Error).message).toContain(`did you mean "${meant}"?`);
    }
  });

  it("refuses an unknown property before reading any of the others", () => {
    const reads: string[] = [];
    const given = new Proxy({ ...input(), extra: 1 } as RetentionInput, {
      get(target, key, receiver) {
        if (typeof key === "string") reads.push(key);
        return Reflect.get(target, key, receiver);
      },
    });
    refused(given);
    expect(reads).toEqual([]);
  });

  it("refuses a segment or slot that is not an object, or a hole", () => {
    for (const bad of [null, undefined, 5, "seg"]) {
      refused({ ...input(), segments: [bad, segment(2, 11)] });
      refused({ ...input(), slots: [bad] });
    }
    const holed = (...elements: unknown[]): unknown[] => {
      const list = [...elements];
      delete list[0]; // a hole reads as undefined
      return list;
    };
    refused({ ...input(), segments: holed(segment(1, 1), segment(2, 11)) });
    refused({ ...input(), slots: holed(slot("t", 1), slot("s", 15)) });
  });

  it("refuses a segment whose path is not a path, and a slot whose name is not a string", () => {
    for (const path of [undefined, 5, "", "a\0b"]) {
      refused({ ...input(), segments: [{ ...segment(1, 1), path }, segment(2, 11)] });
    }
    for (const name of [undefined, 5, null]) refused({ ...input(), slots: [{ ...slot("s", 15), name }] });
  });

  it("refuses a slot whose invalidated is neither null nor an invalidation, instead of ignoring the slot", () => {
    // Without `invalidated` the slot read as invalidated: ignored, and the segments it needs were dropped.
    const { invalidated: _, ...unmarked } = slot("s", 15);
    refused({ ...input(), slots: [unmarked] });
    for (const invalidated of [false, 0, "no"]) refused({ ...input(), slots: [{ ...slot("s", 15), invalidated }] });
  });

  it("refuses NaN, negative and fractional numbers", () => {
    for (const n of [Number.NaN, -1, 1.5, Number.POSITIVE_INFINITY, "1"]) {
      refused({ ...input(), fenceLsn: n });
      refused({ ...input(), keepFromId: n });
      refused({ ...input(), segments: [{ ...segment(1, 1), bytes: n }, segment(2, 11)] });
      refused({ ...input(), slots: [{ ...slot("s", 15), confirmedLsn: n }] });
    }
    for (const n of [Number.NaN, -1, "1"]) refused({ ...input(), maxSlotRetainedBytes: n });
  });

  it("refuses an array whose length claims more elements than any log has, before reading one", () => {
    for (const which of ["segments", "slots"] as const) {
      const elementReads: string[] = [];
      const lying = new Proxy([] as unknown[], {
        get(target, key, receiver) {
          if (key === "length") return 2 ** 32 - 1;
          if (typeof key === "string" && /^[0-9]+$/.test(key)) elementReads.push(key);
          return Reflect.get(target, key, receiver);
        },
      });
      refused({ ...input(), [which]: lying });
      expect(elementReads, which).toEqual([]);
    }
  });

  it("refuses an array-like that is not an array", () => {
    refused({ ...input(), segments: { length: 2, 0: segment(1, 1), 1: segment(2, 11) } });
    refused({ ...input(), slots: { length: 0 } });
  });
});
