import { describe, expect, expectTypeOf, it } from "vitest";
import { ByteWriter } from "./byte-writer.js";
import { isWalError, WalError } from "./errors.js";
import { type JsonValue, jsonCodec } from "./json-codec.js";
import type { PayloadCodec } from "./payload-codec.js";

/** Encode one event and decode it again, as a single-event record would. */
function roundTrip(event: unknown): unknown {
  const out = new ByteWriter();
  jsonCodec.encodeEvent(event, out);
  return jsonCodec.decodeEvent(out.copy());
}

/** Encode a batch and decode it again, as a batch record would. */
function roundTripBatch(events: unknown[]): unknown[] {
  const out = new ByteWriter();
  jsonCodec.encodeBatch(events, out);
  return jsonCodec.decodeBatch(out.copy());
}

function encodeError(event: unknown): unknown {
  try {
    jsonCodec.encodeEvent(event, new ByteWriter());
  } catch (error) {
    return error;
  }
  throw new Error("encodeEvent accepted the event");
}

describe("jsonCodec: what a JSON round trip does to values (as its TSDoc says)", () => {
  it("gives JSON values back unchanged, one event or a batch", () => {
    const event = { a: [1, "two", null, true, { b: -1.5 }], c: "é😀" };
    expect(roundTrip(event)).toEqual(event);
    expect(roundTripBatch([event, 3, "x"])).toEqual([event, 3, "x"]);
  });

  it("keeps a leading U+FEFF in strings and keys", () => {
    expect(roundTrip("\uFEFFx")).toBe("\uFEFFx");
    expect(roundTrip({ "\uFEFFk": "\uFEFF" })).toEqual({ "\uFEFFk": "\uFEFF" });
  });

  it("turns NaN, Infinity and -Infinity into null", () => {
    expect(roundTrip(Number.NaN)).toBeNull();
    expect(roundTrip({ a: Number.POSITIVE_INFINITY, b: Number.NEGATIVE_INFINITY })).toEqual({ a: null, b: null });
    expect(roundTripBatch([Number.NaN, 1])).toEqual([null, 1]);
  });

  it("turns -0 into 0", () => {
    const back = roundTrip(-0);
    expect(Object.is(back, 0)).toBe(true);
    expect(Object.is((roundTrip([-0]) as number[])[0], 0)).toBe(true);
  });

  it("drops undefined in an object, writes null for it in an array, and refuses an undefined event", () => {
    const back = roundTrip({ kept: 1, gone: undefined }) as Record<string, unknown>;
    expect(back).toEqual({ kept: 1 });
    expect(Object.hasOwn(back, "gone")).toBe(false);
    expect(roundTrip([1, undefined, 3])).toEqual([1, null, 3]);
    const error = encodeError(undefined);
    expect(isWalError(error, "WAL_ENCODE")).toBe(true);
  });

  it("refuses an event with no JSON form in a batch too, as alone, writing nothing (it would come back as null)", () => {
    const noForm: unknown[] = [undefined, () => 1, Symbol("s"), { toJSON: () => undefined }];
    for (const bad of noForm) {
      const alone = encodeError(bad);
      expect(isWalError(alone, "WAL_ENCODE")).toBe(true);
      const out = new ByteWriter();
      out.u8(7);
      let error: unknown;
      try {
        jsonCodec.encodeBatch([{ a: 1 }, new Date(0), bad], out);
      } catch (caught) {
        error = caught;
      }
      expect(isWalError(error, "WAL_ENCODE")).toBe(true);
      expect((error as Error).message).toBe("event 2 of the batch has no JSON form");
      expect(out.length).toBe(1); // the batch wrote nothing
    }
    // A hole in the array is an undefined event.
    const holed = [1, 2, 3];
    delete holed[1];
    expect(() => jsonCodec.encodeBatch(holed, new ByteWriter())).toThrow("event 1 of the batch has no JSON form");
  });

  it("takes what a toJSON or a getter throws for the event's failure (WAL_ENCODE, the error as cause), alone or in a batch", () => {
    const callersError = new WalError("WAL_IO", "the caller's own");
    const getterError = new Error("getter");
    const cases: [unknown, unknown][] = [
      [
        {
          toJSON: () => {
            throw callersError;
          },
        },
        callersError,
      ],
      [
        Object.defineProperty({}, "toJSON", {
          get: () => {
            throw getterError;
          },
        }),
        getterError,
      ],
    ];
    for (const [bad, cause] of cases) {
      const inBatch = (() => {
        try {
          jsonCodec.encodeBatch([1, bad], new ByteWriter());
        } catch (error) {
          return error;
        }
        throw new Error("encodeBatch accepted the event");
      })();
      for (const error of [encodeError(bad), inBatch]) {
        expect(error).toMatchObject({
          code: "WAL_ENCODE",
          message: `event is not serialisable as JSON: ${(cause as Error).message}`,
        });
        expect((error as Error).cause).toBe(cause);
      }
    }
  });

  it("accepts in a batch what it accepts alone: a function with a toJSON is its toJSON's value", () => {
    const fn = Object.assign(() => 1, { toJSON: () => "fn" });
    expect(roundTrip(fn)).toBe("fn");
    expect(roundTripBatch([fn, 2])).toEqual(["fn", 2]);
  });

  it("writes a batch exactly as JSON.stringify of the array, toJSON methods included", () => {
    const at = new Date(Date.UTC(2026, 0, 2));
    const keyed = { toJSON: (key: string) => `at ${key}` };
    for (const batch of [
      [1, "a", null, [undefined], { b: undefined }],
      [at, keyed, { nested: [keyed] }],
    ]) {
      const out = new ByteWriter();
      jsonCodec.encodeBatch<unknown>(batch, out);
      expect(new TextDecoder().decode(out.copy())).toBe(JSON.stringify(batch));
    }
  });

  it("turns a Date into its ISO string", () => {
    const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6));
    const back = roundTrip({ at }) as { at: unknown };
    expect(back.at).toBe("2026-01-02T03:04:05.006Z");
    expect(back.at).not.toBeInstanceOf(Date);
  });

  it("refuses a BigInt anywhere in the event with WAL_ENCODE, the TypeError as cause", () => {
    const error = encodeError({ n: 1n });
    expect(isWalError(error, "WAL_ENCODE")).toBe(true);
    expect((error as Error).cause).toBeInstanceOf(TypeError);
    const out = new ByteWriter();
    expect(() => jsonCodec.encodeBatch([1, 2n], out)).toThrow(expect.objectContaining({ code: "WAL_ENCODE" }));
  });

  it("says in the message what JSON.stringify refused, not only that it refused (a BigInt, a cycle)", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const bad of [{ n: 1n }, cyclic]) {
      const error = encodeError(bad) as Error;
      expect(error.message).toBe(`event is not serialisable as JSON: ${(error.cause as Error).message}`);
    }
    expect((encodeError({ n: 1n }) as Error).message).toMatch(/BigInt/);
  });

  it("turns a Map and a Set into {} (their entries are lost)", () => {
    expect(
      roundTrip({
        m: new Map([["k", 1]]),
        s: new Set([1, 2]),
      }),
    ).toEqual({ m: {}, s: {} });
  });

  it("turns a class instance into a plain object of its own enumerable fields, and drops functions and symbols", () => {
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
      norm(): number {
        return Math.hypot(this.x, this.y);
      }
    }
    const back = roundTrip({ p: new Point(1, 2), f: () => 1, s: Symbol("s"), list: [() => 1, Symbol("t")] }) as {
      p: unknown;
    };
    expect(back).toEqual({ p: { x: 1, y: 2 }, list: [null, null] });
    expect(Object.getPrototypeOf(back.p)).toBe(Object.prototype);
    expect(
      isWalError(
        encodeError(() => 1),
        "WAL_ENCODE",
      ),
    ).toBe(true);
  });

  it("gives back equal exactly the JSON values its TSDoc lists: any string, every finite double but -0", () => {
    const strings = ["", "\uD800", "a\uDC00b", '\u0000\n"\\', "é😀"];
    const numbers = [0, 1, -1, 0.1, 2 ** 53, 2 ** 53 + 2, -(2 ** 60), Number.MIN_VALUE, Number.MAX_VALUE, 1e-7, 1e21];
    for (const value of [...strings, ...numbers, true, false, null]) {
      expect(Object.is(roundTrip(value), value), String(value)).toBe(true);
    }
    expect(roundTripBatch([...strings, ...numbers])).toEqual([...strings, ...numbers]);
    const nested = { "2": [1, { k: "v" }], b: [], a: {}, "": "empty key" };
    const back = roundTrip(nested);
    expect(back).toEqual(nested);
    expect(Object.keys(back as object)).toEqual(Object.keys(nested));
  });

  it("accepts bytes and turns them into something else without a word: typed arrays, Buffer, ArrayBuffer", () => {
    // Pinned so that a change to the encoding shows here: the docs say to use bytesCodec or loraCodec for bytes.
    expect(roundTrip(new Uint8Array([1, 2]))).toEqual({ "0": 1, "1": 2 });
    expect(roundTrip({ f: new Float64Array([Number.NaN, 1.5]) })).toEqual({ f: { "0": null, "1": 1.5 } });
    expect(roundTrip(Buffer.from([1, 2]))).toEqual({ type: "Buffer", data: [1, 2] });
    expect(roundTrip(new ArrayBuffer(4))).toEqual({});
    expect(roundTrip(new DataView(new ArrayBuffer(4)))).toEqual({});
    expect(roundTripBatch([new Uint8Array([7])])).toEqual([{ "0": 7 }]);
  });

  it("turns holes into null, boxed primitives into primitives, and drops symbol keys and non-enumerable properties", () => {
    // biome-ignore lint/suspicious/noSparseArray: the hole is what is pinned
    expect(roundTrip([1, , 3])).toEqual([1, null, 3]);
    expect(roundTrip([Object(1), Object("s"), Object(true)])).toEqual([1, "s", true]);
    const object = Object.defineProperty({ [Symbol("k")]: 1, kept: 2 }, "hidden", { value: 3, enumerable: false });
    expect(roundTrip(object)).toEqual({ kept: 2 });
    expect(roundTrip([new Error("e"), /re/g])).toEqual([{}, {}]);
  });

  it("refuses a cycle with WAL_ENCODE", () => {
    const cycle: { self?: unknown } = {};
    cycle.self = cycle;
    expect(isWalError(encodeError(cycle), "WAL_ENCODE")).toBe(true);
  });

  it("refuses bytes that are not UTF-8 JSON, and a batch that is not an array, with WAL_DECODE", () => {
    expect(() => jsonCodec.decodeEvent(new Uint8Array([0xff]))).toThrow(
      expect.objectContaining({ code: "WAL_DECODE" }),
    );
    expect(() => jsonCodec.decodeEvent(new TextEncoder().encode("{"))).toThrow(
      expect.objectContaining({ code: "WAL_DECODE" }),
    );
    expect(() => jsonCodec.decodeBatch(new TextEncoder().encode('{"a":1}'))).toThrow(
      expect.objectContaining({ code: "WAL_DECODE" }),
    );
  });
});

describe("jsonCodec: types", () => {
  interface Job {
    readonly id: string;
    readonly attempts: number;
  }

  it("is a PayloadCodec of any event type, and of JsonValue without a type argument", () => {
    // These lines are the test: `pnpm typecheck` compiles them (tsconfig includes src/**/*.test.ts).
    const jobs: PayloadCodec<Job> = jsonCodec;
    const anything: PayloadCodec<unknown> = jsonCodec;
    const json: PayloadCodec<JsonValue> = jsonCodec;
    const out = new ByteWriter();
    expectTypeOf(jsonCodec.decodeEvent(new TextEncoder().encode("1"))).toEqualTypeOf<JsonValue>();
    expectTypeOf(jsonCodec.decodeBatch<Job>(new TextEncoder().encode("[]"))).toEqualTypeOf<Job[]>();
    jobs.encodeEvent({ id: "a", attempts: 1 }, out);
    expect(jobs.decodeEvent(out.copy())).toEqual({ id: "a", attempts: 1 });
    expect([anything.name, json.name]).toEqual(["json", "json"]);
  });
});
