import {
  createPropertyMap,
  LORA_VALUE_TYPES,
  LoraBinary,
  LoraDate,
  LoraDateTime,
  LoraDuration,
  LoraFloat,
  LoraLocalTime,
  LoraPoint,
  LoraTime,
  LoraVector,
} from "@lora/wal-codec/lora";
import { describe, expect, it } from "vitest";
import { valueText } from "./event-text.js";
import { eventToJson, valueToJson } from "./exact-json.js";

describe("exact JSON", () => {
  it("keeps 64-bit integers exact and tags what JSON numbers cannot hold", () => {
    expect(valueToJson(9223372036854775807n)).toEqual({ $int: "9223372036854775807" });
    expect(valueToJson(-9223372036854775808n)).toEqual({ $int: "-9223372036854775808" });
    expect(valueToJson(1.5)).toBe(1.5);
    expect(valueToJson(Number.NaN)).toEqual({ $float: "NaN" });
    expect(valueToJson(Number.NEGATIVE_INFINITY)).toEqual({ $float: "-Infinity" });
    expect(valueToJson(-0)).toEqual({ $float: "-0" });
    expect(valueToJson(new LoraFloat(0x7ff8000000000001n))).toEqual({ $float: "NaN", bits: "0x7ff8000000000001" });
  });

  it("tags LoraDB value classes", () => {
    expect(valueToJson(new LoraDate(2026, 4, 7))).toEqual({ $date: "2026-04-07" });
    expect(valueToJson(new LoraTime(12, 34, 56, 789000000, 3600))).toEqual({ $time: "12:34:56.789+01:00" });
    expect(valueToJson(new LoraLocalTime(1, 2, 3, 5))).toEqual({ $localtime: "01:02:03.000000005" });
    expect(valueToJson(new LoraDateTime(-5, 1, 2, 3, 4, 5, 0, -5400))).toEqual({
      $datetime: "-0005-01-02T03:04:05-01:30",
    });
    expect(valueToJson(new LoraDuration(14n, 3n, 14706n, 7000000n))).toEqual({
      $duration: { months: "14", days: "3", seconds: "14706", nanoseconds: "7000000" },
    });
    expect(valueToJson(new LoraPoint(1.5, 2, undefined, 7203))).toEqual({ $point: { x: 1.5, y: 2, srid: 7203 } });
    expect(valueToJson(new LoraVector(new BigInt64Array([1n, -(2n ** 63n)])))).toEqual({
      $vector: { type: "INTEGER", dimension: 2, values: ["1", "-9223372036854775808"] },
    });
    expect(valueToJson(LoraBinary.fromBytes(new Uint8Array([0, 1, 255])))).toEqual({ $binary: ["AAH/"] });
    expect(valueToJson(new Uint8Array([0, 1, 2]))).toEqual({ $base64: "AAEC" });
  });

  it("wraps maps whose keys could be mistaken for tags, and keeps __proto__ an ordinary key", () => {
    const map = createPropertyMap();
    map.$int = "1";
    expect(valueToJson(map)).toEqual({ $map: { $int: "1" } });
    const proto = createPropertyMap();
    Object.defineProperty(proto, "__proto__", { value: 1n, enumerable: true });
    expect(JSON.stringify(valueToJson(proto))).toBe('{"__proto__":{"$int":"1"}}');
  });

  it("writes event ids as decimal strings", () => {
    const properties = createPropertyMap();
    properties.n = 18446744073709551615n;
    const json = eventToJson({ type: "CreateNode", id: 18446744073709551615n, labels: ["A"], properties }, "lora");
    expect(json).toEqual({
      type: "CreateNode",
      id: "18446744073709551615",
      labels: ["A"],
      properties: { n: { $int: "18446744073709551615" } },
    });
    expect(eventToJson({ a: 1 }, "json")).toEqual({ a: 1 });
    expect(eventToJson(new Uint8Array([1]), "bytes")).toEqual({ $base64: "AQ==" });
  });

  it("tags an Int set as a property's value, so it never reads as the String of its digits", () => {
    for (const type of ["SetNodeProperty", "SetRelationshipProperty"]) {
      const id = type === "SetNodeProperty" ? "nodeId" : "relId";
      const asInt = eventToJson({ type, [id]: 1n, key: "born", value: 1791n }, "lora");
      const asString = eventToJson({ type, [id]: 1n, key: "born", value: "1791" }, "lora");
      expect(asInt).toEqual({ type, [id]: "1", key: "born", value: { $int: "1791" } });
      expect(asString).toEqual({ type, [id]: "1", key: "born", value: "1791" });
    }
  });
});

describe("every class-valued LoraDB type", () => {
  /** A value of each entry of the value-type table, built from its field layout. */
  const samples = LORA_VALUE_TYPES.map((type) => {
    if (type.shape === "vector") return { type, value: new LoraVector(new Float32Array([1.5])) };
    if (type.shape === "binary") return { type, value: LoraBinary.fromBytes(new Uint8Array([7])) };
    const args = type.fields.map((f) => (f.kind === "i64" ? 5n : f.kind === "f64?" ? undefined : 5));
    return { type, value: Reflect.construct(type.type, args) as object };
  });

  it("is written under its own $ tag, never as a map of its fields", () => {
    expect(samples.length).toBe(LORA_VALUE_TYPES.length);
    for (const { type, value } of samples) {
      expect(Object.keys(valueToJson(value) as object), type.name).toEqual([`$${type.cypher}`]);
    }
  });

  it("reads as a Cypher function call in text", () => {
    for (const { type, value } of samples)
      expect(valueText(value), type.name).toMatch(new RegExp(`^${type.cypher}\\(`));
  });
});
