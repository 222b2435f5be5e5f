/**
 * LoraDB's store codec (`lora_store::codec`) for the two DDL requests carried by CreateIndex and CreateConstraint
 * events (docs/format.md, 'The LW1 payload'). Same primitives as LW1; errors read like the Rust `StoreCodecError`
 * ("store value decode failed: …") and the LW1 decoder prefixes them with the event name. Decoding charges the LW1
 * decoder's heap budget (`decode-budget.ts`): counts are checked against the bytes left before anything is
 * allocated, and a request never holds more than 16 bytes of JS heap per input byte.
 */

import { ByteReader, countTooLarge } from "../byte-reader.js";
import type { ByteWriter } from "../byte-writer.js";
import { isWalError, WalError } from "../errors.js";
import { arrayBytes, BIGINT_BYTES, DecodeBudget, NUMBER_BYTES, objectBytes, stringBytes } from "./decode-budget.js";
import { emptyMap, MapBuilder } from "./decoded-map.js";
import { describe, readF64, writeF64 } from "./f64-slot.js";
import type { LoraFloat } from "./lora-values.js";
import { MAX_NESTING_DEPTH } from "./lw1-format.js";
import { sortedKeys } from "./utf8-order.js";

/** Index kinds. Wire u8: Range 1, Text 2, Point 3, Lookup 4, Vector 5, Fulltext 6. */
export type IndexKind = "Range" | "Text" | "Point" | "Lookup" | "Vector" | "Fulltext";
/** What an index or constraint applies to. Wire u8: Node 1, Relationship 2. */
export type IndexEntity = "Node" | "Relationship";

/**
 * An index option value. Wire tag: Number 1 (f64; `number` or {@link LoraFloat}), Integer 2 (i64 `bigint`),
 * String 3, Bool 4, List 5, Map 6, Null 7.
 */
export type IndexConfigValue =
  | number
  | LoraFloat
  | bigint
  | string
  | boolean
  | IndexConfigValue[]
  | IndexConfigMap
  | null;
/** Index options: keys sorted by UTF-8 bytes on the wire; decoded with a `null` prototype. */
export interface IndexConfigMap {
  [key: string]: IndexConfigValue;
}

/** `CREATE INDEX` as LoraDB logs it (Rust `IndexRequest`). */
export interface IndexRequest {
  /** The name given in the statement, or `null` when LoraDB generates one. */
  readonly explicitName: string | null;
  readonly kind: IndexKind;
  readonly entity: IndexEntity;
  /** Label or relationship type; `null` for a lookup index. */
  readonly label: string | null;
  /** Further labels (fulltext indexes over `(n:A|B)`). */
  readonly additionalLabels: readonly string[];
  readonly properties: readonly string[];
  readonly options: IndexConfigMap;
}

/** Scalar property types. Wire u8 1..13 in this order. */
export type ScalarType =
  | "Boolean"
  | "String"
  | "Integer"
  | "Float"
  | "Date"
  | "LocalTime"
  | "ZonedTime"
  | "LocalDateTime"
  | "ZonedDateTime"
  | "Duration"
  | "Point"
  | "Map"
  | "Any";
/** Vector coordinate types in a type constraint. Wire u8: Int8 1 … Int64 4, Float32 5, Float64 6 (not the value subtags). */
export type VectorCoordType = "Int8" | "Int16" | "Int32" | "Int64" | "Float32" | "Float64";

/** One alternative of an `IS :: T` constraint. Wire tag: Scalar 1, List 2 (+ not_null u8 + inner), Vector 3 (+ coord u8 + dimension u32). */
export type PropertyTypeTerm =
  | { readonly type: "Scalar"; readonly scalar: ScalarType }
  | { readonly type: "List"; readonly inner: PropertyTypeTerm; readonly notNull: boolean }
  | { readonly type: "Vector"; readonly coord: VectorCoordType; readonly dimension: number };

/** Constraint kinds without a payload. Wire u8: Unique 1, Existence 2, NodeKey 3, RelationshipKey 4. */
export type SimpleConstraintKind = "Unique" | "Existence" | "NodeKey" | "RelationshipKey";

interface ConstraintRequestBase {
  readonly name: string;
  readonly entity: IndexEntity;
  readonly label: string;
  readonly properties: readonly string[];
}

/** `CREATE CONSTRAINT` as LoraDB logs it (Rust `ConstraintRequest`); a PropertyType constraint (kind 5) carries its alternatives. */
export type ConstraintRequest =
  | (ConstraintRequestBase & { readonly kind: SimpleConstraintKind })
  | (ConstraintRequestBase & { readonly kind: "PropertyType"; readonly alternatives: readonly PropertyTypeTerm[] });

const INDEX_KINDS: readonly IndexKind[] = ["Range", "Text", "Point", "Lookup", "Vector", "Fulltext"];
const ENTITIES: readonly IndexEntity[] = ["Node", "Relationship"];
const CONSTRAINT_KINDS: readonly (SimpleConstraintKind | "PropertyType")[] = [
  "Unique",
  "Existence",
  "NodeKey",
  "RelationshipKey",
  "PropertyType",
];
const SCALARS: readonly ScalarType[] = [
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
];
const VECTOR_COORDS: readonly VectorCoordType[] = ["Int8", "Int16", "Int32", "Int64", "Float32", "Float64"];

/**
 * The decoded `Scalar` terms, one shared frozen object per scalar type: a term is 2 bytes on the wire, and a fresh
 * object for each cost 24 bytes of heap per input byte.
 */
const SCALAR_TERMS: readonly PropertyTypeTerm[] = SCALARS.map((scalar) => Object.freeze({ type: "Scalar", scalar }));

const CONFIG_NUMBER = 1;
const CONFIG_INTEGER = 2;
const CONFIG_STRING = 3;
const CONFIG_BOOL = 4;
const CONFIG_LIST = 5;
const CONFIG_MAP = 6;
const CONFIG_NULL = 7;

const TERM_SCALAR = 1;
const TERM_LIST = 2;
const TERM_VECTOR = 3;

// ---------- encode ----------

function fail(message: string): never {
  throw new WalError("WAL_ENCODE", message);
}

/** Wire number (1-based) of `value` in `names`, or a WAL_ENCODE error. */
function enumTag<T>(names: readonly T[], value: unknown, what: string): number {
  const i = names.indexOf(value as T);
  if (i < 0) fail(`invalid ${what} ${describe(value)}; expected one of ${names.join(", ")}`);
  return i + 1;
}

function writeStringVec(out: ByteWriter, values: unknown, what: string): void {
  if (!Array.isArray(values)) fail(`${what} must be an array of strings`);
  // By index, up to the count written: an iterator of its own could yield another number of strings, and the
  // request would then not decode (the log would not open).
  const count = values.length;
  out.u64(count);
  for (let i = 0; i < count; i++) {
    const v: unknown = values[i];
    if (typeof v !== "string") fail(`${what} must hold strings, got ${describe(v)}`);
    out.string(v);
  }
}

function writeOptString(out: ByteWriter, value: unknown, what: string): void {
  if (value === null || value === undefined) {
    out.u8(0);
  } else if (typeof value === "string") {
    out.u8(1);
    out.string(value);
  } else {
    fail(`${what} must be a string or null, got ${describe(value)}`);
  }
}

function writeConfigMap(out: ByteWriter, map: unknown, depth: number): void {
  if (typeof map !== "object" || map === null || Array.isArray(map)) fail("index options must be a plain object");
  const proto = Object.getPrototypeOf(map) as unknown;
  if (proto !== Object.prototype && proto !== null)
    fail(`index options map must be a plain object, got ${describe(map)}`);
  const keys = sortedKeys(map);
  out.u64(keys.length);
  for (const key of keys) {
    out.string(key);
    writeConfigValue(out, (map as Record<string, unknown>)[key], depth);
  }
}

function writeConfigValue(out: ByteWriter, value: unknown, depth: number): void {
  if (depth > MAX_NESTING_DEPTH) fail(`index option nesting exceeds ${MAX_NESTING_DEPTH} (cyclic value?)`);
  switch (typeof value) {
    case "number":
      out.u8(CONFIG_NUMBER);
      out.f64(value);
      return;
    case "bigint":
      out.u8(CONFIG_INTEGER);
      out.i64(value);
      return;
    case "string":
      out.u8(CONFIG_STRING);
      out.string(value);
      return;
    case "boolean":
      out.u8(CONFIG_BOOL);
      out.u8(value ? 1 : 0);
      return;
    case "object":
      if (value === null) {
        out.u8(CONFIG_NULL);
      } else if (Array.isArray(value)) {
        out.u8(CONFIG_LIST);
        // By index, up to the count written (as in `writeStringVec`).
        const count = value.length;
        out.u64(count);
        for (let i = 0; i < count; i++) writeConfigValue(out, value[i], depth + 1);
      } else if (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null) {
        out.u8(CONFIG_MAP);
        writeConfigMap(out, value, depth + 1);
      } else {
        out.u8(CONFIG_NUMBER);
        writeF64(out, value, "index option number");
      }
      return;
    default:
      fail(`unsupported index option value: ${describe(value)}`);
  }
}

/** Append the store-codec bytes of `request` (without a length prefix). @throws {@link "@lora/wal-codec"!WalError | WalError} `WAL_ENCODE` */
export function writeIndexRequest(out: ByteWriter, request: IndexRequest): void {
  if (typeof request !== "object" || request === null) fail("index request must be an object");
  writeOptString(out, request.explicitName, "index explicitName");
  out.u8(enumTag(INDEX_KINDS, request.kind, "index kind"));
  out.u8(enumTag(ENTITIES, request.entity, "index entity"));
  writeOptString(out, request.label, "index label");
  writeStringVec(out, request.additionalLabels, "index additionalLabels");
  writeStringVec(out, request.properties, "index properties");
  writeConfigMap(out, request.options, 0);
}

function writeTerm(out: ByteWriter, term: PropertyTypeTerm, depth: number): void {
  if (depth > MAX_NESTING_DEPTH) fail(`property type nesting exceeds ${MAX_NESTING_DEPTH}`);
  if (typeof term !== "object" || term === null) fail(`property type term must be an object, got ${describe(term)}`);
  switch (term.type) {
    case "Scalar":
      out.u8(TERM_SCALAR);
      out.u8(enumTag(SCALARS, term.scalar, "scalar type"));
      return;
    case "List":
      out.u8(TERM_LIST);
      out.u8(term.notNull ? 1 : 0);
      writeTerm(out, term.inner, depth + 1);
      return;
    case "Vector": {
      out.u8(TERM_VECTOR);
      out.u8(enumTag(VECTOR_COORDS, term.coord, "vector coordinate type"));
      const d = term.dimension;
      if (!Number.isInteger(d) || d < 0 || d > 0xffff_ffff) fail(`vector type dimension ${String(d)} is not a u32`);
      out.u32(d);
      return;
    }
    default:
      fail(`unknown property type term ${describe((term as { type?: unknown }).type)}`);
  }
}

/** Append the store-codec bytes of `request` (without a length prefix). @throws {@link "@lora/wal-codec"!WalError | WalError} `WAL_ENCODE` */
export function writeConstraintRequest(out: ByteWriter, request: ConstraintRequest): void {
  if (typeof request !== "object" || request === null) fail("constraint request must be an object");
  if (typeof request.name !== "string") fail("constraint name must be a string");
  out.string(request.name);
  const kind = enumTag(CONSTRAINT_KINDS, request.kind, "constraint kind");
  out.u8(kind);
  if (request.kind === "PropertyType") {
    const alternatives = request.alternatives;
    if (!Array.isArray(alternatives)) fail("PropertyType constraint needs an alternatives array");
    // By index, up to the count written (as in `writeStringVec`).
    const count = alternatives.length;
    out.u64(count);
    for (let i = 0; i < count; i++) writeTerm(out, alternatives[i] as PropertyTypeTerm, 0);
  }
  out.u8(enumTag(ENTITIES, request.entity, "constraint entity"));
  if (typeof request.label !== "string") fail("constraint label must be a string");
  out.string(request.label);
  writeStringVec(out, request.properties, "constraint properties");
}

// ---------- decode ----------

function bad(message: string): never {
  throw new WalError("WAL_DECODE", message);
}

/** Reader, DataView over the same bytes (for NaN bits) and the heap budget of one decode. */
interface Source {
  readonly r: ByteReader;
  readonly view: DataView;
  readonly budget: DecodeBudget;
}

/** A u64 count of elements of at least `minBytes` bytes each, refused unless they fit the remaining bytes. */
function readCount(r: ByteReader, label: string, minBytes: number): number {
  const n = r.count(label);
  if (n * minBytes > r.remaining) throw countTooLarge(label, 0, n);
  return n;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** `bytes` as UTF-8, with `ByteReader.string`'s error. */
function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch (cause) {
    throw new WalError("WAL_DECODE", "invalid UTF-8 in WAL payload", { cause });
  }
}

/** A u64-length-prefixed UTF-8 string, charged before it is decoded. */
function readString(s: Source): string {
  const raw = s.r.rawView(s.r.count("string"));
  s.budget.charge(stringBytes(raw.length));
  return decodeUtf8(raw);
}

/** Rust's store reader words some errors differently from the WAL reader; keep its wording. */
function storeMessage(message: string): string {
  return message
    .replace("truncated WAL mutation payload", "truncated input")
    .replace("exceeds remaining WAL payload", "exceeds remaining input")
    .replace("invalid UTF-8 in WAL payload", "invalid UTF-8 string");
}

function readEnum<T>(r: ByteReader, names: readonly T[], what: string): T {
  const tag = r.u8();
  const v = names[tag - 1];
  if (v === undefined) bad(`invalid ${what} tag ${tag}`);
  return v;
}

function readStringVec(s: Source): string[] {
  // Each string takes at least its u64 length.
  const n = readCount(s.r, "string", 8);
  s.budget.charge(arrayBytes(n));
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = readString(s);
  return out;
}

function readOptString(s: Source): string | null {
  const tag = s.r.u8();
  if (tag === 0) return null;
  if (tag === 1) return readString(s);
  return bad(`invalid optional string tag ${tag}`);
}

/** Index options: built like LW1 maps (see `decoded-map.ts`); an entry takes at least a key length and a tag. */
function readConfigMap(s: Source, depth: number): IndexConfigMap {
  const r = s.r;
  const n = readCount(r, "index config map entry", 9);
  if (n === 0) return emptyMap<IndexConfigMap>(s.budget);
  const builder = new MapBuilder<IndexConfigMap>();
  for (let i = 0; i < n; i++) {
    const raw = r.rawView(r.count("string"));
    const map = builder.prepare(raw, s.budget);
    map[decodeUtf8(raw)] = readConfigValue(s, depth);
  }
  return builder.map as IndexConfigMap;
}

function readConfigValue(s: Source, depth: number): IndexConfigValue {
  if (depth > MAX_NESTING_DEPTH) bad(`index config nesting exceeds ${MAX_NESTING_DEPTH}`);
  const r = s.r;
  const tag = r.u8();
  switch (tag) {
    case CONFIG_NUMBER:
      return readF64(r, s.view, s.budget);
    case CONFIG_INTEGER:
      s.budget.charge(BIGINT_BYTES);
      return r.i64();
    case CONFIG_STRING:
      return readString(s);
    case CONFIG_BOOL:
      return r.u8() !== 0;
    case CONFIG_LIST: {
      const n = readCount(r, "index config list value", 1);
      s.budget.charge(arrayBytes(n));
      const list = new Array<IndexConfigValue>(n);
      for (let i = 0; i < n; i++) list[i] = readConfigValue(s, depth + 1);
      return list;
    }
    case CONFIG_MAP:
      return readConfigMap(s, depth + 1);
    case CONFIG_NULL:
      return null;
    default:
      return bad(`invalid index config value tag ${tag}`);
  }
}

function readTerm(s: Source, depth: number): PropertyTypeTerm {
  if (depth > MAX_NESTING_DEPTH) bad(`property type nesting exceeds ${MAX_NESTING_DEPTH}`);
  const r = s.r;
  const tag = r.u8();
  switch (tag) {
    case TERM_SCALAR: {
      const scalar = r.u8();
      return SCALAR_TERMS[scalar - 1] ?? bad(`invalid scalar type tag ${scalar}`);
    }
    case TERM_LIST: {
      // Two bytes on the wire for a 48-byte object: once both are read, the budget allows for it (nesting is
      // bounded).
      const notNull = r.u8() !== 0;
      s.budget.allowListTerm();
      s.budget.charge(objectBytes(3));
      return { type: "List", inner: readTerm(s, depth + 1), notNull };
    }
    case TERM_VECTOR: {
      // The dimension (a u32) may be a boxed number.
      s.budget.charge(objectBytes(3) + NUMBER_BYTES);
      const coord = readEnum(r, VECTOR_COORDS, "vector coord type");
      return { type: "Vector", coord, dimension: r.u32() };
    }
    default:
      return bad(`invalid property-type term tag ${tag}`);
  }
}

/**
 * Decode `bytes` with `read`, which must consume them exactly, charging `budget`; errors become "store value decode
 * failed: …".
 */
function decodeWhole<T>(bytes: Uint8Array, budget: DecodeBudget | undefined, read: (s: Source) => T): T {
  const r = new ByteReader(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    const value = read({ r, view, budget: budget ?? new DecodeBudget(bytes.byteLength) });
    if (r.remaining !== 0) bad(`trailing bytes: ${r.remaining}`);
    return value;
  } catch (e) {
    const message = isWalError(e) ? storeMessage(e.message) : String(e);
    throw new WalError("WAL_DECODE", `store value decode failed: ${message}`, { cause: e });
  }
}

/**
 * Decode a store-codec IndexRequest that must fill `bytes` exactly. Like the LW1 decoder, it holds at most 16 bytes
 * of JS heap per input byte and refuses input that would need more.
 * @throws {@link "@lora/wal-codec"!WalError | WalError} `WAL_DECODE`
 */
export function decodeIndexRequest(bytes: Uint8Array): IndexRequest {
  return decodeIndexRequestWithin(bytes, undefined);
}

/** {@link decodeIndexRequest} charging `budget` (the LW1 decoder passes its payload's). Internal. */
export function decodeIndexRequestWithin(bytes: Uint8Array, budget: DecodeBudget | undefined): IndexRequest {
  return decodeWhole(bytes, budget, (s) => {
    s.budget.charge(objectBytes(7));
    const explicitName = readOptString(s);
    const kind = readEnum(s.r, INDEX_KINDS, "index kind");
    const entity = readEnum(s.r, ENTITIES, "index entity");
    const label = readOptString(s);
    const additionalLabels = readStringVec(s);
    const properties = readStringVec(s);
    const options = readConfigMap(s, 0);
    return { explicitName, kind, entity, label, additionalLabels, properties, options };
  });
}

/**
 * Decode a store-codec ConstraintRequest that must fill `bytes` exactly. Like the LW1 decoder, it holds at most 16
 * bytes of JS heap per input byte and refuses input that would need more.
 * @throws {@link "@lora/wal-codec"!WalError | WalError} `WAL_DECODE`
 */
export function decodeConstraintRequest(bytes: Uint8Array): ConstraintRequest {
  return decodeConstraintRequestWithin(bytes, undefined);
}

/** {@link decodeConstraintRequest} charging `budget` (the LW1 decoder passes its payload's). Internal. */
export function decodeConstraintRequestWithin(bytes: Uint8Array, budget: DecodeBudget | undefined): ConstraintRequest {
  return decodeWhole(bytes, budget, (s) => {
    const r = s.r;
    s.budget.charge(objectBytes(6));
    const name = readString(s);
    const kind = readEnum(r, CONSTRAINT_KINDS, "constraint kind");
    if (kind === "PropertyType") {
      // A term takes at least 2 bytes (a Scalar: tag and type).
      const n = readCount(r, "property type alternative", 2);
      s.budget.charge(arrayBytes(n));
      const alternatives = new Array<PropertyTypeTerm>(n);
      for (let i = 0; i < n; i++) alternatives[i] = readTerm(s, 0);
      const entity = readEnum(r, ENTITIES, "index entity");
      const label = readString(s);
      return { name, kind, alternatives, entity, label, properties: readStringVec(s) };
    }
    const entity = readEnum(r, ENTITIES, "index entity");
    const label = readString(s);
    return { name, kind, entity, label, properties: readStringVec(s) };
  });
}
