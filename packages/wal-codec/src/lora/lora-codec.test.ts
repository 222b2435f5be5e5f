import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { ByteWriter } from "../byte-writer.js";
import { isWalError, type WalErrorCode } from "../errors.js";
import { loraCodec } from "./lora-codec.js";
import {
  LoraBinary,
  LoraDate,
  LoraFloat,
  LoraPoint,
  LoraTime,
  LoraVector,
  type PropertyMap,
  type PropertyValue,
} from "./lora-values.js";
import type { MutationEvent } from "./mutation-event.js";
import { event, mapOf, value } from "./test-support/lw1-arbitraries.js";
import { dump } from "./test-support/structural-dump.js";

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/[^0-9a-f]/gi, ""), "hex"));
const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");

function encode(e: MutationEvent): Uint8Array {
  const w = new ByteWriter(16);
  loraCodec.encodeEvent(e, w);
  return w.copy();
}

function encodeBatch(es: readonly MutationEvent[]): Uint8Array {
  const w = new ByteWriter(16);
  loraCodec.encodeBatch(es, w);
  return w.copy();
}

function codeOf(fn: () => unknown): WalErrorCode | "ok" | "other" {
  try {
    fn();
    return "ok";
  } catch (e) {
    return isWalError(e) ? e.code : "other";
  }
}

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a throw");
}

const setProp = (key: string, v: PropertyValue): MutationEvent => ({
  type: "SetNodeProperty",
  nodeId: 7n,
  key,
  value: v,
});

describe("golden vectors (docs/format.md, 'Worked examples')", () => {
  it("(c) CreateNode{7, [Person], {name: 'alice'}}: 69-byte payload", () => {
    const e: MutationEvent = { type: "CreateNode", id: 7n, labels: ["Person"], properties: mapOf([["name", "alice"]]) };
    const expected = hex(`4c573100 01 0700000000000000
      0100000000000000 0600000000000000 506572736f6e
      0100000000000000 0400000000000000 6e616d65
      04 0500000000000000 616c696365`);
    expect(expected.length).toBe(69);
    expect(toHex(encode(e))).toBe(toHex(expected));
    expect(loraCodec.decodeEvent(expected)).toStrictEqual(e);
  });

  it("(d) batch [Clear]", () => {
    const bytes = hex("4c573100 0100000000000000 0c");
    expect(toHex(encodeBatch([{ type: "Clear" }]))).toBe(toHex(bytes));
    expect(loraCodec.decodeBatch(bytes)).toStrictEqual([{ type: "Clear" }]);
  });

  const prefix = (k: string) => `4c573100 03 0700000000000000 0100000000000000 ${Buffer.from(k).toString("hex")}`;
  const cases: [string, MutationEvent, string][] = [
    ["Date", setProp("d", new LoraDate(2026, 4, 27)), `${prefix("d")} 07 ea070000 04000000 1b000000`],
    [
      "Point 3D",
      setProp("p", new LoraPoint(4.9, 52.37, 7.0, 4979)),
      `${prefix("p")} 0d 9a99999999991340 8fc2f5285c2f4a40 01 0000000000001c40 73130000`,
    ],
    [
      "Binary in two segments",
      setProp("b", new LoraBinary([hex("000102"), hex("0304ff")])),
      `${prefix("b")} 0f 0200000000000000 0300000000000000 000102 0300000000000000 0304ff`,
    ],
    [
      "Vector i8 dim 2",
      setProp("v", new LoraVector(new Int8Array([1, -2]))),
      `${prefix("v")} 0e 0200000000000000 06 0200000000000000 01 fe`,
    ],
    [
      "Time",
      setProp("t", new LoraTime(12, 34, 56, 789, 3600)),
      `${prefix("t")} 08 0c000000 22000000 38000000 15030000 100e0000`,
    ],
    ["DeleteRelationship{5}", { type: "DeleteRelationship", relId: 5n }, "4c573100 09 0500000000000000"],
    ["Clear", { type: "Clear" }, "4c573100 0c"],
  ];
  for (const [name, e, h] of cases) {
    it(`(e) ${name}`, () => {
      expect(toHex(encode(e))).toBe(toHex(hex(h)));
      expect(loraCodec.decodeEvent(hex(h))).toStrictEqual(e);
    });
  }

  it("CreateNode(i, ['N'], {v: Int}) is 56 bytes", () => {
    const e: MutationEvent = { type: "CreateNode", id: 1n, labels: ["N"], properties: mapOf([["v", 5n]]) };
    expect(encode(e).length).toBe(56);
  });
});

describe("round trip", () => {
  test.prop([event])("single event: decode(encode(e)) equals e and re-encodes identically", (e) => {
    const bytes = encode(e);
    const back = loraCodec.decodeEvent(bytes);
    expect(dump(back)).toEqual(dump(e));
    expect(toHex(encode(back))).toBe(toHex(bytes));
  });

  test.prop([fc.array(event, { minLength: 1, maxLength: 5 })])("batch", (es) => {
    const bytes = encodeBatch(es);
    const back = loraCodec.decodeBatch(bytes);
    expect(dump(back)).toEqual(dump(es));
    expect(toHex(encodeBatch(back))).toBe(toHex(bytes));
  });

  test.prop([value])("values through SetRelationshipProperty", (v) => {
    const e: MutationEvent = { type: "SetRelationshipProperty", relId: 3n, key: "k", value: v };
    expect(dump(loraCodec.decodeEvent(encode(e)))).toEqual(dump(e));
  });

  it("appends after existing bytes and leaves the writer untouched on failure", () => {
    const w = new ByteWriter(16);
    w.u8(0xaa);
    loraCodec.encodeEvent({ type: "Clear" }, w);
    expect(toHex(w.view())).toBe("aa4c5731000c");
    expect(codeOf(() => loraCodec.encodeEvent(setProp("k", [1n, "\ud800"]), w))).toBe("WAL_ENCODE");
    expect(toHex(w.view())).toBe("aa4c5731000c");
  });

  it("a plain {} map encodes like a null-prototype map", () => {
    const plain: PropertyMap = { b: 1n, a: "x" };
    Object.defineProperty(plain, "__proto__", { value: null, enumerable: true, configurable: true, writable: true });
    const nullProto = mapOf<PropertyValue>([
      ["a", "x"],
      ["b", 1n],
      ["__proto__", null],
    ]);
    expect(toHex(encode(setProp("m", plain)))).toBe(toHex(encode(setProp("m", nullProto))));
  });

  it("keeps NaN payloads, -0 and the i64 extremes", () => {
    const nan = new LoraFloat(0xfff8_0000_0000_0001n);
    const e = setProp("x", [nan, Number.NaN, -0, 2n ** 63n - 1n, -(2n ** 63n), new LoraPoint(nan, 1, nan, 7)]);
    const bytes = encode(e);
    expect(toHex(bytes)).toContain("010000000000f8ff");
    expect(toHex(bytes)).toContain("000000000000f87f");
    const back = loraCodec.decodeEvent(bytes);
    expect(dump(back)).toEqual(dump(e));
    expect(dump([-0])).not.toEqual(dump([0]));
  });

  it("keeps a float32 vector's NaN bits and the declared dimension", () => {
    const f32 = new Float32Array(new Uint32Array([0x7fc00001, 0xffffffff]).buffer);
    const e = setProp("v", new LoraVector(f32));
    const back = loraCodec.decodeEvent(encode(e));
    const values = (back as { value: LoraVector }).value.values;
    expect(new Uint32Array(values.buffer)).toStrictEqual(new Uint32Array([0x7fc00001, 0xffffffff]));
  });

  it("decodes non-zero booleans as true (normalised to 1 on re-encode)", () => {
    const bytes = hex(`4c573100 03 0700000000000000 0100000000000000 62 01 07`);
    expect(loraCodec.decodeEvent(bytes)).toStrictEqual(setProp("b", true));
    expect(toHex(encode(setProp("b", true)))).toBe(toHex(bytes).replace(/07$/, "01"));
  });
});

describe("key order", () => {
  it("sorts keys by UTF-8 bytes, not UTF-16 units", () => {
    const keys = ["\u{10000}", "\uFFFF", "\uE000", "z", "\u{1F600}", "é"];
    const props = mapOf(keys.map((k) => [k, null] as const));
    const bytes = encode({ type: "CreateNode", id: 1n, labels: [], properties: props });
    // Walk the encoded properties: count, then (u64 len, key, tag 0) per entry.
    const written: string[] = [];
    let at = 4 + 1 + 8 + 8 + 8;
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    while (at < bytes.length) {
      const n = Number(view.getBigUint64(at, true));
      written.push(Buffer.from(bytes.subarray(at + 8, at + 8 + n)).toString("utf8"));
      at += 8 + n + 1;
    }
    const byUtf8 = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(written).toEqual(byUtf8);
    expect(written).toEqual(["z", "é", "\uE000", "\uFFFF", "\u{10000}", "\u{1F600}"]);
    expect(written).not.toEqual([...keys].sort());
  });
});

describe("prototype safety", () => {
  it("decodes a __proto__ key as an own property without polluting anything", () => {
    const before = Object.getOwnPropertyNames(Object.prototype).sort();
    const inner = mapOf<PropertyValue>([["polluted", true]]);
    const bytes = encode({
      type: "CreateNode",
      id: 1n,
      labels: [],
      properties: mapOf<PropertyValue>([["__proto__", inner]]),
    });
    const e = loraCodec.decodeEvent(bytes);
    if (e.type !== "CreateNode") throw new Error("wrong type");
    expect(Object.getPrototypeOf(e.properties)).toBe(null);
    expect(Object.hasOwn(e.properties, "__proto__")).toBe(true);
    expect(dump(Object.getOwnPropertyDescriptor(e.properties, "__proto__")?.value)).toEqual(dump(inner));
    expect(({} as { polluted?: unknown }).polluted).toBe(undefined);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
  });

  it("lets the last duplicate key win", () => {
    const bytes = hex(`4c573100 01 0100000000000000 0000000000000000 0200000000000000
      0100000000000000 61 02 0100000000000000
      0100000000000000 61 02 0200000000000000`);
    const e = loraCodec.decodeEvent(bytes);
    expect(e).toStrictEqual({ type: "CreateNode", id: 1n, labels: [], properties: mapOf([["a", 2n]]) });
  });
});

describe("encode errors", () => {
  const bad: [string, MutationEvent][] = [
    ["lone surrogate in a key", setProp("\ud800", null)],
    ["lone surrogate in a string value", setProp("k", "a\udc00")],
    ["lone surrogate in a label", { type: "AddNodeLabel", nodeId: 1n, label: "\ud800" }],
    ["i64 overflow", setProp("k", 2n ** 63n)],
    ["i64 underflow", setProp("k", -(2n ** 63n) - 1n)],
    ["Duration overflow", setProp("k", { months: 2n ** 64n } as unknown as PropertyValue)],
    ["u64 id overflow", { type: "DeleteNode", nodeId: 2n ** 64n }],
    ["negative id", { type: "DeleteNode", nodeId: -1n }],
    ["number id", { type: "DeleteNode", nodeId: 1 as unknown as bigint }],
    ["undefined value", setProp("k", undefined as unknown as PropertyValue)],
    ["function value", setProp("k", (() => 1) as unknown as PropertyValue)],
    ["symbol value", setProp("k", Symbol("s") as unknown as PropertyValue)],
    ["unknown class", setProp("k", new Date() as unknown as PropertyValue)],
    ["Map instance", setProp("k", new Map() as unknown as PropertyValue)],
    ["date month out of u32", setProp("k", new LoraDate(2026, -1, 1))],
    ["date year not an integer", setProp("k", new LoraDate(1.5, 1, 1))],
    ["vector of a Uint8Array", setProp("k", new LoraVector(new Uint8Array(2) as unknown as Int8Array))],
    ["unknown event type", { type: "Nope" } as unknown as MutationEvent],
    [
      "bad index kind",
      { type: "CreateIndex", ifNotExists: false, request: { kind: "Nope" } } as unknown as MutationEvent,
    ],
  ];
  for (const [name, e] of bad) {
    it(`rejects ${name} with WAL_ENCODE`, () => {
      expect(codeOf(() => encode(e))).toBe("WAL_ENCODE");
    });
  }

  it("rejects cyclic and over-deep values with WAL_ENCODE", () => {
    const cyclic: PropertyValue[] = [];
    cyclic.push(cyclic);
    expect(codeOf(() => encode(setProp("k", cyclic)))).toBe("WAL_ENCODE");
    let deep: PropertyValue = null;
    for (let i = 0; i < 600; i++) deep = [deep];
    expect(codeOf(() => encode(setProp("k", deep)))).toBe("WAL_ENCODE");
    let ok: PropertyValue = null;
    for (let i = 0; i < 512; i++) ok = [ok];
    expect(loraCodec.decodeEvent(encode(setProp("k", ok)))).toStrictEqual(setProp("k", ok));
  });

  it("names the codec to use when an event is not a LoraDB mutation (the lora codec is Wal.open's default)", () => {
    for (const e of [{ op: "put", key: "a", value: 1 }, { type: "Nope" }]) {
      for (const error of [
        errorOf(() => encode(e as unknown as MutationEvent)),
        errorOf(() => encodeBatch([e as unknown as MutationEvent])),
      ]) {
        expect(isWalError(error, "WAL_ENCODE")).toBe(true);
        expect(error.message).toMatch(/^unknown mutation event type .*: the lora codec \(the default of Wal\.open\)/);
        expect(error.message).toContain("codec: jsonCodec");
      }
    }
  });

  it("prefixes store-codec failures with the event name", () => {
    const e = { type: "CreateIndex", ifNotExists: false, request: { kind: "Nope" } } as unknown as MutationEvent;
    expect(errorOf(() => encode(e)).message).toMatch(/^CreateIndex encode failed: /);
  });
});

describe("decode errors", () => {
  const cases: [string, string, string | RegExp][] = [
    ["empty", "", "WAL mutation payload has bad magic"],
    ["bad magic", "4c573200 0c", "WAL mutation payload has bad magic"],
    ["trailing bytes", "4c573100 0c 0000", "trailing bytes in WAL mutation payload: 2"],
    ["unknown mutation tag", "4c573100 11", "unknown WAL mutation tag 17"],
    ["truncated", "4c573100 09 05", "truncated WAL mutation payload"],
    ["unknown value tag", "4c573100 03 0100000000000000 0000000000000000 10", "unknown WAL property value tag 16"],
    [
      "point z tag",
      "4c573100 03 0100000000000000 0000000000000000 0d 0000000000000000 0000000000000000 02",
      "invalid point z-presence tag 2",
    ],
    [
      "vector subtag",
      "4c573100 03 0100000000000000 0000000000000000 0e 0100000000000000 07 0000000000000000",
      "unknown vector value tag 7",
    ],
    [
      "vector dimension mismatch",
      "4c573100 03 0100000000000000 0000000000000000 0e 0300000000000000 06 0200000000000000 0102",
      "vector dimension mismatch: declared 3, got 2",
    ],
    [
      "huge vector count",
      "4c573100 03 0100000000000000 0000000000000000 0e ffffffffffffffff 01 ffffffffffffff7f",
      "float64 vector value count 9223372036854775807 exceeds remaining WAL payload",
    ],
    [
      "vector count within bytes but elements truncated",
      "4c573100 03 0100000000000000 0000000000000000 0e 0400000000000000 01 0400000000000000 00000000",
      "truncated WAL mutation payload",
    ],
    ["batch count", "4c573100 0500000000000000 0c", "WAL event count 5 exceeds remaining WAL payload"],
    ["labels count", "4c573100 01 0100000000000000 ff00000000000000", "string count 255 exceeds remaining WAL payload"],
    [
      "property count",
      "4c573100 01 0100000000000000 0000000000000000 0900000000000000",
      "property count 9 exceeds remaining WAL payload",
    ],
    [
      "list count",
      "4c573100 03 0100000000000000 0000000000000000 05 0900000000000000",
      "property list value count 9 exceeds remaining WAL payload",
    ],
    [
      "map count",
      "4c573100 03 0100000000000000 0000000000000000 06 0900000000000000",
      "property map entry count 9 exceeds remaining WAL payload",
    ],
    [
      "binary count",
      "4c573100 03 0100000000000000 0000000000000000 0f 0900000000000000",
      "binary segment count 9 exceeds remaining WAL payload",
    ],
    ["invalid UTF-8", "4c573100 05 0100000000000000 0100000000000000 ff", /^invalid UTF-8 in WAL payload/],
    ["long invalid UTF-8", `4c573100 05 0100000000000000 2800000000000000 ${"61".repeat(39)}ff`, /^invalid UTF-8/],
    [
      "CreateIndex payload",
      "4c573100 0d 0100000000000000 07 00",
      "CreateIndex decode failed: store value decode failed: invalid optional string tag 7",
    ],
    [
      "CreateIndex trailing",
      "4c573100 0d 1d00000000000000 00 01 01 00 0000000000000000 0000000000000000 0000000000000000 ff 00",
      "CreateIndex decode failed: store value decode failed: trailing bytes: 1",
    ],
    [
      "CreateConstraint payload",
      "4c573100 0f 0900000000000000 0000000000000000 09 00",
      "CreateConstraint decode failed: store value decode failed: invalid constraint kind tag 9",
    ],
  ];
  for (const [name, h, message] of cases) {
    it(`rejects ${name}`, () => {
      const decode = name.startsWith("batch") ? loraCodec.decodeBatch : loraCodec.decodeEvent;
      const e = errorOf(() => decode(hex(h)));
      expect(isWalError(e, "WAL_DECODE")).toBe(true);
      if (typeof message === "string") expect(e.message).toBe(message);
      else expect(e.message).toMatch(message);
    });
  }

  it("refuses hostile nesting with WAL_DECODE instead of overflowing the stack", () => {
    const depth = 200_000;
    const head = hex("4c573100 03 0100000000000000 0100000000000000 6b");
    const level = hex("05 0100000000000000");
    const bytes = new Uint8Array(head.length + depth * level.length + 1);
    bytes.set(head);
    for (let i = 0; i < depth; i++) bytes.set(level, head.length + i * level.length);
    const e = errorOf(() => loraCodec.decodeEvent(bytes));
    expect(isWalError(e, "WAL_DECODE")).toBe(true);
    expect(e.message).toMatch(/nesting/);
  });

  it("wraps a non-Uint8Array argument as WAL_DECODE", () => {
    expect(codeOf(() => loraCodec.decodeEvent("nope" as unknown as Uint8Array))).toBe("WAL_DECODE");
  });
});

describe("strings that start with U+FEFF (a byte-order mark)", () => {
  // A UTF-8 decoder strips a leading BOM unless told not to: a label, a key or a value that starts with one must
  // come back with it, as the Rust engine's String keeps it.
  const bom = "\uFEFF";
  it("keep it in labels, keys and values", () => {
    const e: MutationEvent = {
      type: "CreateNode",
      id: 1n,
      labels: [`${bom}Label`, bom],
      properties: mapOf([
        [`${bom}key`, `${bom}value`],
        ["only", bom],
      ]),
    };
    expect(loraCodec.decodeEvent(encode(e))).toStrictEqual(e);
  });

  it("keep it in an index's properties (the schema part of the payload)", () => {
    const e = {
      type: "CreateIndex",
      request: {
        explicitName: null,
        kind: "Range",
        entity: "Node",
        label: null,
        additionalLabels: [],
        properties: [bom, `${bom}p`],
        options: Object.create(null),
      },
      ifNotExists: false,
    } as unknown as MutationEvent;
    expect(dump(loraCodec.decodeEvent(encode(e)))).toEqual(dump(e));
  });
});

describe("input views", () => {
  test.prop([event])("decodes from a pooled Buffer at an odd offset and never aliases it", (e) => {
    const bytes = encode(e);
    const pool = Buffer.alloc(bytes.length + 3, 0xee);
    pool.set(bytes, 1);
    const view = pool.subarray(1, 1 + bytes.length);
    const back = loraCodec.decodeEvent(view);
    expect(dump(back)).toEqual(dump(e));
    pool.fill(0);
    expect(dump(back)).toEqual(dump(e));
  });
});

describe("decoder totality", () => {
  const decodeBoth = (bytes: Uint8Array) => {
    for (const decode of [loraCodec.decodeEvent, loraCodec.decodeBatch]) {
      const code = codeOf(() => decode(bytes));
      expect(["ok", "WAL_DECODE"]).toContain(code);
    }
  };

  test.prop([fc.uint8Array({ maxLength: 64 })])("arbitrary bytes", (b) => decodeBoth(b));

  test.prop([fc.uint8Array({ maxLength: 64 })])("arbitrary bytes after the magic", (b) => {
    const bytes = new Uint8Array(4 + b.length);
    bytes.set([0x4c, 0x57, 0x31, 0]);
    bytes.set(b, 4);
    decodeBoth(bytes);
  });

  test.prop([
    fc.array(event, { minLength: 1, maxLength: 3 }),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom("set", "cut", "insert", "delete")), {
      minLength: 1,
      maxLength: 4,
    }),
  ])("mutated valid payloads", (es, edits) => {
    let bytes = [...encodeBatch(es)];
    for (const [at, byte, op] of edits) {
      const i = at % (bytes.length + 1);
      if (op === "set" && i < bytes.length) bytes[i] = byte;
      else if (op === "cut") bytes = bytes.slice(0, i);
      else if (op === "insert") bytes.splice(i, 0, byte);
      else bytes.splice(i, 1);
    }
    decodeBoth(Uint8Array.from(bytes));
  });
});
