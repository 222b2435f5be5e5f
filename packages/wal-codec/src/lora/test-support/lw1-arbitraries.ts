/** fast-check arbitraries for LW1 values and events (test support; not exported from the package). */

import { fc } from "@fast-check/vitest";
import {
  LoraBinary,
  LoraDate,
  LoraDateTime,
  LoraDuration,
  LoraFloat,
  LoraLocalDateTime,
  LoraLocalTime,
  LoraPoint,
  LoraTime,
  LoraVector,
  type PropertyMap,
  type PropertyValue,
  type VectorValues,
} from "../lora-values.js";
import type { MutationEvent } from "../mutation-event.js";
import type {
  ConstraintRequest,
  IndexConfigMap,
  IndexConfigValue,
  IndexRequest,
  PropertyTypeTerm,
} from "../store-ddl.js";

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

export const i64 = fc.oneof(
  fc.bigInt({ min: I64_MIN, max: I64_MAX }),
  fc.constantFrom(I64_MIN, I64_MAX, 0n, -1n, 2n ** 53n + 1n),
);
export const u64 = fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.constantFrom(0n, 2n ** 64n - 1n));
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const i32 = fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff });

/** Well-formed strings over all of Unicode, plus the interesting keys. */
/** True when `s` has no lone surrogate. */
export const isWellFormed = (s: string): boolean => (s as string & { isWellFormed(): boolean }).isWellFormed();

export const text = fc.string({ unit: "binary", maxLength: 12 }).filter(isWellFormed);
export const key = fc.oneof(
  { weight: 3, arbitrary: text },
  fc.constantFrom("__proto__", "constructor", "toString", "\u{1F600}", "\u{10000}", "\uE000", "\uFFFF", "a", ""),
);

/** A non-canonical NaN as a LoraFloat. */
export const nanFloat = fc
  .tuple(fc.boolean(), fc.bigInt({ min: 1n, max: 2n ** 52n - 1n }))
  .map(([neg, mantissa]) => (neg ? 1n << 63n : 0n) | (0x7ffn << 52n) | mantissa)
  .filter((bits) => bits !== 0x7ff8_0000_0000_0000n)
  .map((bits) => new LoraFloat(bits));

/** Any f64 slot value as the decoder would produce it (NaN canonical as number, other NaNs as LoraFloat). */
export const f64 = fc.oneof(
  { weight: 4, arbitrary: fc.double().map((d) => (Number.isNaN(d) ? Number.NaN : d)) },
  { weight: 1, arbitrary: nanFloat },
);

const VECTOR_CTORS = [
  (b: ArrayBuffer): VectorValues => new Float64Array(b),
  (b: ArrayBuffer): VectorValues => new Float32Array(b),
  (b: ArrayBuffer): VectorValues => new BigInt64Array(b),
  (b: ArrayBuffer): VectorValues => new Int32Array(b),
  (b: ArrayBuffer): VectorValues => new Int16Array(b),
  (b: ArrayBuffer): VectorValues => new Int8Array(b),
];
const VECTOR_SIZES = [8, 4, 8, 4, 2, 1];

export const vector = fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 6 })).chain(([kind, n]) => {
  const size = VECTOR_SIZES[kind] as number;
  const make = VECTOR_CTORS[kind] as (b: ArrayBuffer) => VectorValues;
  return fc.uint8Array({ minLength: n * size, maxLength: n * size }).map((bytes) => {
    const values = make(bytes.slice().buffer);
    return new LoraVector(values, values.length);
  });
});

export const binary = fc.array(fc.uint8Array({ maxLength: 6 }), { maxLength: 3 }).map((s) => new LoraBinary(s));

export const temporal = fc.oneof(
  fc.tuple(i32, u32, u32).map(([y, m, d]) => new LoraDate(y, m, d)),
  fc.tuple(u32, u32, u32, u32, i32).map(([h, mi, s, ns, o]) => new LoraTime(h, mi, s, ns, o)),
  fc.tuple(u32, u32, u32, u32).map(([h, mi, s, ns]) => new LoraLocalTime(h, mi, s, ns)),
  fc
    .tuple(i32, u32, u32, u32, u32, u32, u32, i32)
    .map(([y, m, d, h, mi, s, ns, o]) => new LoraDateTime(y, m, d, h, mi, s, ns, o)),
  fc
    .tuple(i32, u32, u32, u32, u32, u32, u32)
    .map(([y, m, d, h, mi, s, ns]) => new LoraLocalDateTime(y, m, d, h, mi, s, ns)),
  fc.tuple(i64, i64, i64, i64).map(([mo, d, s, ns]) => new LoraDuration(mo, d, s, ns)),
);

export const point = fc
  .tuple(f64, f64, fc.option(f64, { nil: undefined }), u32)
  .map(([x, y, z, srid]) => new LoraPoint(x, y, z, srid));

/** A null-prototype map from entries (the decoded shape; the last duplicate wins, as in the decoder). */
export function mapOf<V>(entries: readonly (readonly [string, V])[]): { [k: string]: V } {
  const m = Object.create(null) as { [k: string]: V };
  for (const [k, v] of entries) m[k] = v;
  return m;
}

const scalar: fc.Arbitrary<PropertyValue> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  i64,
  f64,
  text,
  temporal,
  point,
  vector,
  binary,
);

export const { value, map } = fc.letrec<{ value: PropertyValue; map: PropertyMap }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    { weight: 6, arbitrary: scalar },
    fc.array(tie("value"), { maxLength: 4 }),
    tie("map"),
  ),
  map: fc.array(fc.tuple(key, tie("value")), { maxLength: 4 }).map((e) => mapOf(e) as PropertyMap),
}));

const configValue = fc.letrec<{ v: IndexConfigValue; m: IndexConfigMap }>((tie) => ({
  v: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    { weight: 5, arbitrary: fc.oneof(f64, i64, text, fc.boolean(), fc.constant(null)) },
    fc.array(tie("v"), { maxLength: 3 }),
    tie("m"),
  ),
  m: fc.array(fc.tuple(key, tie("v")), { maxLength: 3 }).map((e) => mapOf(e) as IndexConfigMap),
}));

const strings = fc.array(text, { maxLength: 3 });

/** Records with an ordinary prototype, like the decoder's event and request objects. */
const rec: typeof fc.record = ((model: never, constraints?: object) =>
  fc.record(model, { ...constraints, noNullPrototype: true })) as typeof fc.record;

export const indexRequest: fc.Arbitrary<IndexRequest> = rec({
  explicitName: fc.option(text, { nil: null }),
  kind: fc.constantFrom("Range", "Text", "Point", "Lookup", "Vector", "Fulltext"),
  entity: fc.constantFrom("Node", "Relationship"),
  label: fc.option(text, { nil: null }),
  additionalLabels: strings,
  properties: strings,
  options: configValue.m,
});

const term: fc.Arbitrary<PropertyTypeTerm> = fc.letrec<{ t: PropertyTypeTerm }>((tie) => ({
  t: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    rec({
      type: fc.constant("Scalar" as const),
      scalar: fc.constantFrom(
        "Boolean",
        "String",
        "Integer",
        "Float",
        "Date",
        "LocalTime",
        "ZonedTime",
        "LocalDateTime",
        "ZonedDateTime",
        "Duration",
        "Point",
        "Map",
        "Any",
      ),
    }),
    rec({ type: fc.constant("List" as const), inner: tie("t"), notNull: fc.boolean() }),
    rec({
      type: fc.constant("Vector" as const),
      coord: fc.constantFrom("Int8", "Int16", "Int32", "Int64", "Float32", "Float64"),
      dimension: u32,
    }),
  ),
})).t;

const constraintBase = {
  name: text,
  entity: fc.constantFrom("Node", "Relationship"),
  label: text,
  properties: strings,
};
export const constraintRequest: fc.Arbitrary<ConstraintRequest> = fc.oneof(
  rec({ ...constraintBase, kind: fc.constantFrom("Unique", "Existence", "NodeKey", "RelationshipKey") }),
  rec({
    ...constraintBase,
    kind: fc.constant("PropertyType" as const),
    alternatives: fc.array(term, { maxLength: 3 }),
  }),
);

export const event: fc.Arbitrary<MutationEvent> = fc.oneof(
  rec({ type: fc.constant("CreateNode" as const), id: u64, labels: strings, properties: map }),
  rec({
    type: fc.constant("CreateRelationship" as const),
    id: u64,
    src: u64,
    dst: u64,
    relType: text,
    properties: map,
  }),
  rec({ type: fc.constant("SetNodeProperty" as const), nodeId: u64, key, value }),
  rec({ type: fc.constant("RemoveNodeProperty" as const), nodeId: u64, key }),
  rec({ type: fc.constant("AddNodeLabel" as const), nodeId: u64, label: text }),
  rec({ type: fc.constant("RemoveNodeLabel" as const), nodeId: u64, label: text }),
  rec({ type: fc.constant("SetRelationshipProperty" as const), relId: u64, key, value }),
  rec({ type: fc.constant("RemoveRelationshipProperty" as const), relId: u64, key }),
  rec({ type: fc.constant("DeleteRelationship" as const), relId: u64 }),
  rec({ type: fc.constant("DeleteNode" as const), nodeId: u64 }),
  rec({ type: fc.constant("DetachDeleteNode" as const), nodeId: u64 }),
  fc.constant({ type: "Clear" as const }),
  rec({ type: fc.constant("CreateIndex" as const), request: indexRequest, ifNotExists: fc.boolean() }),
  rec({ type: fc.constant("DropIndex" as const), name: text, ifExists: fc.boolean() }),
  rec({ type: fc.constant("CreateConstraint" as const), request: constraintRequest, ifNotExists: fc.boolean() }),
  rec({ type: fc.constant("DropConstraint" as const), name: text, ifExists: fc.boolean() }),
);
