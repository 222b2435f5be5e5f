/**
 * The LW1 decoder's heap bound (issue 13 item 3): whatever the payload, decoding either fails with `WAL_DECODE` or
 * returns a value that holds at most 16 bytes of JS heap per payload byte (plus 16 for each property-type `List`
 * term, which is 2 bytes on the wire and a 48-byte object). Measured through the decoder's own
 * allocation counter (`DecodeBudget.charged`, what it charged before each allocation) and cross-checked by walking
 * the decoded value (`heapEstimate`): the decoder must have charged at least what it returned. Real V8 heap
 * figures for the same shapes come from `scripts/decode-heap.mjs`; these tests only count, they never time.
 */

import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { ByteWriter } from "../byte-writer.js";
import { isWalError } from "../errors.js";
import { DECODE_HEAP_BYTES_PER_INPUT_BYTE, DecodeBudget, LIST_TERM_ALLOWANCE_BYTES } from "./decode-budget.js";
import { isArrayIndexKey } from "./decoded-map.js";
import { loraCodec } from "./lora-codec.js";
import type { LoraBinary, PropertyMap } from "./lora-values.js";
import { decodeLw1BatchWithin, decodeLw1EventWithin } from "./lw1-decode.js";
import type { MutationEvent } from "./mutation-event.js";
import type { PropertyTypeTerm } from "./store-ddl.js";
import { heapEstimate } from "./test-support/heap-estimate.js";
import { event, mapOf } from "./test-support/lw1-arbitraries.js";
import { dump } from "./test-support/structural-dump.js";

// ---------- raw LW1 bytes ----------

const MAGIC = [0x4c, 0x57, 0x31, 0x00];
const utf8 = new TextEncoder();

function u64(n: number | bigint): number[] {
  const out: number[] = [];
  let v = BigInt(n);
  for (let i = 0; i < 8; i++) {
    out.push(Number(v & 0xffn));
    v >>= 8n;
  }
  return out;
}

const str = (s: string): number[] => {
  const b = utf8.encode(s);
  return [...u64(b.length), ...b];
};

/** `unit` repeated `times` times, after `head`. */
function repeat(head: readonly number[], unit: readonly number[], times: number): Uint8Array {
  const out = new Uint8Array(head.length + unit.length * times);
  out.set(head);
  const u = Uint8Array.from(unit);
  for (let i = 0, at = head.length; i < times; i++, at += u.length) out.set(u, at);
  return out;
}

/** A SetNodeProperty event whose value is a list of `times` copies of the value bytes `unit`. */
const listPayload = (unit: readonly number[], times: number): Uint8Array =>
  repeat([...MAGIC, 3, ...u64(1), ...str("k"), 5, ...u64(times)], unit, times);

/** A batch of `times` copies of the event bytes `unit`. */
const batchPayload = (unit: readonly number[], times: number): Uint8Array =>
  repeat([...MAGIC, ...u64(times)], unit, times);

const NAN_BITS = [0x01, 0, 0, 0, 0, 0, 0xf8, 0x7f];

/** The cheapest encodings of values: what a hostile payload repeats. */
const CHEAP_VALUES: readonly (readonly [string, readonly number[]])[] = [
  ["null", [0]],
  ["boolean", [1, 1]],
  ["empty list", [5, ...u64(0)]],
  ["empty map", [6, ...u64(0)]],
  ['{"": null}', [6, ...u64(1), ...str(""), 0]],
  ['{"a": null}', [6, ...u64(1), ...str("a"), 0]],
  ['{"0": null}', [6, ...u64(1), ...str("0"), 0]],
  ['{"1023": null}', [6, ...u64(1), ...str("1023"), 0]],
  ['{"0": null, "a": null}', [6, ...u64(2), ...str("0"), 0, ...str("a"), 0]],
  ["empty string", [4, ...str("")]],
  ["13-character string", [4, ...str("abcdefghijklm")]],
  ["NaN-payload float", [3, ...NAN_BITS]],
  ["local time of u32 maxima", [9, ...new Array<number>(16).fill(0xff)]],
  ["2D NaN-payload point", [13, ...NAN_BITS, ...NAN_BITS, 0, 0xff, 0xff, 0xff, 0xff]],
  ["empty binary", [15, ...u64(0)]],
  ["binary of one empty segment", [15, ...u64(1), ...u64(0)]],
  ["1-byte binary", [15, ...u64(1), ...u64(1), 0x41]],
  ["empty int8 vector", [14, ...u64(0), 6, ...u64(0)]],
  ["1-dimension int8 vector", [14, ...u64(1), 6, ...u64(1), 7]],
];

/** The cheapest events. */
const CHEAP_EVENTS: readonly (readonly [string, readonly number[]])[] = [
  ["Clear", [12]],
  ["DeleteNode", [10, ...u64(7)]],
  ["CreateNode without labels or properties", [1, ...u64(7), ...u64(0), ...u64(0)]],
  ["DropIndex of an empty name", [14, ...str(""), 0]],
  ["AddNodeLabel of an empty label", [5, ...u64(7), ...str("")]],
];

// ---------- decoding with the counter ----------

type Outcome =
  | { readonly kind: "ok"; readonly value: unknown; readonly budget: DecodeBudget }
  | { readonly kind: "refused"; readonly message: string; readonly budget: DecodeBudget };

function decodeCounted(payload: Uint8Array, batch: boolean): Outcome {
  const budget = new DecodeBudget(payload.length);
  try {
    const value = batch ? decodeLw1BatchWithin(payload, budget) : decodeLw1EventWithin(payload, budget);
    return { kind: "ok", value, budget };
  } catch (e) {
    if (!isWalError(e, "WAL_DECODE")) throw e;
    return { kind: "refused", message: e.message, budget };
  }
}

/** Decode both ways; every outcome must be a value within the bound or a `WAL_DECODE`. */
function expectBounded(payload: Uint8Array, batch: boolean, listTerms = 0): Outcome {
  const outcome = decodeCounted(payload, batch);
  const { budget } = outcome;
  expect(budget.limit).toBe(DECODE_HEAP_BYTES_PER_INPUT_BYTE * payload.length + LIST_TERM_ALLOWANCE_BYTES * listTerms);
  expect(budget.charged).toBeLessThanOrEqual(budget.limit);
  if (outcome.kind === "ok") expect(heapEstimate(outcome.value, budget.charged)).toBeLessThanOrEqual(budget.charged);
  return outcome;
}

/** The property-type `List` terms of `events` (each adds its allowance to the budget). */
function listTermsOf(events: readonly MutationEvent[]): number {
  let n = 0;
  for (const e of events) {
    if (e.type !== "CreateConstraint" || e.request.kind !== "PropertyType") continue;
    for (const alternative of e.request.alternatives) {
      for (let term: PropertyTypeTerm = alternative; term.type === "List"; term = term.inner) n++;
    }
  }
  return n;
}

const chargedPerByte = (o: Outcome, payload: Uint8Array): number => o.budget.charged / payload.length;

// ---------- tests ----------

describe("regressions: the payloads of issue 13 item 3", () => {
  // 2 MiB each: before, these held 40 and 21 bytes of heap per payload byte.
  const MIB2 = 2 * 1024 * 1024;

  it("a batch of Clear events holds one slot per event (8 bytes per byte), sharing one frozen event", () => {
    const payload = batchPayload([12], MIB2);
    const outcome = expectBounded(payload, true);
    expect(outcome.kind).toBe("ok");
    expect(chargedPerByte(outcome, payload)).toBeLessThan(8.01);
    const events = (outcome as { value: MutationEvent[] }).value;
    expect(events.length).toBe(MIB2);
    expect(events[0]).toStrictEqual({ type: "Clear" });
    expect(events[MIB2 - 1]).toBe(events[0]);
    expect(Object.isFrozen(events[0])).toBe(true);
  });

  it("a list of empty maps holds a 56-byte object per 9-byte map, each its own extensible map", () => {
    const n = Math.floor(MIB2 / 9);
    const payload = listPayload([6, ...u64(0)], n);
    const outcome = expectBounded(payload, false);
    expect(outcome.kind).toBe("ok");
    expect(chargedPerByte(outcome, payload)).toBeLessThan(7.2);
    const list = ((outcome as { value: { value: PropertyMap[] } }).value.value as PropertyMap[]).slice(0, 2);
    expect(list[0]).not.toBe(list[1]);
    for (const m of list) {
      expect(Object.getPrototypeOf(m)).toBe(null);
      expect(Object.keys(m)).toEqual([]);
      m.added = 1n; // decoded maps stay the caller's to change
      expect(m.added).toBe(1n);
    }
  });

  it("a list of maps keyed by a small array index is not a list of 12 KiB element arrays", () => {
    // {"1023": null} is 22 bytes; V8 would give such a map 1552 element slots (12 KiB, 570 bytes per byte).
    const payload = listPayload([6, ...u64(1), ...str("1023"), 0], 50_000);
    const outcome = expectBounded(payload, false);
    expect(outcome.kind).toBe("ok");
    expect(chargedPerByte(outcome, payload)).toBeLessThan(10);
  });

  it("a list of 32-character strings holds flat strings (no cons chain per string)", () => {
    const payload = listPayload([4, ...str("abcdefghijklmnopqrstuvwxyz012345")], 50_000);
    const outcome = expectBounded(payload, false);
    expect(outcome.kind).toBe("ok");
    expect(chargedPerByte(outcome, payload)).toBeLessThan(2.5);
  });
});

describe("the cheapest encodings, repeated, decode within the bound", () => {
  for (const [name, unit] of CHEAP_VALUES) {
    it(`a list of 20000 × ${name}`, () => {
      const payload = listPayload(unit, 20_000);
      const outcome = expectBounded(payload, false);
      // These are all values LoraDB can write: none is refused.
      expect(outcome.kind === "ok" ? "ok" : outcome.message).toBe("ok");
    });
  }
  for (const [name, unit] of CHEAP_EVENTS) {
    it(`a batch of 20000 × ${name}`, () => {
      const payload = batchPayload(unit, 20_000);
      const outcome = expectBounded(payload, true);
      expect(outcome.kind === "ok" ? "ok" : outcome.message).toBe("ok");
    });
  }

  it("nesting: 200 chains of 511 nested lists", () => {
    const chain = [...Array.from({ length: 510 }, () => [5, ...u64(1)]).flat(), 0];
    const outcome = expectBounded(listPayload(chain, 200), false);
    expect(outcome.kind).toBe("ok");
  });

  it("a type constraint of 100000 Scalar alternatives shares one frozen term per scalar type", () => {
    const n = 100_000;
    const blob = repeat([...u64(0), 5, ...u64(n)], [1, 3], n);
    const tail = [1, ...u64(0), ...u64(0)];
    const payload = Uint8Array.from([...MAGIC, 15, ...u64(blob.length + tail.length), ...blob, ...tail, 0]);
    const outcome = expectBounded(payload, false);
    expect(outcome.kind).toBe("ok");
    const e = (outcome as { value: MutationEvent }).value;
    if (e.type !== "CreateConstraint" || e.request.kind !== "PropertyType") throw new Error("wrong event");
    expect(e.request.alternatives[0]).toStrictEqual({ type: "Scalar", scalar: "Integer" });
    expect(e.request.alternatives[n - 1]).toBe(e.request.alternatives[0]);
    expect(Object.isFrozen(e.request.alternatives[0])).toBe(true);
  });
});

/** A CreateConstraint of `n` alternatives, each `List(List(…(Scalar Integer)))` `depth` deep. */
function nestedListConstraint(depth: number, n: number): Uint8Array {
  const unit = [...new Array<number[]>(depth).fill([2, 0]).flat(), 1, 1];
  const blob = repeat([...u64(0), 5, ...u64(n)], unit, n);
  const tail = [1, ...u64(0), ...u64(0)];
  return Uint8Array.from([...MAGIC, 15, ...u64(blob.length + tail.length), ...blob, ...tail, 0]);
}

describe("nested List type terms (2 bytes and one 48-byte object each)", () => {
  it("decode with their own allowance: a constraint 60 deep, as LoraDB logs it, in a payload of ~150 bytes", () => {
    const payload = nestedListConstraint(60, 1);
    const outcome = expectBounded(payload, false, 60);
    expect(outcome.kind).toBe("ok");
    // Above the general rate: without the allowance this payload was refused.
    expect(chargedPerByte(outcome, payload)).toBeGreaterThan(DECODE_HEAP_BYTES_PER_INPUT_BYTE);
  });

  it("a payload of nothing but them holds at most 24 bytes per byte (100 deep, 1,000 alternatives)", () => {
    const payload = nestedListConstraint(100, 1000);
    const outcome = expectBounded(payload, false, 100 * 1000);
    expect(outcome.kind).toBe("ok");
    expect(chargedPerByte(outcome, payload)).toBeLessThanOrEqual(24);
  });
});

describe("refusals happen before anything is built", () => {
  const hugeCounts: [string, Uint8Array, RegExp][] = [
    ["batch count 2^32 - 1", Uint8Array.from([...MAGIC, ...u64(2 ** 32 - 1), 12, 12]), /WAL event count/],
    ["list count 2^53 - 1", listPayload([0], 0).map((b, i, a) => (i >= a.length - 8 ? 0xff : b)), /list value count/],
    [
      "map count just above remaining / 9",
      Uint8Array.from([...MAGIC, 3, ...u64(1), ...str("k"), 6, ...u64(3), ...new Array<number>(26).fill(0)]),
      /property map entry count 3 exceeds remaining/,
    ],
    [
      "labels count above remaining / 8",
      Uint8Array.from([...MAGIC, 1, ...u64(1), ...u64(2), ...new Array<number>(15).fill(0)]),
      /string count 2 exceeds remaining/,
    ],
    [
      "binary segment count above remaining / 8",
      Uint8Array.from([...MAGIC, 3, ...u64(1), ...str("k"), 15, ...u64(4), ...new Array<number>(31).fill(0)]),
      /binary segment count 4 exceeds remaining/,
    ],
  ];
  for (const [name, payload, message] of hugeCounts) {
    it(`refuses ${name} having charged almost nothing`, () => {
      const outcome = decodeCounted(payload, name.startsWith("batch"));
      expect(outcome.kind).toBe("refused");
      expect((outcome as { message: string }).message).toMatch(message);
      expect(outcome.budget.charged).toBeLessThan(200);
    });
  }
});

describe("hostile input, property-based", () => {
  const declaredCount = (actual: number): fc.Arbitrary<bigint> =>
    fc.oneof(
      { weight: 6, arbitrary: fc.constant(BigInt(actual)) },
      fc.constantFrom(0n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 63n, 2n ** 64n - 1n),
      fc.integer({ min: 0, max: actual + 16 }).map(BigInt),
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    );

  /** `times` copies of one cheap value. */
  const run = fc
    .tuple(fc.constantFrom(...CHEAP_VALUES.map(([, unit]) => unit)), fc.integer({ min: 1, max: 300 }))
    .map(([unit, times]) => ({ bytes: Array.from({ length: times }, () => unit).flat(), count: times }));

  /** A value: a cheap one, a list or map of runs, or a deep chain, recursively. */
  const { value } = fc.letrec<{ value: number[] }>((tie) => ({
    value: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      fc.constantFrom(...CHEAP_VALUES.map(([, unit]) => [...unit])),
      fc
        .array(
          fc.oneof(
            run,
            tie("value").map((bytes) => ({ bytes, count: 1 })),
          ),
          { maxLength: 4 },
        )
        .chain((parts) => {
          const count = parts.reduce((n, p) => n + p.count, 0);
          return declaredCount(count).map((declared) => [5, ...u64(declared), ...parts.flatMap((p) => p.bytes)]);
        }),
      fc
        .array(fc.tuple(fc.constantFrom("", "a", "0", "1023", "01", "4294967294", "4294967295"), tie("value")), {
          maxLength: 4,
        })
        .chain((entries) =>
          declaredCount(entries.length).map((declared) => [
            6,
            ...u64(declared),
            ...entries.flatMap(([k, v]) => [...str(k), ...v]),
          ]),
        ),
      fc
        .tuple(fc.integer({ min: 0, max: 600 }), fc.constantFrom([5, ...u64(1)], [6, ...u64(1), ...str("")]))
        .map(([levels, level]) => [...Array.from({ length: levels }, () => level).flat(), 0]),
    ),
  }));

  const cheapEvents = fc
    .array(fc.tuple(fc.constantFrom(...CHEAP_EVENTS.map(([, unit]) => unit)), fc.integer({ min: 1, max: 500 })), {
      maxLength: 4,
    })
    .chain((runs) => {
      const count = runs.reduce((n, [, times]) => n + times, 0);
      const bytes = runs.flatMap(([unit, times]) => Array.from({ length: times }, () => unit).flat());
      return declaredCount(count).map((declared) => Uint8Array.from([...MAGIC, ...u64(declared), ...bytes]));
    });

  /** Cut or extend a payload: hostile input is rarely well-formed to the end. */
  const damaged = (payload: fc.Arbitrary<Uint8Array>) =>
    fc
      .tuple(payload, fc.option(fc.nat(), { nil: undefined }), fc.uint8Array({ maxLength: 3 }))
      .map(([bytes, cut, extra]) => {
        const kept = cut === undefined ? bytes : bytes.subarray(0, cut % (bytes.length + 1));
        const out = new Uint8Array(kept.length + extra.length);
        out.set(kept);
        out.set(extra, kept.length);
        return out;
      });

  const setProperty = value.map((v) => Uint8Array.from([...MAGIC, 3, ...u64(1), ...str("k"), ...v]));

  test.prop([damaged(setProperty)])("structured values: decoded within the bound, or WAL_DECODE", (payload) => {
    expectBounded(payload, false);
  });

  test.prop([setProperty])("well-formed structured values", (payload) => {
    expectBounded(payload, false);
  });

  test.prop([damaged(cheapEvents)])("batches of the cheapest events", (payload) => {
    expectBounded(payload, true);
  });

  test.prop([fc.uint8Array({ maxLength: 512 })])("arbitrary bytes after the magic", (b) => {
    const payload = Uint8Array.from([...MAGIC, ...b]);
    expectBounded(payload, false);
    expectBounded(payload, true);
  });

  test.prop([fc.array(event, { minLength: 1, maxLength: 4 })])(
    "encoder-written payloads are never refused and stay within the bound",
    (events) => {
      const w = new ByteWriter(64);
      loraCodec.encodeBatch(events, w);
      const payload = w.copy();
      const outcome = expectBounded(payload, true, listTermsOf(events));
      expect(outcome.kind === "ok" ? "ok" : outcome.message).toBe("ok");
      expect(dump((outcome as { value: unknown }).value)).toEqual(dump(events));
    },
  );
});

describe("decoded maps", () => {
  const keyArb = fc.oneof(
    fc.constantFrom("0", "1", "9", "10", "1023", "1024", "01", "-1", "1.5", "4294967294", "4294967295", "", "a"),
    fc.nat().map(String),
    fc.string({ maxLength: 4 }),
  );

  test.prop([fc.array(fc.tuple(keyArb, fc.bigInt({ min: -5n, max: 5n })), { maxLength: 12 })])(
    "hold the entries a plain null-prototype object would, in the same key order",
    (entries) => {
      const w = new ByteWriter(64);
      loraCodec.encodeEvent({ type: "SetNodeProperty", nodeId: 1n, key: "m", value: mapOf(entries) }, w);
      const bytes = w.copy();
      // Write the entries in the generated order (duplicates included), as a hostile writer might.
      const raw = Uint8Array.from([
        ...bytes.subarray(0, 4 + 1 + 8 + 9 + 1),
        ...u64(entries.length),
        ...entries.flatMap(([k, v]) => [...str(k), 2, ...u64(BigInt.asUintN(64, v))]),
      ]);
      const e = loraCodec.decodeEvent(raw);
      if (e.type !== "SetNodeProperty") throw new Error("wrong event");
      const map = e.value as PropertyMap;
      const expected = mapOf(entries);
      expect(Object.getPrototypeOf(map)).toBe(null);
      expect(Object.isExtensible(map)).toBe(true);
      expect(Object.keys(map)).toEqual(Object.keys(expected));
      expect(Object.getOwnPropertyDescriptors(map)).toEqual(Object.getOwnPropertyDescriptors(expected));
    },
  );

  test.prop([fc.oneof(fc.nat().map(String), fc.string({ maxLength: 11 }), fc.stringMatching(/^[0-9]{1,11}$/))])(
    "isArrayIndexKey is ECMAScript's array index",
    (key) => {
      const n = Number(key) >>> 0;
      const isIndex = String(n) === key && n !== 2 ** 32 - 1;
      expect(isArrayIndexKey(utf8.encode(key))).toBe(isIndex);
    },
  );
});

describe("binary segments", () => {
  it("are copies in shared slabs, correct byte for byte, never views of the input", () => {
    const payload = listPayload([15, ...u64(2), ...u64(1), 0x41, ...u64(2), 0x42, 0x43], 3);
    const e = loraCodec.decodeEvent(payload);
    if (e.type !== "SetNodeProperty") throw new Error("wrong event");
    const binaries = e.value as LoraBinary[];
    expect(binaries.map((b) => b.segments.map((s) => [...s]))).toEqual([
      [[0x41], [0x42, 0x43]],
      [[0x41], [0x42, 0x43]],
      [[0x41], [0x42, 0x43]],
    ]);
    const [first] = binaries as [LoraBinary];
    expect(first.segments[0]?.buffer).toBe(first.segments[1]?.buffer);
    expect(first.segments[0]?.buffer).not.toBe(payload.buffer);
    payload.fill(0);
    expect([...first.toBytes()]).toEqual([0x41, 0x42, 0x43]);
  });
});
