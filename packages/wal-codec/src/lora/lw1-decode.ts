/**
 * LW1 decoder. Total on arbitrary input: every failure is a `WAL_DECODE` {@link WalError} (anything unexpected is
 * wrapped), counts are checked against the remaining bytes before anything is allocated, and list/map nesting is
 * bounded so hostile input cannot overflow the stack.
 */

import { ByteReader } from "../byte-reader.js";
import { isWalError, WalError } from "../errors.js";
import { readF64 } from "./f64-slot.js";
import {
  type F64,
  LoraBinary,
  LoraDate,
  LoraDateTime,
  LoraDuration,
  LoraLocalDateTime,
  LoraLocalTime,
  LoraPoint,
  LoraTime,
  LoraVector,
  type PropertyMap,
  type PropertyValue,
  type VectorValues,
} from "./lora-values.js";
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
  VALUE_BINARY,
  VALUE_BOOL,
  VALUE_DATE,
  VALUE_DATE_TIME,
  VALUE_DURATION,
  VALUE_FLOAT,
  VALUE_INT,
  VALUE_LIST,
  VALUE_LOCAL_DATE_TIME,
  VALUE_LOCAL_TIME,
  VALUE_MAP,
  VALUE_NULL,
  VALUE_POINT,
  VALUE_STRING,
  VALUE_TIME,
  VALUE_VECTOR,
  VECTOR_INTEGER8,
} from "./lw1-format.js";
import type { MutationEvent } from "./mutation-event.js";
import { decodeConstraintRequest, decodeIndexRequest } from "./store-ddl.js";

const TWO_POW_32 = 0x1_0000_0000;
const utf8 = new TextDecoder("utf-8", { fatal: true });

function bad(message: string): never {
  throw new WalError("WAL_DECODE", message);
}

/** Cursor plus a DataView over the same bytes (for NaN bits). One per payload. */
interface Cursor {
  readonly r: ByteReader;
  readonly view: DataView;
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

/** A UTF-8 string; short ASCII strings (most keys and labels) skip TextDecoder. Invalid UTF-8 is rejected. */
function readString(r: ByteReader): string {
  const raw = r.rawView(readByteLength(r));
  const n = raw.length;
  if (n <= 32) {
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

function readStringVec(r: ByteReader): string[] {
  const n = r.count("string");
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = readString(r);
  return out;
}

/** Properties and map values: a `null`-prototype object; the last duplicate key wins. */
function readMap(c: Cursor, label: string, depth: number): PropertyMap {
  const r = c.r;
  const n = r.count(label);
  const map = Object.create(null) as PropertyMap;
  for (let i = 0; i < n; i++) {
    const key = readString(r);
    map[key] = readValue(c, depth);
  }
  return map;
}

const VECTOR_KINDS: readonly (
  | {
      label: string;
      size: number;
      make: (b: ArrayBuffer) => VectorValues;
      get: (v: DataView, at: number) => number | bigint;
    }
  | undefined
)[] = [
  undefined,
  { label: "float64", size: 8, make: (b) => new Float64Array(b), get: (v, at) => v.getFloat64(at, true) },
  { label: "float32", size: 4, make: (b) => new Float32Array(b), get: (v, at) => v.getFloat32(at, true) },
  { label: "int64", size: 8, make: (b) => new BigInt64Array(b), get: (v, at) => v.getBigInt64(at, true) },
  { label: "int32", size: 4, make: (b) => new Int32Array(b), get: (v, at) => v.getInt32(at, true) },
  { label: "int16", size: 2, make: (b) => new Int16Array(b), get: (v, at) => v.getInt16(at, true) },
  { label: "int8", size: 1, make: (b) => new Int8Array(b), get: (v, at) => v.getInt8(at) },
];

function readVector(r: ByteReader): LoraVector {
  const dimLo = r.u32();
  const dimHi = r.u32();
  const subtag = r.u8();
  const kind = subtag <= VECTOR_INTEGER8 ? VECTOR_KINDS[subtag] : undefined;
  if (kind === undefined) bad(`unknown vector value tag ${subtag}`);
  const n = r.count(`${kind.label} vector value`);
  // rawView bounds-checks n * size against the input before anything is allocated.
  const raw = r.rawView(n * kind.size);
  let values: VectorValues;
  if (LITTLE_ENDIAN_HOST || kind.size === 1) {
    values = kind.make(copyBytes(raw).buffer as ArrayBuffer);
  } else {
    values = kind.make(new ArrayBuffer(raw.byteLength));
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const target = values as unknown as (number | bigint)[];
    for (let i = 0; i < n; i++) target[i] = kind.get(view, i * kind.size);
  }
  if (dimHi !== 0 || dimLo !== n) {
    const declared = (BigInt(dimHi) << 32n) | BigInt(dimLo);
    bad(`vector dimension mismatch: declared ${declared}, got ${n}`);
  }
  return new LoraVector(values, dimHi * TWO_POW_32 + dimLo);
}

function readBinary(r: ByteReader): LoraBinary {
  const n = r.count("binary segment");
  const segments = new Array<Uint8Array>(n);
  for (let i = 0; i < n; i++) segments[i] = copyBytes(readBlob(r));
  return new LoraBinary(segments);
}

/** One PropertyValue. Lists and maps at `depth` hold values at `depth + 1`; depth 512 is refused. */
function readValue(c: Cursor, depth: number): PropertyValue {
  const r = c.r;
  const tag = r.u8();
  switch (tag) {
    case VALUE_NULL:
      return null;
    case VALUE_BOOL:
      return r.u8() !== 0;
    case VALUE_INT:
      return r.i64();
    case VALUE_FLOAT:
      return readF64(r, c.view);
    case VALUE_STRING:
      return readString(r);
    case VALUE_LIST: {
      if (depth >= MAX_NESTING_DEPTH) bad(`WAL property value nesting exceeds ${MAX_NESTING_DEPTH} levels`);
      const n = r.count("property list value");
      const list = new Array<PropertyValue>(n);
      for (let i = 0; i < n; i++) list[i] = readValue(c, depth + 1);
      return list;
    }
    case VALUE_MAP:
      if (depth >= MAX_NESTING_DEPTH) bad(`WAL property value nesting exceeds ${MAX_NESTING_DEPTH} levels`);
      return readMap(c, "property map entry", depth + 1);
    case VALUE_DATE:
      return new LoraDate(r.i32(), r.u32(), r.u32());
    case VALUE_TIME:
      return new LoraTime(r.u32(), r.u32(), r.u32(), r.u32(), r.i32());
    case VALUE_LOCAL_TIME:
      return new LoraLocalTime(r.u32(), r.u32(), r.u32(), r.u32());
    case VALUE_DATE_TIME:
      return new LoraDateTime(r.i32(), r.u32(), r.u32(), r.u32(), r.u32(), r.u32(), r.u32(), r.i32());
    case VALUE_LOCAL_DATE_TIME:
      return new LoraLocalDateTime(r.i32(), r.u32(), r.u32(), r.u32(), r.u32(), r.u32(), r.u32());
    case VALUE_DURATION:
      return new LoraDuration(r.i64(), r.i64(), r.i64(), r.i64());
    case VALUE_POINT: {
      const x = readF64(r, c.view);
      const y = readF64(r, c.view);
      const flag = r.u8();
      let z: F64 | undefined;
      if (flag === 1) z = readF64(r, c.view);
      else if (flag !== 0) bad(`invalid point z-presence tag ${flag}`);
      return new LoraPoint(x, y, z, r.u32());
    }
    case VALUE_VECTOR:
      return readVector(r);
    case VALUE_BINARY:
      return readBinary(r);
    default:
      return bad(`unknown WAL property value tag ${tag}`);
  }
}

function readEvent(c: Cursor): MutationEvent {
  const r = c.r;
  const tag = r.u8();
  switch (tag) {
    case TAG_CREATE_NODE: {
      const id = r.u64Big();
      const labels = readStringVec(r);
      return { type: "CreateNode", id, labels, properties: readMap(c, "property", 0) };
    }
    case TAG_CREATE_RELATIONSHIP: {
      const id = r.u64Big();
      const src = r.u64Big();
      const dst = r.u64Big();
      const relType = readString(r);
      return { type: "CreateRelationship", id, src, dst, relType, properties: readMap(c, "property", 0) };
    }
    case TAG_SET_NODE_PROPERTY: {
      const nodeId = r.u64Big();
      const key = readString(r);
      return { type: "SetNodeProperty", nodeId, key, value: readValue(c, 0) };
    }
    case TAG_REMOVE_NODE_PROPERTY: {
      const nodeId = r.u64Big();
      return { type: "RemoveNodeProperty", nodeId, key: readString(r) };
    }
    case TAG_ADD_NODE_LABEL: {
      const nodeId = r.u64Big();
      return { type: "AddNodeLabel", nodeId, label: readString(r) };
    }
    case TAG_REMOVE_NODE_LABEL: {
      const nodeId = r.u64Big();
      return { type: "RemoveNodeLabel", nodeId, label: readString(r) };
    }
    case TAG_SET_RELATIONSHIP_PROPERTY: {
      const relId = r.u64Big();
      const key = readString(r);
      return { type: "SetRelationshipProperty", relId, key, value: readValue(c, 0) };
    }
    case TAG_REMOVE_RELATIONSHIP_PROPERTY: {
      const relId = r.u64Big();
      return { type: "RemoveRelationshipProperty", relId, key: readString(r) };
    }
    case TAG_DELETE_RELATIONSHIP:
      return { type: "DeleteRelationship", relId: r.u64Big() };
    case TAG_DELETE_NODE:
      return { type: "DeleteNode", nodeId: r.u64Big() };
    case TAG_DETACH_DELETE_NODE:
      return { type: "DetachDeleteNode", nodeId: r.u64Big() };
    case TAG_CLEAR:
      return { type: "Clear" };
    case TAG_CREATE_INDEX: {
      const bytes = readBlob(r);
      let request: ReturnType<typeof decodeIndexRequest>;
      try {
        request = decodeIndexRequest(bytes);
      } catch (e) {
        throw new WalError("WAL_DECODE", `CreateIndex decode failed: ${(e as Error).message}`, { cause: e });
      }
      return { type: "CreateIndex", request, ifNotExists: r.u8() !== 0 };
    }
    case TAG_DROP_INDEX: {
      const name = readString(r);
      return { type: "DropIndex", name, ifExists: r.u8() !== 0 };
    }
    case TAG_CREATE_CONSTRAINT: {
      const bytes = readBlob(r);
      let request: ReturnType<typeof decodeConstraintRequest>;
      try {
        request = decodeConstraintRequest(bytes);
      } catch (e) {
        throw new WalError("WAL_DECODE", `CreateConstraint decode failed: ${(e as Error).message}`, { cause: e });
      }
      return { type: "CreateConstraint", request, ifNotExists: r.u8() !== 0 };
    }
    case TAG_DROP_CONSTRAINT: {
      const name = readString(r);
      return { type: "DropConstraint", name, ifExists: r.u8() !== 0 };
    }
    default:
      return bad(`unknown WAL mutation tag ${tag}`);
  }
}

function open(payload: Uint8Array): Cursor {
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
 * @throws {@link WalError} `WAL_DECODE`, and nothing else.
 */
export function decodeLw1Event(payload: Uint8Array): MutationEvent {
  try {
    const c = open(payload);
    const event = readEvent(c);
    finish(c.r);
    return event;
  } catch (e) {
    throw wrap(e);
  }
}

/**
 * Decode a batch payload (magic + u64 count + events), consuming every byte.
 * @throws {@link WalError} `WAL_DECODE`, and nothing else.
 */
export function decodeLw1Batch(payload: Uint8Array): MutationEvent[] {
  try {
    const c = open(payload);
    const n = c.r.count("WAL event");
    const events = new Array<MutationEvent>(n);
    for (let i = 0; i < n; i++) events[i] = readEvent(c);
    finish(c.r);
    return events;
  } catch (e) {
    throw wrap(e);
  }
}
