/**
 * The one table of LoraDB's class-valued property types (Date … Binary): wire tag, names, class and field layout.
 * The LW1 encoder and decoder and the CLI's text and JSON renderers all read it, so a new type whose body is a fixed
 * sequence of fields is one entry here (plus its class in `lora-values.ts`). Null, Bool, Int, Float, String, List
 * and Map are JavaScript primitives, arrays and objects: they have no class to look up and stay with the codec.
 */

import {
  LoraBinary,
  LoraDate,
  LoraDateTime,
  LoraDuration,
  LoraLocalDateTime,
  LoraLocalTime,
  LoraPoint,
  LoraTime,
  LoraVector,
  type VectorValues,
} from "./lora-values.js";

/**
 * How a field is written: `i32`, `u32` (JavaScript numbers), `i64` (bigint), `f64` (a number, or `LoraFloat` for a
 * NaN with a payload), `f64?` (a u8 presence flag, 1 followed by an f64 or 0 for `undefined`).
 */
export type LoraFieldKind = "i32" | "u32" | "i64" | "f64" | "f64?";

/** One field of a value's wire body, in wire order (also the order of its class's constructor arguments). */
export interface LoraValueField {
  /** The property of the class that holds it. */
  readonly name: string;
  readonly kind: LoraFieldKind;
  /** `Type.field`, as encode errors name it. */
  readonly label: string;
}

/**
 * What a value's body and its renderings are:
 * - `temporal`: its fields, in order; rendered as ISO 8601 text built from the fields it has (`year`/`month`/`day`,
 *   `hour`/`minute`/`second`/`nanosecond`, `offsetSeconds`);
 * - `struct`: its fields, in order; rendered field by field under the field names;
 * - `vector`, `binary`: a body of its own (see {@link LORA_VECTOR_ELEMENTS} and `LoraBinary`).
 */
export type LoraValueShape = "temporal" | "struct" | "vector" | "binary";

/** A class-valued LoraDB property type. */
export interface LoraValueType {
  /** The u8 value tag on the wire. */
  readonly tag: number;
  /** LoraDB's name of the type (`LocalDateTime`), as errors name it. */
  readonly name: string;
  /** Its Cypher name (`localdatetime`): the function in the CLI's text, the `$` key in its JSON. */
  readonly cypher: string;
  /** The class of its values. */
  readonly type: abstract new (
    ...args: never[]
  ) => object;
  readonly shape: LoraValueShape;
  /** The fixed fields of a `temporal` or `struct` body, in wire order; empty for the others. */
  readonly fields: readonly LoraValueField[];
}

function entry(
  tag: number,
  name: string,
  type: abstract new (...args: never[]) => object,
  shape: LoraValueShape,
  fields: readonly (readonly [string, LoraFieldKind])[] = [],
): LoraValueType {
  return Object.freeze({
    tag,
    name,
    cypher: name.toLowerCase(),
    type,
    shape,
    fields: Object.freeze(fields.map(([f, kind]) => Object.freeze({ name: f, kind, label: `${name}.${f}` }))),
  });
}

const DATE = [
  ["year", "i32"],
  ["month", "u32"],
  ["day", "u32"],
] as const;
const LOCAL_TIME = [
  ["hour", "u32"],
  ["minute", "u32"],
  ["second", "u32"],
  ["nanosecond", "u32"],
] as const;
const OFFSET = [["offsetSeconds", "i32"]] as const;

/** Every class-valued type, by ascending tag. */
export const LORA_VALUE_TYPES: readonly LoraValueType[] = Object.freeze([
  entry(7, "Date", LoraDate, "temporal", DATE),
  entry(8, "Time", LoraTime, "temporal", [...LOCAL_TIME, ...OFFSET]),
  entry(9, "LocalTime", LoraLocalTime, "temporal", LOCAL_TIME),
  entry(10, "DateTime", LoraDateTime, "temporal", [...DATE, ...LOCAL_TIME, ...OFFSET]),
  entry(11, "LocalDateTime", LoraLocalDateTime, "temporal", [...DATE, ...LOCAL_TIME]),
  entry(12, "Duration", LoraDuration, "struct", [
    ["months", "i64"],
    ["days", "i64"],
    ["seconds", "i64"],
    ["nanoseconds", "i64"],
  ]),
  entry(13, "Point", LoraPoint, "struct", [
    ["x", "f64"],
    ["y", "f64"],
    ["z", "f64?"],
    ["srid", "u32"],
  ]),
  entry(14, "Vector", LoraVector, "vector"),
  entry(15, "Binary", LoraBinary, "binary"),
]);

const byPrototype = new Map<unknown, LoraValueType>(LORA_VALUE_TYPES.map((t) => [t.type.prototype, t]));

/** The entry of `value`'s class (an exact class, not a subclass), or `undefined` for anything else. */
export function loraValueTypeOf(value: object): LoraValueType | undefined {
  return byPrototype.get(Object.getPrototypeOf(value));
}

/** Entries by tag: index `tag`, `undefined` where the tag is not a class-valued type. */
export const LORA_VALUE_TYPES_BY_TAG: readonly (LoraValueType | undefined)[] = (() => {
  const out: (LoraValueType | undefined)[] = [];
  for (const t of LORA_VALUE_TYPES) out[t.tag] = t;
  return Object.freeze(Array.from(out));
})();

/**
 * A vector element type: its subtag and the typed array that holds it. Elements are little-endian on the wire and
 * copied as raw bytes (each element's bytes reversed on a big-endian host).
 */
export interface LoraVectorElement {
  /** The u8 subtag after the vector's declared dimension. */
  readonly subtag: number;
  /** Lowercase name, as decode errors name it (`float32 vector value`). */
  readonly label: string;
  /** Its Cypher coordinate type, as the CLI prints it (`FLOAT32`, `INTEGER`, `INT8`). */
  readonly cypher: string;
  /** The typed array class of its values; `BYTES_PER_ELEMENT` is the element size on the wire. */
  readonly array:
    | Float64ArrayConstructor
    | Float32ArrayConstructor
    | BigInt64ArrayConstructor
    | Int32ArrayConstructor
    | Int16ArrayConstructor
    | Int8ArrayConstructor;
}

/** Vector element types, by ascending subtag. */
export const LORA_VECTOR_ELEMENTS: readonly LoraVectorElement[] = Object.freeze([
  Object.freeze({ subtag: 1, label: "float64", cypher: "FLOAT64", array: Float64Array }),
  Object.freeze({ subtag: 2, label: "float32", cypher: "FLOAT32", array: Float32Array }),
  Object.freeze({ subtag: 3, label: "int64", cypher: "INTEGER", array: BigInt64Array }),
  Object.freeze({ subtag: 4, label: "int32", cypher: "INT32", array: Int32Array }),
  Object.freeze({ subtag: 5, label: "int16", cypher: "INT16", array: Int16Array }),
  Object.freeze({ subtag: 6, label: "int8", cypher: "INT8", array: Int8Array }),
]);

/** The element type of a vector's typed array (an instance of its class or a subclass), or `undefined`. */
export function loraVectorElementOf(values: VectorValues): LoraVectorElement | undefined {
  for (const e of LORA_VECTOR_ELEMENTS) if ((values as unknown) instanceof e.array) return e;
  return undefined;
}
