/**
 * LW1 decoder. Total on arbitrary input: every failure is a `WAL_DECODE` {@link WalError} (anything unexpected is
 * wrapped), and the decoded value's heap is bounded by its input:
 *
 * - every count is checked before anything is allocated: its elements need at least a known number of bytes each
 *   (a list value or a batch event 1, a map entry 9, a string or a binary segment 8), and they must fit the bytes
 *   that remain;
 * - everything the decoder builds is first charged to a decode budget of
 *   {@link DECODE_HEAP_BYTES_PER_INPUT_BYTE} bytes per payload byte (and 16 more per property-type `List` term, 2
 *   bytes on the wire for a 48-byte object), at an upper bound of its V8 size, and the
 *   payload is refused the moment the charges would pass it;
 * - list/map nesting is bounded (512 levels), so hostile input cannot overflow the stack and the recursion holds
 *   at most 512 frames;
 * - decoding time is linear in the payload: each byte is read once, strings are decoded in one piece, arrays are
 *   allocated at their final size.
 *
 * The cheapest encodings are what a hostile payload repeats, so they are made cheap rather than refused: a `Clear`
 * event (1 byte) is one shared frozen object, an empty map (9 bytes) a 56-byte fast object, binary segments are
 * views into shared 8 KiB slabs (as `bytesCodec` events), and a map with array-index keys keeps its elements in a
 * dictionary (see `decoded-map.ts`). Realistic payloads stay far below the budget (1 to 5 bytes of heap per byte
 * in `scripts/decode-heap.mjs`).
 */

import { ByteReader, countTooLarge } from "../byte-reader.js";
import { BYTES_SLAB_MAX_EVENT, bytesDecodeEventAt } from "../bytes-codec.js";
import { isWalError, WalError } from "../errors.js";
import {
  arrayBytes,
  BIGINT_BYTES,
  DECODE_HEAP_BYTES_PER_INPUT_BYTE,
  DecodeBudget,
  NUMBER_BYTES,
  objectBytes,
  stringBytes,
  TYPED_ARRAY_BYTES,
  TYPED_VIEW_BYTES,
} from "./decode-budget.js";
import { emptyMap, MapBuilder } from "./decoded-map.js";
import { readF64 } from "./f64-slot.js";
import { LoraBinary, LoraVector, type PropertyMap, type PropertyValue, type VectorValues } from "./lora-values.js";
import {
  LITTLE_ENDIAN_HOST,
  LW1_MAGIC,
  MAX_NESTING_DEPTH,
  TAG_ADD_NODE_LABEL,
  TAG_CLEAR,
  TAG_CREATE_CONSTRAINT,
  TAG_CREATE_INDEX,
  TAG_CREATE_NODE,
  TAG_CREATE_RELATIONSHIP,
  TAG_DELETE_NODE,
  TAG_DELETE_RELATIONSHIP,
  TAG_DETACH_DELETE_NODE,
  TAG_DROP_CONSTRAINT,
  TAG_DROP_INDEX,
  TAG_REMOVE_NODE_LABEL,
  TAG_REMOVE_NODE_PROPERTY,
  TAG_REMOVE_RELATIONSHIP_PROPERTY,
  TAG_SET_NODE_PROPERTY,
  TAG_SET_RELATIONSHIP_PROPERTY,
  VALUE_BOOL,
  VALUE_FLOAT,
  VALUE_INT,
  VALUE_LIST,
  VALUE_MAP,
  VALUE_NULL,
  VALUE_STRING,
} from "./lw1-format.js";
import type { MutationEvent } from "./mutation-event.js";
import {
  type ConstraintRequest,
  decodeConstraintRequestWithin,
  decodeIndexRequestWithin,
  type IndexRequest,
} from "./store-ddl.js";
import {
  LORA_VALUE_TYPES_BY_TAG,
  LORA_VECTOR_ELEMENTS,
  type LoraValueType,
  type LoraVectorElement,
} from "./value-types.js";

const TWO_POW_32 = 0x1_0000_0000;
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function bad(message: string): never {
  throw new WalError("WAL_DECODE", message);
}

/** Cursor plus a DataView over the same bytes (for NaN bits) and the heap budget. One per payload. */
interface Cursor {
  readonly r: ByteReader;
  readonly view: DataView;
  readonly budget: DecodeBudget;
}

/** Fewest payload bytes a map entry takes: a key length (u64) and a value tag (`null`, the empty key). */
const MIN_MAP_ENTRY_BYTES = 9;
/** Fewest payload bytes a string or a binary segment takes: its u64 length. */
const MIN_BLOB_BYTES = 8;

/**
 * The one `Clear` event every decode returns: it has no fields to differ in, and a fresh object per 1-byte event
 * cost 40 bytes of heap per payload byte. Frozen, like every decoded event should be treated.
 */
const CLEAR: MutationEvent = Object.freeze({ type: "Clear" });

/**
 * A u64 count of elements that take at least `minBytes` payload bytes each, refused (`WAL_DECODE`, before
 * anything is allocated) unless that many fit the bytes that remain.
 */
function readCount(r: ByteReader, label: string, minBytes: number): number {
  const n = r.count(label);
  if (n * minBytes > r.remaining) throw countTooLarge(label, 0, n);
  return n;
}

/** A u64 byte length that must fit what remains (Rust reports an overlong length as a truncated payload). */
function readByteLength(r: ByteReader): number {
  const lo = r.u32();
  const hi = r.u32();
  if (hi !== 0 || lo > r.remaining) bad("truncated WAL mutation payload");
  return lo;
}

/**
 * A fresh copy of `bytes` in its own exact-size ArrayBuffer. Not `bytes.slice()`: on a Node `Buffer` that returns a
 * view into the (pooled) input instead of a copy.
 */
function copyBytes(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy;
}

function readBlob(r: ByteReader): Uint8Array {
  return r.rawView(readByteLength(r));
}

/** A UTF-8 string, charged first. */
function readString(c: Cursor): string {
  const raw = c.r.rawView(readByteLength(c.r));
  c.budget.charge(stringBytes(raw.length));
  return utf8String(raw);
}

/**
 * The string `raw` spells; ASCII strings of up to 12 characters (most keys and labels) skip TextDecoder. Not
 * longer ones: from 13 characters on, V8 concatenation builds a cons string per step, and the decoded value kept
 * the whole chain (a 32-character string held 672 bytes). Invalid UTF-8 is rejected.
 */
function utf8String(raw: Uint8Array): string {
  const n = raw.length;
  if (n <= 12) {
    let s = "";
    let i = 0;
    for (; i < n; i++) {
      const c = raw[i] as number;
      if (c >= 0x80) break;
      s += String.fromCharCode(c);
    }
    if (i === n) return s;
  }
  try {
    return utf8.decode(raw);
  } catch (cause) {
    throw new WalError("WAL_DECODE", `invalid UTF-8 in WAL payload: ${String(cause)}`, { cause });
  }
}

function readStringVec(c: Cursor): string[] {
  const n = readCount(c.r, "string", MIN_BLOB_BYTES);
  c.budget.charge(arrayBytes(n));
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = readString(c);
  return out;
}

/**
 * Properties and map values: a `null`-prototype object; the last duplicate key wins. Each entry, its key and the
 * representation the map needs are charged before the entry is stored (see `decoded-map.ts`).
 */
function readMap(c: Cursor, label: string, depth: number): PropertyMap {
  const r = c.r;
  const n = readCount(r, label, MIN_MAP_ENTRY_BYTES);
  if (n === 0) return emptyMap<PropertyMap>(c.budget);
  const builder = new MapBuilder<PropertyMap>();
  for (let i = 0; i < n; i++) {
    const raw = r.rawView(readByteLength(r));
    const map = builder.prepare(raw, c.budget);
    map[utf8String(raw)] = readValue(c, depth);
  }
  return builder.map as PropertyMap;
}

/** Vector element types by subtag. */
const VECTOR_ELEMENTS: readonly (LoraVectorElement | undefined)[] = (() => {
  const out: (LoraVectorElement | undefined)[] = [];
  for (const e of LORA_VECTOR_ELEMENTS) out[e.subtag] = e;
  return Array.from(out);
})();

/** A vector: its typed array gets an ArrayBuffer of its own (so `values.buffer` is exactly its elements). */
function readVector(c: Cursor): LoraVector {
  const r = c.r;
  const dimLo = r.u32();
  const dimHi = r.u32();
  const subtag = r.u8();
  const element = subtag < VECTOR_ELEMENTS.length ? VECTOR_ELEMENTS[subtag] : undefined;
  if (element === undefined) bad(`unknown vector value tag ${subtag}`);
  const size = element.array.BYTES_PER_ELEMENT;
  const n = r.count(`${element.label} vector value`);
  // rawView bounds-checks n * size against the input before anything is allocated.
  const raw = r.rawView(n * size);
  c.budget.charge(objectBytes(2) + TYPED_ARRAY_BYTES + raw.byteLength);
  const copy = copyBytes(raw);
  if (!LITTLE_ENDIAN_HOST && size > 1) {
    // Big-endian host: each element's bytes reversed into native order.
    for (let at = 0; at < raw.length; at += size) {
      for (let j = 0; j < size; j++) copy[at + j] = raw[at + size - 1 - j] as number;
    }
  }
  const values: VectorValues = new element.array(copy.buffer as ArrayBuffer);
  if (dimHi !== 0 || dimLo !== n) {
    const declared = (BigInt(dimHi) << 32n) | BigInt(dimLo);
    bad(`vector dimension mismatch: declared ${declared}, got ${n}`);
  }
  return new LoraVector(values, dimHi * TWO_POW_32 + dimLo);
}

/**
 * A binary. Segments are copied like `bytesCodec` events: up to 1 KiB into a shared 8 KiB slab (a view each, 8-byte
 * aligned), longer ones into a buffer of their own. A buffer per segment cost 184 bytes of heap for each 8-byte
 * empty segment.
 */
function readBinary(c: Cursor): LoraBinary {
  const r = c.r;
  const n = readCount(r, "binary segment", MIN_BLOB_BYTES);
  c.budget.charge(objectBytes(1) + arrayBytes(n));
  const segments = new Array<Uint8Array>(n);
  for (let i = 0; i < n; i++) {
    const raw = readBlob(r);
    const length = raw.byteLength;
    c.budget.charge(length > BYTES_SLAB_MAX_EVENT ? TYPED_ARRAY_BYTES + length : TYPED_VIEW_BYTES + length + 7);
    segments[i] = bytesDecodeEventAt(raw, 0, length);
  }
  return new LoraBinary(segments);
}

/**
 * What a `temporal` or `struct` value holds before its f64 fields (which charge themselves), by tag: the object and
 * a boxed number for each i32/u32 field (a u32 above 2^31 - 1 is one), a bigint for each i64 field.
 */
const FIELDS_HEAP_BYTES: readonly number[] = LORA_VALUE_TYPES_BY_TAG.map((type) => {
  if (type === undefined) return 0;
  let bytes = objectBytes(type.fields.length);
  for (const f of type.fields) {
    if (f.kind === "i64") bytes += BIGINT_BYTES;
    else if (f.kind === "i32" || f.kind === "u32") bytes += NUMBER_BYTES;
  }
  return bytes;
});

/** Field kinds as small integers, so the per-field dispatch is a jump table rather than string compares. */
const KIND_CODE = { i32: 0, u32: 1, i64: 2, f64: 3, "f64?": 4 } as const;

/** Each tag's field kinds as {@link KIND_CODE}s (empty for tags that are not `temporal` or `struct`). */
const FIELD_CODES: readonly Uint8Array[] = LORA_VALUE_TYPES_BY_TAG.map((type) =>
  Uint8Array.from(type?.fields ?? [], (f) => KIND_CODE[f.kind]),
);

/** Field `i` of a `temporal` or `struct` value of `type`. */
function readField(c: Cursor, type: LoraValueType, codes: Uint8Array, i: number): unknown {
  const r = c.r;
  switch (codes[i]) {
    case 0:
      return r.i32();
    case 1:
      return r.u32();
    case 2:
      return r.i64();
    case 3:
      return readF64(r, c.view, c.budget);
    default: {
      const flag = r.u8();
      if (flag === 1) return readF64(r, c.view, c.budget);
      if (flag !== 0)
        bad(`invalid ${type.cypher} ${(type.fields[i] as LoraValueType["fields"][number]).name}-presence tag ${flag}`);
      return undefined;
    }
  }
}

/**
 * A `temporal` or `struct` value: its fields in wire order, which are its constructor's arguments (evaluated left to
 * right). By arity rather than through an array and a spread or `Reflect.construct`, which took up to twice as long
 * to decode a payload of temporal values.
 */
function readFields(c: Cursor, type: LoraValueType): PropertyValue {
  c.budget.charge(FIELDS_HEAP_BYTES[type.tag] as number);
  const C = type.type as unknown as new (...args: unknown[]) => PropertyValue;
  const k = FIELD_CODES[type.tag] as Uint8Array;
  const f = (i: number): unknown => readField(c, type, k, i);
  switch (k.length) {
    case 3:
      return new C(f(0), f(1), f(2));
    case 4:
      return new C(f(0), f(1), f(2), f(3));
    case 5:
      return new C(f(0), f(1), f(2), f(3), f(4));
    case 7:
      return new C(f(0), f(1), f(2), f(3), f(4), f(5), f(6));
    case 8:
      return new C(f(0), f(1), f(2), f(3), f(4), f(5), f(6), f(7));
    default: {
      const args: unknown[] = [];
      for (let i = 0; i < k.length; i++) args.push(f(i));
      return Reflect.construct(C, args) as PropertyValue;
    }
  }
}

/**
 * One PropertyValue, charged before it is built. Lists and maps at `depth` hold values at `depth + 1`; depth 512
 * is refused.
 */
function readValue(c: Cursor, depth: number): PropertyValue {
  const r = c.r;
  const tag = r.u8();
  switch (tag) {
    case VALUE_NULL:
      return null;
    case VALUE_BOOL:
      return r.u8() !== 0;
    case VALUE_INT:
      c.budget.charge(BIGINT_BYTES);
      return r.i64();
    case VALUE_FLOAT:
      return readF64(r, c.view, c.budget);
    case VALUE_STRING:
      return readString(c);
    case VALUE_LIST: {
      if (depth >= MAX_NESTING_DEPTH) bad(`WAL property value nesting exceeds ${MAX_NESTING_DEPTH} levels`);
      const n = readCount(r, "property list value", 1);
      c.budget.charge(arrayBytes(n));
      const list = new Array<PropertyValue>(n);
      for (let i = 0; i < n; i++) list[i] = readValue(c, depth + 1);
      return list;
    }
    case VALUE_MAP:
      if (depth >= MAX_NESTING_DEPTH) bad(`WAL property value nesting exceeds ${MAX_NESTING_DEPTH} levels`);
      return readMap(c, "property map entry", depth + 1);
    default: {
      const type = tag < LORA_VALUE_TYPES_BY_TAG.length ? LORA_VALUE_TYPES_BY_TAG[tag] : undefined;
      if (type === undefined) return bad(`unknown WAL property value tag ${tag}`);
      switch (type.shape) {
        case "vector":
          return readVector(c);
        case "binary":
          return readBinary(c);
        default:
          return readFields(c, type);
      }
    }
  }
}

/** An event object of `fields` fields (`type` included) holding `ids` u64 ids, charged before it is built. */
function chargeEvent(c: Cursor, fields: number, ids: number): void {
  c.budget.charge(objectBytes(fields) + ids * BIGINT_BYTES);
}

function readEvent(c: Cursor): MutationEvent {
  const r = c.r;
  const tag = r.u8();
  switch (tag) {
    case TAG_CREATE_NODE: {
      chargeEvent(c, 4, 1);
      const id = r.u64Big();
      const labels = readStringVec(c);
      return { type: "CreateNode", id, labels, properties: readMap(c, "property", 0) };
    }
    case TAG_CREATE_RELATIONSHIP: {
      chargeEvent(c, 6, 3);
      const id = r.u64Big();
      const src = r.u64Big();
      const dst = r.u64Big();
      const relType = readString(c);
      return { type: "CreateRelationship", id, src, dst, relType, properties: readMap(c, "property", 0) };
    }
    case TAG_SET_NODE_PROPERTY: {
      chargeEvent(c, 4, 1);
      const nodeId = r.u64Big();
      const key = readString(c);
      return { type: "SetNodeProperty", nodeId, key, value: readValue(c, 0) };
    }
    case TAG_REMOVE_NODE_PROPERTY: {
      chargeEvent(c, 3, 1);
      const nodeId = r.u64Big();
      return { type: "RemoveNodeProperty", nodeId, key: readString(c) };
    }
    case TAG_ADD_NODE_LABEL: {
      chargeEvent(c, 3, 1);
      const nodeId = r.u64Big();
      return { type: "AddNodeLabel", nodeId, label: readString(c) };
    }
    case TAG_REMOVE_NODE_LABEL: {
      chargeEvent(c, 3, 1);
      const nodeId = r.u64Big();
      return { type: "RemoveNodeLabel", nodeId, label: readString(c) };
    }
    case TAG_SET_RELATIONSHIP_PROPERTY: {
      chargeEvent(c, 4, 1);
      const relId = r.u64Big();
      const key = readString(c);
      return { type: "SetRelationshipProperty", relId, key, value: readValue(c, 0) };
    }
    case TAG_REMOVE_RELATIONSHIP_PROPERTY: {
      chargeEvent(c, 3, 1);
      const relId = r.u64Big();
      return { type: "RemoveRelationshipProperty", relId, key: readString(c) };
    }
    case TAG_DELETE_RELATIONSHIP:
      chargeEvent(c, 2, 1);
      return { type: "DeleteRelationship", relId: r.u64Big() };
    case TAG_DELETE_NODE:
      chargeEvent(c, 2, 1);
      return { type: "DeleteNode", nodeId: r.u64Big() };
    case TAG_DETACH_DELETE_NODE:
      chargeEvent(c, 2, 1);
      return { type: "DetachDeleteNode", nodeId: r.u64Big() };
    case TAG_CLEAR:
      return CLEAR;
    case TAG_CREATE_INDEX: {
      chargeEvent(c, 3, 0);
      const bytes = readBlob(r);
      let request: IndexRequest;
      try {
        request = decodeIndexRequestWithin(bytes, c.budget);
      } catch (e) {
        throw new WalError("WAL_DECODE", `CreateIndex decode failed: ${(e as Error).message}`, { cause: e });
      }
      return { type: "CreateIndex", request, ifNotExists: r.u8() !== 0 };
    }
    case TAG_DROP_INDEX: {
      chargeEvent(c, 3, 0);
      const name = readString(c);
      return { type: "DropIndex", name, ifExists: r.u8() !== 0 };
    }
    case TAG_CREATE_CONSTRAINT: {
      chargeEvent(c, 3, 0);
      const bytes = readBlob(r);
      let request: ConstraintRequest;
      try {
        request = decodeConstraintRequestWithin(bytes, c.budget);
      } catch (e) {
        throw new WalError("WAL_DECODE", `CreateConstraint decode failed: ${(e as Error).message}`, { cause: e });
      }
      return { type: "CreateConstraint", request, ifNotExists: r.u8() !== 0 };
    }
    case TAG_DROP_CONSTRAINT: {
      chargeEvent(c, 3, 0);
      const name = readString(c);
      return { type: "DropConstraint", name, ifExists: r.u8() !== 0 };
    }
    default:
      return bad(`unknown WAL mutation tag ${tag}`);
  }
}

function open(payload: Uint8Array, budget: DecodeBudget | undefined): Cursor {
  if (!(payload instanceof Uint8Array)) bad("payload must be a Uint8Array");
  if (
    payload.length < 4 ||
    payload[0] !== LW1_MAGIC[0] ||
    payload[1] !== LW1_MAGIC[1] ||
    payload[2] !== LW1_MAGIC[2] ||
    payload[3] !== LW1_MAGIC[3]
  ) {
    bad("WAL mutation payload has bad magic");
  }
  return {
    r: new ByteReader(payload, 4),
    view: new DataView(payload.buffer, payload.byteOffset, payload.byteLength),
    budget: budget ?? new DecodeBudget(payload.byteLength),
  };
}

function finish(r: ByteReader): void {
  if (r.remaining !== 0) bad(`trailing bytes in WAL mutation payload: ${r.remaining}`);
}

function wrap(e: unknown): WalError {
  if (isWalError(e, "WAL_DECODE")) return e;
  return new WalError("WAL_DECODE", `cannot decode WAL mutation payload: ${String(e)}`, { cause: e });
}

/**
 * Decode a single-event payload (magic + event), consuming every byte.
 *
 * Heap bound, on any input: the decoded event holds at most {@link DECODE_HEAP_BYTES_PER_INPUT_BYTE} (16) bytes of
 * JS heap per payload byte (plus 16 for each property-type `List` term: see `DecodeBudget.allowListTerm`), as charged by the decoder at V8's object sizes before each allocation; a payload that
 * would need more is refused. Decoding time is linear in the payload length.
 *
 * Decoded events are the caller's, but a `Clear` event is one shared frozen object, and binary segments may share
 * their `buffer` (address them through `byteOffset`/`byteLength`, as for `bytesCodec` events).
 *
 * @throws {@link "@lora/wal-codec"!WalError | WalError} `WAL_DECODE`, and nothing else: also for a payload that would pass the heap bound.
 */
export function decodeLw1Event(payload: Uint8Array): MutationEvent {
  return decodeLw1EventWithin(payload, undefined);
}

/**
 * {@link decodeLw1Event} charging `budget` (a fresh one of the payload's size when `undefined`). Internal: tests
 * read `budget.charged` to check the bound.
 */
export function decodeLw1EventWithin(payload: Uint8Array, budget: DecodeBudget | undefined): MutationEvent {
  try {
    const c = open(payload, budget);
    const event = readEvent(c);
    finish(c.r);
    return event;
  } catch (e) {
    throw wrap(e);
  }
}

/**
 * Decode a batch payload (magic + u64 count + events), consuming every byte. Same heap bound as
 * {@link decodeLw1Event}: the array and its events hold at most 16 bytes of JS heap per payload byte (a batch of
 * `Clear` events, the cheapest, holds 8: one slot each).
 * @throws {@link "@lora/wal-codec"!WalError | WalError} `WAL_DECODE`, and nothing else: also for a payload that would pass the heap bound.
 */
export function decodeLw1Batch(payload: Uint8Array): MutationEvent[] {
  return decodeLw1BatchWithin(payload, undefined);
}

/** {@link decodeLw1Batch} charging `budget` (a fresh one of the payload's size when `undefined`). Internal. */
export function decodeLw1BatchWithin(payload: Uint8Array, budget: DecodeBudget | undefined): MutationEvent[] {
  try {
    const c = open(payload, budget);
    const n = readCount(c.r, "WAL event", 1);
    c.budget.charge(arrayBytes(n));
    const events = new Array<MutationEvent>(n);
    for (let i = 0; i < n; i++) events[i] = readEvent(c);
    finish(c.r);
    return events;
  } catch (e) {
    throw wrap(e);
  }
}
