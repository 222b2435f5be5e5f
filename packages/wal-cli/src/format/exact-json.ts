/**
 * The exact JSON form of decoded events (`dump --json`). JSON numbers are IEEE doubles, so anything a double
 * cannot hold exactly is tagged instead; every tag is a one-key object whose key starts with `$`:
 *
 * | value                              | JSON                                                               |
 * | ---------------------------------- | ------------------------------------------------------------------ |
 * | id field of an event (u64 bigint)  | decimal string: `"nodeId":"42"`                                    |
 * | Int inside a value (i64 bigint)    | `{"$int":"9223372036854775807"}`                                   |
 * | finite Float (not -0)              | JSON number (shortest round-trip form)                             |
 * | NaN, ±Infinity, -0                 | `{"$float":"NaN"}`, `{"$float":"Infinity"}`, `{"$float":"-0"}`      |
 * | NaN with a payload (`LoraFloat`)   | `{"$float":"NaN","bits":"0x7ff8000000000001"}`                     |
 * | Date / Time / LocalTime / …        | `{"$date":"2026-04-27"}`, `{"$time":"12:34:56.789+01:00"}`, …       |
 * | Duration                           | `{"$duration":{"months":"14","days":"3","seconds":"14706","nanoseconds":"7000000"}}` |
 * | Point                              | `{"$point":{"x":1.5,"y":2.5,"srid":7203}}` (`z` for 3D)            |
 * | Vector                             | `{"$vector":{"type":"FLOAT32","dimension":3,"values":[1.5,2,-3]}}` |
 * | Binary                             | `{"$binary":["AAEC","AwT/"]}` (base64 per segment)                 |
 * | raw bytes (`--codec bytes`)        | `{"$base64":"AAEC"}`                                               |
 * | map with a key starting with `$`   | `{"$map":{…}}` (other maps are plain objects)                      |
 *
 * Temporal strings are ISO 8601 built from the raw fields (never normalised, so out-of-range wire values show as
 * they are); nanoseconds are printed with trailing zeros removed.
 */

import {
  type F64,
  type LoraBinary,
  LoraFloat,
  type LoraValueType,
  type LoraVector,
  loraValueTypeOf,
} from "@lora/wal-codec/lora";
import { temporalText, vectorTypeName } from "./temporal-text.js";

/** A value `JSON.stringify` writes without loss. */
export type JsonOut = null | boolean | number | string | JsonOut[] | { [key: string]: JsonOut };

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** `{"$float": …}` for the doubles JSON cannot carry, else the number. */
export function floatToJson(n: number): JsonOut {
  if (Number.isNaN(n)) return { $float: "NaN" };
  if (n === Number.POSITIVE_INFINITY) return { $float: "Infinity" };
  if (n === Number.NEGATIVE_INFINITY) return { $float: "-Infinity" };
  if (Object.is(n, -0)) return { $float: "-0" };
  return n;
}

function loraFloatToJson(f: LoraFloat): JsonOut {
  return { $float: "NaN", bits: `0x${f.bits.toString(16).padStart(16, "0")}` };
}

function f64ToJson(v: number | LoraFloat | undefined): JsonOut {
  if (v instanceof LoraFloat) return loraFloatToJson(v);
  return floatToJson(v ?? Number.NaN);
}

/** The exact JSON form of one LoraDB value (or any nested part of an event). */
export function valueToJson(value: unknown): JsonOut {
  switch (typeof value) {
    case "bigint":
      return { $int: value.toString() };
    case "number":
      return floatToJson(value);
    case "string":
    case "boolean":
      return value;
    case "undefined":
      return null;
    case "object":
      break;
    default:
      return String(value);
  }
  if (value === null) return null;
  if (Array.isArray(value)) return value.map(valueToJson);
  if (value instanceof Uint8Array) return { $base64: base64(value) };
  if (value instanceof LoraFloat) return loraFloatToJson(value);
  const type = loraValueTypeOf(value);
  if (type !== undefined) return { [`$${type.cypher}`]: loraValueToJson(value, type) };
  return mapToJson(value as Record<string, unknown>);
}

/**
 * The body under a class-valued LoraDB value's `$` tag, by its entry in the value-type table: ISO text for temporal
 * values, the fields of the others (i64 as decimal strings, f64 as {@link floatToJson}).
 */
function loraValueToJson(value: object, type: LoraValueType): JsonOut {
  switch (type.shape) {
    case "temporal":
      return temporalText(value, type);
    case "struct": {
      const v = value as Record<string, unknown>;
      const out: { [key: string]: JsonOut } = {};
      for (const f of type.fields) {
        const x = v[f.name];
        if (f.kind === "f64?" && x === undefined) continue;
        out[f.name] =
          f.kind === "i64" ? String(x) : f.kind === "f64" || f.kind === "f64?" ? f64ToJson(x as F64) : (x as number);
      }
      return out;
    }
    case "vector": {
      const { values, dimension } = value as LoraVector;
      const out: JsonOut[] = [];
      for (const x of values) out.push(typeof x === "bigint" ? x.toString() : floatToJson(x));
      return { type: vectorTypeName(values), dimension, values: out };
    }
    case "binary":
      return (value as LoraBinary).segments.map(base64);
  }
}

function mapToJson(map: Record<string, unknown>): JsonOut {
  const out: { [key: string]: JsonOut } = {};
  let tagged = false;
  for (const key of Object.keys(map)) {
    if (key.startsWith("$")) tagged = true;
    // defineProperty: a key `__proto__` must stay an own property, not set the prototype.
    Object.defineProperty(out, key, { value: valueToJson(map[key]), enumerable: true, writable: true });
  }
  return tagged ? { $map: out } : out;
}

/**
 * The exact JSON form of one decoded event for `codec`: LoraDB events keep their fields, with bigint fields (ids)
 * as decimal strings and values (`properties`, a property's `value`) tagged as described in the module comment; `bytes` events are `{"$base64"}`;
 * `json` events are written as they were stored.
 */
export function eventToJson(event: unknown, codecName: string): JsonOut {
  if (codecName === "json") return event as JsonOut;
  if (codecName !== "lora" || typeof event !== "object" || event === null || event instanceof Uint8Array) {
    return valueToJson(event);
  }
  const out: { [key: string]: JsonOut } = {};
  for (const [key, value] of Object.entries(event)) {
    // A bigint field of an event is an id, but `value` (SetNodeProperty, SetRelationshipProperty) is a value: an Int
    // there is tagged, or it would print as the String of its digits.
    out[key] = typeof value === "bigint" && key !== "value" ? value.toString() : valueToJson(value);
  }
  return out;
}
